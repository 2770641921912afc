"""The user-facing model: labels, batch prediction, single-comment classification and
explanations, around a fitted scikit-learn pipeline."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from .featurizer import CommentFeaturizer
from .labels import LABELS
from .linear import CalibratedLinearHead
from .normalize import clear_caches
from .signals import extract_signals

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

    from .compiled import CompiledModel

__all__ = ["CHUNK_TEXTS", "CommentModel", "Prediction"]

#: Distinct texts featurised and scored at a time by the fast path. Their arrays come and
#: go with each chunk (about 11 MB at 2,048 texts of a typical dump, 22 MB at 4,096), and a
#: batch worker's heap holds their high-water mark; halving it from 4,096 changed speed by
#: less than the spread of alternating runs.
CHUNK_TEXTS = 2048
#: Texts up to this many characters have their probabilities remembered between calls:
#: short comments ("wow", "🔥🔥🔥", "so cute 😍") recur all through a dump, long ones rarely.
MEMO_MAX_CHARS = 64
#: Short texts remembered at most (about 2 MB: the heavy hitters of a dump fit, and the
#: memo is full long before a big run ends, so memory does not grow with input size); the
#: memo starts over when it is full.
MEMO_TEXTS = 1 << 13


class _ProbaMemo:
    """Probabilities of recently scored short texts, in one preallocated array.

    Safe to share between threads: readers take the (index, table) pair at once, a slot is
    filled before its text is indexed, and a full memo is replaced, never overwritten.
    """

    def __init__(self, width: int, capacity: int) -> None:
        self.width, self.capacity = width, capacity
        self.state: tuple[dict[str, int], np.ndarray] = ({}, np.empty((capacity, width)))
        self._lock = threading.Lock()

    def lookup(self, texts: list[str], out: np.ndarray) -> np.ndarray:
        """Fill ``out``'s rows of remembered texts; return the positions of the others."""
        index, table = self.state
        get = index.get
        rows = np.fromiter((get(t, -1) for t in texts), np.intp, len(texts))
        known = rows >= 0
        out[known] = table[rows[known]]
        return np.flatnonzero(~known)

    def remember(self, texts: list[str], proba: np.ndarray) -> None:
        short = [i for i, t in enumerate(texts) if len(t) <= MEMO_MAX_CHARS][: self.capacity]
        with self._lock:
            index, table = self.state
            # Another thread may have scored and remembered some of them meanwhile: adding
            # them again would leave rows in use past len(index), the next free row.
            short = [i for i in short if texts[i] not in index]
            if len(index) + len(short) > self.capacity:
                index, table = {}, np.empty((self.capacity, self.width))
            start = len(index)
            table[start : start + len(short)] = proba[short]
            index.update(zip((texts[i] for i in short), range(start, start + len(short))))
            self.state = (index, table)


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
    themselves ("🔥🔥🔥", "wow"), so duplicates cost a dictionary lookup, within a call and,
    for texts up to :data:`MEMO_MAX_CHARS` characters, across calls. Features come from
    a :class:`~commentqa.featurizer.CommentFeaturizer` when the pipeline has the
    :func:`~commentqa.build_pipeline` shape (same values, much faster), else from the
    pipeline itself; a calibrated linear classifier is then scored block by block
    (:class:`~commentqa.linear.CalibratedLinearHead`).

    A model loaded from a folder with compiled arrays (:mod:`commentqa.compiled`) predicts
    from those and loads its pipeline only when something asks for it (:attr:`pipeline`,
    :meth:`explain`).
    """

    def __init__(self, pipeline: Pipeline, meta: dict | None = None):
        self._pipeline: Pipeline | None = pipeline
        self._load_pipeline: Callable[[], Pipeline] | None = None
        self._compiled: CompiledModel | None = None
        self._setup([str(c) for c in pipeline.classes_], meta)

    @classmethod
    def from_compiled(cls, compiled: CompiledModel, meta: dict | None,
                      load_pipeline: Callable[[], Pipeline]) -> CommentModel:
        """A model that predicts from ``compiled`` and calls ``load_pipeline`` (once) when
        its pipeline is needed."""
        model = cls.__new__(cls)
        model._pipeline, model._load_pipeline, model._compiled = None, load_pipeline, compiled
        model._setup(list(compiled.classes), meta)
        return model

    def _setup(self, classes: list[str], meta: dict | None) -> None:
        if sorted(classes) != sorted(LABELS):
            raise ValueError(f"pipeline classes {classes} are not the commentqa labels {LABELS}")
        self.meta = dict(meta or {})
        # Column order of predict_proba follows LABELS, whatever order the pipeline uses.
        self._order = np.asarray([classes.index(label) for label in LABELS])
        self._score_lock = threading.Lock()

    @property
    def pipeline(self) -> Pipeline:
        """The fitted scikit-learn pipeline (loaded on first use for a compiled model)."""
        if self._pipeline is None:
            assert self._load_pipeline is not None
            self._pipeline = self._load_pipeline()
        return self._pipeline

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
        proba = np.empty((len(unique), len(LABELS)))
        new = self._memo.lookup(unique, proba)
        if len(new):
            fresh = [unique[i] for i in new]
            proba[new] = self._score(fresh)
            self._memo.remember(fresh, proba[new])
        return proba[inverse]

    def _score(self, texts: list[str]) -> np.ndarray:
        """Probabilities of distinct texts, columns in :attr:`labels` order.

        One call at a time: the featuriser's token memo is not safe to grow from two threads.
        """
        with self._score_lock:
            return self._score_unlocked(texts)

    def _score_unlocked(self, texts: list[str]) -> np.ndarray:
        featurizer, head = self._featurizer, self._head
        if featurizer is None:
            proba = self.pipeline.predict_proba(texts)
        else:  # in chunks: small arrays are reused, the whole matrix never exists
            chunks = (texts[i : i + CHUNK_TEXTS] for i in range(0, len(texts), CHUNK_TEXTS))
            proba = np.vstack([
                self.pipeline[-1].predict_proba(featurizer.transform(chunk)) if head is None
                else head.predict_proba(featurizer.blocks(chunk)) for chunk in chunks
            ])
        return proba[:, self._order]

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

    def prepare(self) -> None:
        """Build now the lookup tables that predicting otherwise builds on first use (the
        featuriser's vocabulary indexes, the n-gram index for unseen words: about 30 MB).
        A process about to fork workers calls it first, so that they share one copy of the
        tables instead of each building its own."""
        if self._featurizer is not None:
            self._featurizer.prepare()
        self._head  # noqa: B018 - built here, for the same reason

    def clear_cache(self) -> None:
        """Forget memoised tokens (kept between calls, they make the next calls faster).
        Safe while other threads predict: it waits for the featuriser."""
        clear_caches()
        self.__dict__.pop("_memo", None)
        with self._score_lock:  # the featuriser's memos are emptied in place
            if self._featurizer is not None:
                self._featurizer.clear()
        if self._pipeline is None:  # not loaded: it holds no memo
            return
        for step in self._pipeline.named_steps.values():
            for part in (step, *getattr(step, "named_transformers_", {}).values()):
                if hasattr(part, "clear_cache"):
                    part.clear_cache()

    @cached_property
    def _featurizer(self) -> CommentFeaturizer | None:
        if self._compiled is not None:
            return self._compiled.featurizer()
        return CommentFeaturizer.from_pipeline(self.pipeline)

    @cached_property
    def _feature_names(self) -> np.ndarray:
        """Names of the pipeline's feature columns (built once: 100,000 strings)."""
        return self.pipeline.named_steps["features"].get_feature_names_out()

    @cached_property
    def _memo(self) -> _ProbaMemo:
        return _ProbaMemo(len(LABELS), MEMO_TEXTS)

    @cached_property
    def _head(self) -> CalibratedLinearHead | None:
        """The classifier scored block by block, when it is a calibrated linear model."""
        if self._compiled is not None:
            return self._compiled.head
        return CalibratedLinearHead.from_classifier(self.pipeline[-1])

    def __getstate__(self):
        self.pipeline  # noqa: B018 - load it: a pickle must not depend on a folder's files
        state = self.__dict__.copy()
        state["_load_pipeline"] = None
        for memo in ("_featurizer", "_head", "_memo", "_feature_names",
                     "_score_lock"):  # rebuilt on use
            state.pop(memo, None)
        return state

    def __setstate__(self, state) -> None:
        self.__dict__.update(state)
        self._score_lock = threading.Lock()

    def explain(self, text: str, top: int = 10) -> list[tuple[str, float]]:
        """The features that pushed ``text`` toward its predicted label the most.

        Returns ``(feature, contribution)`` pairs, largest first; a contribution is the
        feature's value times its weight for the predicted label minus its mean weight
        over all labels (the linear model's logit share).
        """
        if not isinstance(top, int) or top < 1:
            raise ValueError(f"top must be a positive integer, got {top!r}")
        label = self.classify(text).label
        prep = self.pipeline.named_steps["prepare"]
        features = self.pipeline.named_steps["features"]
        calibrated = self.pipeline.named_steps["classifier"]
        linear = calibrated.calibrated_classifiers_[0].estimator
        with self._score_lock:  # the transformers' memos grow as predicting's do
            x = features.transform(prep.transform([text])).tocsr()
        # the coefficient rows follow the calibrated classifier's classes (temperature
        # scaling fits the regression on their codes, 0 to k-1, in that order)
        classes = [str(c) for c in calibrated.classes_]
        coef = linear.coef_
        weights = coef[classes.index(label)] - coef.mean(axis=0)
        names = self._feature_names
        contrib = x.data * weights[x.indices]
        order = np.argsort(-contrib)[:top]
        return [(str(names[x.indices[i]]), float(contrib[i])) for i in order if contrib[i] > 0]


def _distinct(texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """The distinct texts in first-seen order, and each text's index among them."""
    if getattr(texts, "ndim", 1) != 1:  # list(frame) would be its column names
        raise TypeError(f"expected a 1-D sequence of texts, got a {texts.ndim}-D "
                        f"{type(texts).__name__}; pass one column, e.g. frame['text']")
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
