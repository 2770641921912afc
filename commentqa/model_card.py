"""A model folder's card (``README.md``), written from its ``meta.json``."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .augment import PROBE_EMOJI
from .featurizer import CHAR_NGRAMS, WORD_NGRAMS
from .signals import SIGNAL_NAMES

__all__ = ["INTENDED_USE", "write_model_card"]

INTENDED_USE = """\
Classifies social-media comments (Instagram, TikTok, YouTube, Facebook, Reddit) into
`reaction`, `question`, `conversation` and `spam` (see `training/GUIDELINES.md`), so that a
post's comment section can be scored for resonance and influencers compared for a campaign.
Use it on comment sections in aggregate. It is not meant for moderation decisions about one
person, and a single comment's label is a probability, not a verdict."""

#: Known limits of any model trained on labels the user brings (``commentqa train``).
RETRAINED_LIMITS = """\
- Its figures come from cross-validation on the labels it was trained on. They measure how
  well it fits those labels, not how it does on comments from elsewhere: measure that with
  `commentqa evaluate` on labeled comments it never saw.
- It knows only what its training rows show: labels, languages and platforms with few rows
  are less accurate, and it inherits the labelers' disagreements.
- Sees the comment text only: it cannot know the post, so a comment whose meaning depends on
  the post or on the thread can be mislabeled."""


