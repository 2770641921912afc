"""Write a model folder's card (``README.md``) from its ``meta.json``.

    python training/model_card.py models/NAME-vX [...]
"""

from __future__ import annotations

import json
from pathlib import Path

from commentqa.signals import SIGNAL_NAMES

INTENDED_USE = """\
Classifies social-media comments (Instagram, TikTok, YouTube, Facebook, Reddit) into
`reaction`, `question`, `conversation` and `spam` (see `training/GUIDELINES.md`), so that a
post's comment section can be scored for resonance and influencers compared for a campaign.
Use it on comment sections in aggregate. It is not meant for moderation decisions about one
person, and a single comment's label is a probability, not a verdict."""

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
  are often taken for reactions, which keeps conversation recall low as well.
- `unclear` (unreadable or empty text) is not predicted: empty text gets the label whose
  probability is highest for it (usually `reaction`)."""


def _table(rows: list[list[str]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def write_model_card(folder: Path) -> Path:
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    cv = meta.get("cross_validation", {})
    data = meta.get("training_data", {})
    dev = meta.get("dev_evaluation")
    scheme = cv.get("scheme", "stratified, shuffled")
    per_class = _table(
        [[k, f"{v['precision']:.3f}", f"{v['recall']:.3f}", f"{v['f1']:.3f}", str(v["support"])]
         for k, v in cv.get("per_class", {}).items()],
        ["label", "precision", "recall", "F1", "support"],
    )
    per_lang = _table(
        [[k, str(v["n"]), f"{v['macro_f1']:.3f}", f"{v['accuracy']:.3f}"]
         for k, v in cv.get("per_language", {}).items()],
        ["lang", "rows", "macro-F1", "accuracy"],
    )
    dev_text = "Not recorded for this version."
    if dev:
        dev_text = (
            f"Real comments, `../shared/corpus/dev_labels.jsonl` ({dev['n']} comments, never "
            f"trained on): macro-F1 **{dev['macro_f1']:.3f}**, accuracy {dev['accuracy']:.3f}.\n\n"
            + _table(
                [[k, f"{v['precision']:.3f}", f"{v['recall']:.3f}", f"{v['f1']:.3f}",
                  str(v["support"])] for k, v in dev["per_class"].items()],
                ["label", "precision", "recall", "F1", "support"],
            )
        )
    if dev and dev.get("unexposed"):
        un = dev["unexposed"]
        dev_text += (
            f"\n\nWithout the {dev['n'] - un['n']} dev comments listed in "
            f"`training/dev_exposed_ids.txt` (their text was read during error analysis): "
            + (f"{un['wrong']} of {un['n']} comments wrong. " if "wrong" in un else
               f"accuracy {un['accuracy']:.3f} on {un['n']} comments. ")
            + "The subset is made of "
            "comments some model got right, so it is no estimate of accuracy; it only shows "
            "whether a model lost comments nobody here has read."
        )
    baseline = meta.get("baseline_dev")
    if dev and baseline:
        dev_text += (
            f"\n\nReference on the same dev comments: {baseline['model']} trained on the same "
            f"`training/data` reached macro-F1 {baseline['macro_f1']:.3f}, accuracy "
            f"{baseline['accuracy']:.3f} (`{baseline['command']}`)."
        )
    text = f"""# Model card: {meta['name']} v{meta['version']}

Created {meta['created']} with {', '.join(f'{k} {v}' for k, v in meta['libraries'].items())}.

## Intended use
{INTENDED_USE}

## Model
Normalised text (emoji as named tokens, @handles, URLs and numbers as placeholders) ->
word 1-2-gram TF-IDF + within-word character 2-5-gram TF-IDF + {len(SIGNAL_NAMES)} text
signals (emoji, mentions, hashtags, URLs, question/request/spam cues in several
languages, elongation, caps, length) -> multinomial logistic regression
(C={meta.get('params', {}).get('C')}) with sigmoid-calibrated probabilities.
Labels: {', '.join(meta['labels'])}.

## Training data
{data.get('rows')} comments in `training/data` (files {', '.join(data.get('files', []))};
SHA-256 `{data.get('sha256')}`), written and labeled by the team with `training/GUIDELINES.md`.

- labels: {data.get('labels')}
- languages: {data.get('languages')}
- platforms: {data.get('platforms')}
- niches: {data.get('niches')}

## Metrics
### Cross-validation on the training corpus ({cv.get('folds')} folds, {scheme})
Macro-F1 {cv.get('macro_f1')}, accuracy {cv.get('accuracy')}. This measures fit to our own
writing, not accuracy on real comments.

{per_class}

Per language (groups with at least 30 rows):

{per_lang}

### Real comments (development set)
{dev_text}

## Known limits
{LIMITS}
"""
    path = folder / "README.md"
    path.write_text(text, encoding="utf-8")
    return path


if __name__ == "__main__":
    import sys

    if len(sys.argv) < 2:
        raise SystemExit("usage: python training/model_card.py MODEL_DIR [MODEL_DIR ...]")
    for name in sys.argv[1:]:
        print(write_model_card(Path(name)))
