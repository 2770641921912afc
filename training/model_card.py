"""Write the card (``README.md``) of a model trained on ``training/data`` from its ``meta.json``.

    python training/model_card.py models/NAME-vX [...]
"""

from __future__ import annotations

from pathlib import Path

from commentqa import model_card

DATA_DESCRIPTION = ("The files are in `training/data`, written and labeled by the team with "
                    "`training/GUIDELINES.md`.")

LIMITS = """\
- Trained on comments written by the commentqa team to mirror real comment sections, not on
  real comments; the real development set in `../shared/corpus` measures the gap (see Metrics).
- Sees the comment text only: it cannot know the post, so a comment whose meaning depends on
  the post or on the thread (a reply in a scam thread, an inside joke) can be mislabeled.
- Languages with few training rows (the long tail beyond English, Spanish, Portuguese,
  Malay/Indonesian, Hindi in Latin script, French, German and Tagalog) fall back on emoji,
  punctuation and character n-grams, and are less accurate.
- Sarcasm, lyric quotes and rhetorical questions sit on the reaction/conversation border.
- Words that spam lives on also occur in ordinary talk ("follow", "DM", "link", a brand's own
  web address): such comments are pulled toward spam, and on the real development set spam
  precision is the weakest figure. Short specific remarks ("mine came in grey, not blue")
  are often taken for reactions, which keeps conversation recall low as well. A brand's
  customer-care reply that says "DM us" can read as spam.
- Models trained with emoji variants read past emoji: a substantive comment keeps its label
  with emoji added, but a short plain remark gets no help from having none.
- `unclear` (unreadable or empty text) is not predicted: empty text gets the label whose
  probability is highest for it (usually `reaction`)."""


def write_model_card(folder: Path) -> Path:
    return model_card.write_model_card(folder, limits=LIMITS, data_description=DATA_DESCRIPTION,
                                       dev_section=True)


if __name__ == "__main__":
    import sys

    if len(sys.argv) < 2:
        raise SystemExit("usage: python training/model_card.py MODEL_DIR [MODEL_DIR ...]")
    for name in sys.argv[1:]:
        print(write_model_card(Path(name)))