def _table(rows: list[list[str]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _per_class(per_class: dict) -> str:
    return _table(
        [[k, f"{v['precision']:.3f}", f"{v['recall']:.3f}", f"{v['f1']:.3f}", str(v["support"])]
         for k, v in per_class.items()],
        ["label", "precision", "recall", "F1", "support"],
    )


def _data_section(data: dict, description: str | None) -> str:
    files = ", ".join(data.get("files", []))
    head = f"{data.get('rows')} labeled comments"
    if files:
        head += f" from {files}"
    if data.get("sha256"):
        head += f" (SHA-256 `{data['sha256']}`)"
    head += "."
    if description:
        head += f" {description}"
    lines = [head, "", f"- labels: {data.get('labels')}"]
    for key in ("languages", "platforms", "niches"):
        if data.get(key):
            lines.append(f"- {key}: {data[key]}")
    if data.get("rows_skipped"):
        lines.append(f"- rows skipped (no usable text or label): {data['rows_skipped']}")
    if data.get("weights"):
        w = data["weights"]
        lines.append(f"- row weights in the fit: sum {w['sum']:g}, from {w['min']:g} to "
                     f"{w['max']:g}")
    if data.get("emoji_variants"):
        lines.append(f"- emoji variants of rows added in the fit: {data['emoji_variants']}")
    if data.get("repeated_texts"):
        lines.append(f"- rows repeating an earlier row's text: {data['repeated_texts']}")
    if data.get("conflicting_texts"):
        lines.append(f"- texts given different labels on different rows: "
                     f"{data['conflicting_texts']}")
    return "\n".join(lines)


#: How the card names each calibration (``params.calibration`` in ``meta.json``; models
#: trained before it was recorded used Platt scaling).
_CALIBRATED = {
    "sigmoid": "probabilities calibrated by Platt scaling of each class",
    "temperature": "probabilities calibrated by temperature scaling (one temperature for "
    "all classes, so the regression's own decision is kept)",
    "isotonic": "probabilities calibrated by isotonic regression of each class",
}


def _span(params: dict, key: str, default: tuple[int, int]) -> str:
    """An n-gram range of ``params`` as "1-2" (models saved before it was recorded: the
    default, which every one of them used)."""
    low, high = params.get(key) or default
    return f"{low}-{high}"


def _calibrated(method: str) -> str:
    return _CALIBRATED.get(method, f"probabilities calibrated by {method}")


def _cv_section(cv: dict | None) -> str:
    if not cv:
        return "Not cross-validated."
    text = (f"### Cross-validation on the training data ({cv.get('folds')} folds, "
            f"{cv.get('scheme', 'stratified, shuffled')})\n"
            f"Macro-F1 {cv.get('macro_f1')}, accuracy {cv.get('accuracy')}"
            + (f", log loss {cv['log_loss']}, Brier score {cv['brier']}" if "log_loss" in cv
               else "")
            + ". This measures fit to the training data's own labels, not accuracy on comments "
            "from elsewhere.\n\n"
            + _per_class(cv.get("per_class", {})))
    emoji = cv.get("emoji_appended")
    if emoji:
        probes = ", ".join(f"`{e}`" for e in PROBE_EMOJI)
        text += (f"\n\nThe same held-out comments with an emoji appended ({probes} in turn): "
                 f"macro-F1 {emoji['macro_f1']}; {emoji['changed']:.1%} of the predictions "
                 "change.")
    if cv.get("per_language"):
        text += "\n\nPer language (groups with at least 30 rows):\n\n" + _table(
            [[k, str(v["n"]), f"{v['macro_f1']:.3f}", f"{v['accuracy']:.3f}"]
             for k, v in cv["per_language"].items()],
            ["lang", "rows", "macro-F1", "accuracy"],
        )
    return text


def _dev_section(meta: dict) -> str:
    dev = meta.get("dev_evaluation")
    if not dev:
        return "Not recorded for this version."
    text = (f"Real comments, `../shared/corpus/dev_labels.jsonl` ({dev['n']} comments, never "
            f"trained on): macro-F1 **{dev['macro_f1']:.3f}**, accuracy {dev['accuracy']:.3f}."
            "\n\n" + _per_class(dev["per_class"]))
    if dev.get("emoji_appended"):
        emoji = dev["emoji_appended"]
        text += (f"\n\nWith an emoji appended to every comment: macro-F1 {emoji['macro_f1']:.3f}; "
                 f"{emoji['changed']:.1%} of the dev predictions change, and "
                 f"{emoji['real_changed']:.1%} of those on all {emoji['real_n']:,} real comments "
                 "of the corpus.")
    if dev.get("unexposed"):
        un = dev["unexposed"]
        text += (
            f"\n\nWithout the {dev['n'] - un['n']} dev comments listed in "
            f"`training/dev_exposed_ids.txt` (their text was read during error analysis): "
            + (f"{un['wrong']} of {un['n']} comments wrong. " if "wrong" in un else
               f"accuracy {un['accuracy']:.3f} on {un['n']} comments. ")
            + "The subset is made of comments some model got right, so it is no estimate of "
            "accuracy; it only shows whether a model lost comments nobody here has read."
        )
    baseline = meta.get("baseline_dev")
    if baseline:
        text += (
            f"\n\nReference on the same dev comments: {baseline['model']} trained on the same "
            f"`training/data` reached macro-F1 {baseline['macro_f1']:.3f}, accuracy "
            f"{baseline['accuracy']:.3f} (`{baseline['command']}`)."
        )
    return text


def write_model_card(folder: str | os.PathLike, *, intended_use: str = INTENDED_USE,
                     limits: str = RETRAINED_LIMITS, data_description: str | None = None,
                     dev_section: bool = False) -> Path:
    """Write ``folder/README.md`` from ``folder/meta.json`` and return its path.

    ``data_description`` is a sentence on where the training data came from. The metrics
    come from ``cross_validation`` and, when present (or ``dev_section`` asks for the
    section anyway), ``dev_evaluation``: the real development set of ``../shared/corpus``.
    """
    folder = Path(folder)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    params = meta.get("params", {})
    candidates = params.get("C_candidates")
    chosen = ""
    if candidates and len(candidates) > 1:
        chosen = (" C was chosen by cross-validated macro-F1 among " + ", ".join(
            f"{c['C']:g} ({c['macro_f1']:.4f})" for c in candidates) + ".")
    rate = params.get("emoji_rate")
    if rate:
        chosen += (f" Trained with emoji variants: {rate:.0%} of the rows also appear with emoji "
                   "added (or removed, where they had some) under the same label "
                   "(`commentqa.augment`), so that emoji alone do not sway the label.")
    dev = ""
    if dev_section or meta.get("dev_evaluation"):
        dev = f"\n### Real comments (development set)\n{_dev_section(meta)}\n"
    text = f"""# Model card: {meta['name']} v{meta['version']}

Created {meta['created']} with {', '.join(f'{k} {v}' for k, v in meta['libraries'].items())}.

## Intended use
{intended_use}

## Model
Normalised text (emoji as named tokens, @handles, URLs and numbers as placeholders) ->
word {_span(params, 'word_ngrams', WORD_NGRAMS)}-gram TF-IDF + within-word character \
{_span(params, 'char_ngrams', CHAR_NGRAMS)}-gram TF-IDF + {len(SIGNAL_NAMES)} text
signals (emoji, mentions, hashtags, URLs, question/request/spam cues in several
languages, elongation, caps, length) -> multinomial logistic regression
(C={params.get('C')}) with {_calibrated(params.get('calibration', 'sigmoid'))}.{chosen}
Labels: {', '.join(meta['labels'])}.

## Training data
{_data_section(meta.get('training_data', {}), data_description)}

## Metrics
{_cv_section(meta.get('cross_validation'))}
{dev}
## Known limits
{limits}
"""
    path = folder / "README.md"
    path.write_text(text, encoding="utf-8")
    return path
