"""The user-facing model: labels, batch prediction, single-comment classification and
explanations, around a fitted scikit-learn pipeline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.pipeline import Pipeline

from .labels import LABELS
from .signals import extract_signals

__all__ = ["CommentModel", "Prediction"]


@dataclass(frozen=True)
class Prediction:
    """One classified comment."""

    text: str
    label: str
    scores: dict[str, float]
    signals: dict[str, float] = field(repr=False)


class CommentModel:
    """A fitted comment classifier with its metadata.

    ``predict`` and ``predict_proba`` score each distinct text once: comment dumps repeat
    themselves ("🔥🔥🔥", "wow"), so duplicates cost a dictionary lookup.
    """

    def __init__(self, pipeline: Pipeline, meta: dict | None = None):
        classes = [str(c) for c in pipeline.classes_]
        if sorted(classes) != sorted(LABELS):
            raise ValueError(f"pipeline classes {classes} are not the commentqa labels {LABELS}")
        self.pipeline = pipeline
        self.meta = dict(meta or {})
        # Column order of predict_proba follows LABELS, whatever order the pipeline uses.
        self._order = np.asarray([classes.index(label) for label in LABELS])

    @property
    def labels(self) -> tuple[str, ...]:
        return LABELS

    @property
    def name(self) -> str:
        return f"{self.meta.get('name', 'commentqa')}-v{self.meta.get('version', '0')}"

    def __repr__(self) -> str:
        return f"<CommentModel {self.name}>"

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities, shape ``(n, 4)``, columns in :attr:`labels` order."""
        if isinstance(texts, str):
            raise TypeError("predict_proba expects a list of texts; use classify() for one")
        index: dict[str, int] = {}
        inverse = np.fromiter(
            (index.setdefault(t, len(index)) for t in _checked(texts)), dtype=np.intp
        )
        if not index:
            return np.zeros((0, len(LABELS)))
        proba = self.pipeline.predict_proba(list(index))[:, self._order]
        return proba[inverse]

    def predict(self, texts: Sequence[str]) -> list[str]:
        """One label per text."""
        proba = self.predict_proba(texts)
        return [LABELS[i] for i in proba.argmax(axis=1)]

    def classify(self, text: str) -> Prediction:
        """Label, per-label probabilities and text signals of one comment."""
        if not isinstance(text, str):
            raise TypeError(f"classify expects a str, got {type(text).__name__}")
        proba = self.predict_proba([text])[0]
        scores = {label: float(p) for label, p in zip(LABELS, proba)}
        return Prediction(text, LABELS[int(proba.argmax())], scores, extract_signals(text))

    def explain(self, text: str, top: int = 10) -> list[tuple[str, float]]:
        """The features that pushed ``text`` toward its predicted label the most.

        Returns ``(feature, contribution)`` pairs, largest first; a contribution is the
        feature's value times its weight for the predicted label minus its mean weight
        over all labels (the linear model's logit share).
        """
        label = self.classify(text).label
        prep = self.pipeline.named_steps["prepare"]
        features = self.pipeline.named_steps["features"]
        linear = self.pipeline.named_steps["classifier"].calibrated_classifiers_[0].estimator
        x = features.transform(prep.transform([text])).tocsr()
        classes = [str(c) for c in linear.classes_]
        coef = linear.coef_
        weights = coef[classes.index(label)] - coef.mean(axis=0)
        names = features.get_feature_names_out()
        contrib = x.data * weights[x.indices]
        order = np.argsort(-contrib)[:top]
        return [(str(names[x.indices[i]]), float(contrib[i])) for i in order if contrib[i] > 0]


def _checked(texts):
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"text at position {i} is {type(t).__name__}, not str")
        yield t
