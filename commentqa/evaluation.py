"""Comparing classifiers on the same labeled comments.

- :func:`macro_f1` is scikit-learn's macro-averaged F1 (classes found in the gold or the
  predicted labels), computed from label codes so that it is cheap to repeat.
- :func:`paired_bootstrap` says how sure a macro-F1 difference between two models is: the
  same comments are resampled for both models, so the interval reflects the comments on
  which they disagree, not the noise they share.

>>> gold = ["reaction", "question", "spam", "question"]
>>> paired_bootstrap(gold, ["reaction"] * 4, gold, resamples=200).disagree
3
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from .labels import LABELS

if TYPE_CHECKING:
    from .labeled import LabeledComments
    from .model import CommentModel

__all__ = ["PairedDifference", "classification_report", "evaluate_models", "macro_f1",
           "paired_bootstrap"]

_BLOCK = 256  # resamples scored at once: bounds memory to _BLOCK * n codes


def _codes(*label_lists: Sequence[str]) -> tuple[list[np.ndarray], int]:
    classes = sorted(set().union(*map(set, label_lists)))
    index = {c: i for i, c in enumerate(classes)}
    return [np.fromiter((index[x] for x in labels), np.int64, len(labels))
            for labels in label_lists], len(classes)


def _macro_f1_rows(gold: np.ndarray, pred: np.ndarray, k: int) -> np.ndarray:
    """Macro-F1 of each row of ``gold``/``pred`` (2-D label codes, ``k`` classes); a class
    that a row neither holds nor predicts is left out of that row's average."""
    rows = gold.shape[0]
    cells = (gold * k + pred + (np.arange(rows) * k * k)[:, None]).ravel()
    confusion = np.bincount(cells, minlength=rows * k * k).reshape(rows, k, k)
    tp = np.diagonal(confusion, axis1=1, axis2=2)
    support, predicted = confusion.sum(axis=2), confusion.sum(axis=1)
    denominator = support + predicted
    present = denominator > 0
    f1 = np.divide(2 * tp, denominator, out=np.zeros(tp.shape), where=present)
    return f1.sum(axis=1) / np.maximum(present.sum(axis=1), 1)


def macro_f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    """Macro-averaged F1 over the classes found in ``gold`` or ``pred``."""
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold labels but {len(pred)} predictions")
    (g, p), k = _codes(gold, pred)
    return float(_macro_f1_rows(g[None, :], p[None, :], k)[0])


@dataclass(frozen=True)
class PairedDifference:
    """Model B against model A on the same ``n`` comments."""

    n: int
    macro_f1_a: float
    macro_f1_b: float
    disagree: int  # comments the two models label differently
    only_a_right: int
    only_b_right: int
    low: float  # bootstrap interval of macro_f1_b - macro_f1_a
    high: float
    level: float
    resamples: int

    @property
    def difference(self) -> float:
        return self.macro_f1_b - self.macro_f1_a

    def line(self) -> str:
        return (f"differ on {self.disagree} of {self.n} comments (A alone right on "
                f"{self.only_a_right}, B alone on {self.only_b_right}); macro-F1 B - A "
                f"{self.difference:+.3f}, {self.level:.0%} paired bootstrap interval "
                f"[{self.low:+.3f}, {self.high:+.3f}] ({self.resamples:,} resamples)")


