"""The user-facing model: labels, batch prediction, single-comment classification and
explanations, around a fitted scikit-learn pipeline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from sklearn.pipeline import Pipeline

from .features import CommentFeaturizer
from .labels import LABELS
from .linear import CalibratedLinearHead
from .normalize import clear_caches
from .signals import extract_signals

__all__ = ["CHUNK_TEXTS", "CommentModel", "Prediction"]

#: Distinct texts featurised and scored at a time by the fast path.
CHUNK_TEXTS = 4096


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
    themselves ("🔥🔥🔥", "wow"), so duplicates cost a dictionary lookup. Features come from
    a :class:`~commentqa.features.CommentFeaturizer` when the pipeline has the
    :func:`~commentqa.build_pipeline` shape (same values, much faster), else from the
    pipeline itself; a calibrated linear classifier is then scored block by block
    (:class:`~commentqa.linear.CalibratedLinearHead`).
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
        unique, inverse = _distinct(texts)
        if not unique:
            return np.zeros((0, len(LABELS)))
        featurizer, head = self._featurizer, self._head
        if featurizer is None:
            proba = self.pipeline.predict_proba(unique)
        else:  # in chunks: small arrays are reused, the whole matrix never exists
            classifier = self.pipeline[-1]
            chunks = (unique[i : i + CHUNK_TEXTS] for i in range(0, len(unique), CHUNK_TEXTS))
            proba = np.vstack([
                classifier.predict_proba(featurizer.transform(chunk)) if head is None
                else head.predict_proba(featurizer.blocks(chunk)) for chunk in chunks
            ])
        return proba[:, self._order][inverse]

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

    def clear_cache(self) -> None:
        """Forget memoised tokens (kept between calls, they make the next calls faster)."""
        clear_caches()
        if self._featurizer is not None:
            self._featurizer.clear()
        for step in self.pipeline.named_steps.values():
            for part in (step, *getattr(step, "named_transformers_", {}).values()):
                if hasattr(part, "clear_cache"):
                    part.clear_cache()

    @cached_property
    def _featurizer(self) -> CommentFeaturizer | None:
        return CommentFeaturizer.from_pipeline(self.pipeline)

    @cached_property
    def _head(self) -> CalibratedLinearHead | None:
        """The classifier scored block by block, when it is a calibrated linear model."""
        return CalibratedLinearHead.from_classifier(self.pipeline[-1])

    def __getstate__(self):
        state = self.__dict__.copy()
        for memo in ("_featurizer", "_head"):  # run-time views, rebuilt on use
            state.pop(memo, None)
        return state

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


def _distinct(texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """The distinct texts in first-seen order, and each text's index among them."""
    texts = list(texts)
    if not set(map(type, texts)) <= {str}:
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise TypeError(f"text at position {i} is {type(t).__name__}, not str")
    unique = list(dict.fromkeys(texts))
    if len(unique) == len(texts):
        return unique, np.arange(len(texts))
    index = dict(zip(unique, range(len(unique))))
    return unique, np.fromiter(map(index.__getitem__, texts), np.intp, len(texts))
