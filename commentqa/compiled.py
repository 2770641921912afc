"""A fitted model's prediction path as plain arrays, loaded without scikit-learn or pickle.

:func:`compile_pipeline` reads what prediction needs from a fitted
:func:`commentqa.build_pipeline` pipeline (vocabularies, IDF weights, the subword table, the
linear weights and the sigmoid or temperature calibration) into named numpy arrays.
:func:`save_compiled` writes them as ``model.npz`` beside ``model.joblib`` and
:func:`load_compiled` reads them back with ``allow_pickle=False``: no code runs on load, and
no scikit-learn import is needed, so ``commentqa score`` starts in a fraction of the time.
Predictions equal the pipeline's (the same arithmetic on the same numbers); the pipeline
itself stays the model of record, loaded when something needs it (``explain``, refitting,
the estimator API).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .featurizer import CommentFeaturizer
from .linear import (
    CalibratedLinearHead,
    PerClassCalibration,
    SigmoidCalibrator,
    TemperatureScaling,
)

__all__ = ["COMPILED_FILE", "CompiledModel", "compile_pipeline", "load_compiled",
           "save_compiled"]

#: File name of the compiled arrays inside a model folder.
COMPILED_FILE = "model.npz"
#: Layout version of the arrays written. Layout 2 added ``temperature_<m>`` (a member
#: calibrated by temperature scaling) beside layout 1's per-class ``calibration_<m>``, so a
#: reader of layout 1 refuses such a file by its layout, not by a missing array. Layout 1
#: files are still read.
LAYOUT = 2
_READABLE = (1, LAYOUT)
_SEP = "\n"  # joins vocabulary terms: no term holds one (terms come from str.split words)


@dataclass
class WordTable:
    """The fitted word n-gram ``TfidfVectorizer``'s prediction attributes."""

    vocabulary_: dict[str, int]
    idf_: np.ndarray
    sublinear_tf: bool
    token_pattern: str


@dataclass
class SubwordTable:
    """The fitted :class:`~commentqa.features.SubwordVectorizer`'s prediction attributes."""

    vocabulary_: dict[str, int]
    idf_: np.ndarray
    sublinear_tf: bool
    ngram_range: tuple[int, int]
    word_index_: dict[str, int]
    word_ngrams_: sp.csr_matrix


@dataclass
class CompiledModel:
    """Everything ``predict_proba`` needs, as plain arrays: see :func:`load_compiled`."""

    classes: list[str]
    words: WordTable
    chars: SubwordTable
    head: CalibratedLinearHead

    def featurizer(self) -> CommentFeaturizer:
        return CommentFeaturizer(self.words, self.chars)


def _pack(terms: list[str]) -> np.ndarray:
    return np.frombuffer(_SEP.join(terms).encode("utf-8", "surrogatepass"), dtype=np.uint8)


def _unpack(packed: np.ndarray) -> list[str]:
    text = packed.tobytes().decode("utf-8", "surrogatepass")
    return text.split(_SEP) if text else []


def _by_column(mapping: dict[str, int]) -> list[str]:
    terms = [""] * len(mapping)
    for term, column in mapping.items():
        terms[column] = term
    return terms


def compile_pipeline(pipeline) -> dict[str, np.ndarray] | None:
    """The arrays of a fitted pipeline's prediction path, or None when the pipeline is not
    one this module mirrors (other steps, isotonic calibration, a term with a newline)."""
    featurizer = CommentFeaturizer.from_pipeline(pipeline)
    head = CalibratedLinearHead.from_classifier(pipeline[-1]) if featurizer else None
    if featurizer is None or head is None:
        return None
    words, chars = featurizer.words, featurizer.chars
    terms = [_by_column(words.vocabulary_), _by_column(chars.vocabulary_),
             _by_column(chars.word_index_)]
    if any(_SEP in t for group in terms for t in group):
        return None
    arrays = {
        "layout": np.array([LAYOUT]),
        "classes": _pack([str(c) for c in pipeline.classes_]),
        "word_terms": _pack(terms[0]),
        "word_idf": words.idf_,
        "word_sublinear": np.array([bool(words.sublinear_tf)]),
        "word_pattern": _pack([words.token_pattern]),
        "char_terms": _pack(terms[1]),
        "char_idf": chars.idf_,
        "char_sublinear": np.array([bool(chars.sublinear_tf)]),
        "char_range": np.asarray(chars.ngram_range, dtype=np.int64),
        "char_words": _pack(terms[2]),
        "char_word_indptr": chars.word_ngrams_.indptr.astype(np.int64),
        "char_word_indices": chars.word_ngrams_.indices.astype(np.int32),
        "char_word_counts": chars.word_ngrams_.data.astype(np.float64),
        "members": np.array([len(head.members)]),
    }
    for m, (weights, intercept, calibration) in enumerate(head.members):
        arrays[f"weights_{m}"] = weights
        arrays[f"intercept_{m}"] = intercept
        if isinstance(calibration, TemperatureScaling):
            arrays[f"temperature_{m}"] = np.array([calibration.beta])
            continue
        sigmoid = [SigmoidCalibrator.from_fitted(c) for c in calibration.calibrators]
        if any(c is None for c in sigmoid):
            return None
        arrays[f"calibration_{m}"] = np.array([[c.a, c.b] for c in sigmoid])
    return arrays


def save_compiled(arrays: dict[str, np.ndarray], path: str | os.PathLike) -> None:
    np.savez_compressed(path, **arrays)


def load_compiled(path: str | os.PathLike) -> CompiledModel:
    """Read arrays written by :func:`save_compiled` (no pickle: ``allow_pickle=False``).

    Raises ``ValueError`` when the file is not a compiled commentqa model of a layout this
    version reads (the message says what is wrong, not which file).
    """
    with open(path, "rb") as fh:  # closed here even when numpy cannot read it
        npz = np.load(fh, allow_pickle=False)
        if not hasattr(npz, "files"):  # a lone .npy array
            raise ValueError("a lone .npy array, not an .npz archive")
        with npz:
            a = {name: npz[name] for name in npz.files}
    layout = a.get("layout", np.zeros(1)).tolist()
    if len(layout) != 1 or layout[0] not in _READABLE:
        raise ValueError(f"its layout is {layout}; this version of commentqa reads layouts "
                         f"{' and '.join(map(str, _READABLE))}")
    words = WordTable(
        {t: i for i, t in enumerate(_unpack(a["word_terms"]))}, a["word_idf"],
        bool(a["word_sublinear"][0]), _unpack(a["word_pattern"])[0])
    char_words = _unpack(a["char_words"])
    table = sp.csr_matrix(
        (a["char_word_counts"], a["char_word_indices"], a["char_word_indptr"]),
        shape=(len(char_words), len(a["char_idf"])))
    lo, hi = a["char_range"].tolist()
    chars = SubwordTable(
        {t: i for i, t in enumerate(_unpack(a["char_terms"]))}, a["char_idf"],
        bool(a["char_sublinear"][0]), (lo, hi),
        {w: i for i, w in enumerate(char_words)}, table)
    members = []
    for m in range(int(a["members"][0])):
        if f"temperature_{m}" in a:
            calibration = TemperatureScaling(float(a[f"temperature_{m}"][0]))
        else:
            calibration = PerClassCalibration(tuple(
                SigmoidCalibrator(float(x), float(y)) for x, y in a[f"calibration_{m}"]))
        members.append((np.ascontiguousarray(a[f"weights_{m}"]), a[f"intercept_{m}"],
                        calibration))
    head = CalibratedLinearHead(members, members[0][0].shape[0])
    return CompiledModel(_unpack(a["classes"]), words, chars, head)