def paired_bootstrap(gold: Sequence[str], pred_a: Sequence[str], pred_b: Sequence[str], *,
                     resamples: int = 2000, level: float = 0.9,
                     seed: int = 0) -> PairedDifference:
    """Percentile interval of the macro-F1 difference B - A, resampling comments."""
    if not len(gold) == len(pred_a) == len(pred_b):
        raise ValueError("gold labels and both predictions must have the same length")
    if not len(gold):
        raise ValueError("no labeled comments to compare on")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    (g, a, b), k = _codes(gold, pred_a, pred_b)
    rng = np.random.default_rng(seed)
    diffs = []
    for start in range(0, resamples, _BLOCK):
        idx = rng.integers(0, len(g), size=(min(_BLOCK, resamples - start), len(g)))
        diffs.append(_macro_f1_rows(g[idx], b[idx], k) - _macro_f1_rows(g[idx], a[idx], k))
    low, high = np.quantile(np.concatenate(diffs), [(1 - level) / 2, (1 + level) / 2])
    right_a, right_b = a == g, b == g
    return PairedDifference(
        n=len(g), macro_f1_a=float(_macro_f1_rows(g[None], a[None], k)[0]),
        macro_f1_b=float(_macro_f1_rows(g[None], b[None], k)[0]),
        disagree=int((a != b).sum()), only_a_right=int((right_a & ~right_b).sum()),
        only_b_right=int((right_b & ~right_a).sum()), low=float(low), high=float(high),
        level=level, resamples=resamples)


def classification_report(gold: Sequence[str], pred: Sequence[str]) -> dict:
    """Macro-F1, accuracy, per-class precision/recall/F1/support and the confusion matrix
    (rows: gold, columns: predicted, both in :data:`~commentqa.LABELS` order)."""
    if len(gold) != len(pred):
        raise ValueError("gold and predicted labels must have the same length")
    if not len(gold):
        raise ValueError("no labeled comments to measure on")
    index = {label: i for i, label in enumerate(LABELS)}
    unknown = (set(gold) | set(pred)) - set(index)
    if unknown:
        raise ValueError(f"labels must be among {', '.join(LABELS)}, got {sorted(unknown)}")
    g = np.fromiter(map(index.__getitem__, gold), np.int64, len(gold))
    p = np.fromiter(map(index.__getitem__, pred), np.int64, len(pred))
    confusion = np.zeros((len(LABELS), len(LABELS)), dtype=np.int64)
    np.add.at(confusion, (g, p), 1)
    per_class = {}
    for i, label in enumerate(LABELS):
        right, predicted, support = confusion[i, i], confusion[:, i].sum(), confusion[i].sum()
        precision = right / predicted if predicted else 0.0
        recall = right / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {"precision": round(float(precision), 4),
                            "recall": round(float(recall), 4), "f1": round(float(f1), 4),
                            "support": int(support)}
    return {"n": len(g), "macro_f1": round(macro_f1(gold, pred), 4),
            "accuracy": round(float((g == p).mean()), 4), "per_class": per_class,
            "confusion": confusion.tolist()}


def evaluate_models(models: Sequence[CommentModel], data: LabeledComments, *,
                    given: Sequence[str] | None = None, resamples: int = 2000,
                    level: float = 0.9, seed: int = 0) -> dict:
    """Every figure of ``models`` on ``data``: each model's :func:`classification_report`,
    then each later model against the first (:func:`paired_bootstrap`), and the rows
    skipped (``rows_read == rows_used + len(skipped)``).

    ``given`` is how the user named each model (a path, ``default``): it is recorded, and
    tells apart models whose name and version are the same.
    """
    given = list(given or [m.name for m in models])
    names = [m.name for m in models]
    names = [n if names.count(n) == 1 else f"{n} ({g})" for n, g in zip(names, given)]
    preds = [m.predict(data.texts) for m in models]
    return {
        "source": data.source, "rows_read": data.rows_read, "rows_used": len(data.gold),
        "skipped": [{"line": line, "reason": reason} for line, reason in data.skipped],
        "models": [{"model": name, "given": g, **classification_report(data.gold, pred)}
                   for name, g, pred in zip(names, given, preds)],
        "paired_differences": [_difference(names[0], name, paired_bootstrap(
            data.gold, preds[0], pred, resamples=resamples, level=level, seed=seed))
            for name, pred in zip(names[1:], preds[1:])],
    }


def _difference(a: str, b: str, diff: PairedDifference) -> dict:
    return {"a": a, "b": b, **asdict(diff), "summary": diff.line()}
