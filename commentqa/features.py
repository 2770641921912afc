"""scikit-learn transformers that turn comments into features.

- :class:`CommentPreparer` runs :func:`commentqa.signals.analyze` once per comment and
  hands a frame of normalised text plus signal columns to the next step.
- :class:`SubwordVectorizer` gives character n-grams inside word boundaries (like
  ``TfidfVectorizer(analyzer="char_wb")``) at word-n-gram speed: each distinct word's
  n-grams are computed once, and a document's n-gram counts are the product of its
  word-count matrix with the word-by-n-gram matrix.
- :func:`build_features` composes them with a word n-gram ``TfidfVectorizer`` in a
  ``ColumnTransformer``.
"""

from __future__ import annotations

from itertools import chain

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize as l2_normalize
from sklearn.utils.validation import check_is_fitted

from .signals import SIGNAL_NAMES, analyze

__all__ = ["TEXT_COLUMN", "WORD_PATTERN", "CommentPreparer", "SubwordVectorizer", "build_features"]

#: Column of the prepared frame that holds the normalised text.
TEXT_COLUMN = "text_norm"
#: Word tokens of normalised text: words (single letters too: Malay "x" means "not")
#: and the question mark, which carries meaning of its own.
WORD_PATTERN = r"(?u)[^\W\d]+|\?"


def _as_texts(X) -> list[str]:
    """Accept a list/array/Series of strings; None and NaN become ""."""
    if isinstance(X, str):
        raise TypeError("expected a sequence of texts, got a single string")
    if isinstance(X, pd.DataFrame):
        if X.shape[1] != 1:
            raise ValueError(f"expected one text column, got {X.shape[1]} columns")
        X = X.iloc[:, 0]
    out = []
    for i, t in enumerate(X):
        if isinstance(t, str):
            out.append(t)
        elif t is None or (isinstance(t, float) and t != t):
            out.append("")
        else:
            raise TypeError(f"text at position {i} is {type(t).__name__}, not str")
    return out


class CommentPreparer(TransformerMixin, BaseEstimator):
    """Raw comments -> frame of normalised text and :data:`SIGNAL_NAMES` columns.

    Stateless: ``fit`` learns nothing. The frame's columns are ``text_norm`` followed by
    one column per signal.
    """

    def fit(self, X, y=None):
        self.n_features_in_ = 1
        return self

    def transform(self, X) -> pd.DataFrame:
        texts = _as_texts(X)
        if not texts:
            frame = pd.DataFrame(np.zeros((0, len(SIGNAL_NAMES))), columns=list(SIGNAL_NAMES))
            frame.insert(0, TEXT_COLUMN, pd.Series([], dtype=object))
            return frame
        norms, values = zip(*map(analyze, texts))
        frame = pd.DataFrame(np.asarray(values, dtype=np.float64), columns=list(SIGNAL_NAMES))
        frame.insert(0, TEXT_COLUMN, np.asarray(norms, dtype=object))
        return frame

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.asarray([TEXT_COLUMN, *SIGNAL_NAMES], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = False
        return tags


def _word_ngrams(word: str, lo: int, hi: int) -> list[str]:
    padded = f" {word} "
    n = len(padded)
    grams = []
    for size in range(lo, hi + 1):
        if size > n:
            break
        grams.extend(padded[i : i + size] for i in range(n - size + 1))
    return grams


class SubwordVectorizer(TransformerMixin, BaseEstimator):
    """TF-IDF over character n-grams within whitespace-separated words.

    Parameters
    ----------
    ngram_range : (int, int)
        Smallest and largest n-gram size; words are padded with a space on each side.
    min_df : int
        Keep n-grams seen in at least this many training documents.
    max_features : int or None
        Keep only the most frequent n-grams.
    sublinear_tf : bool
        Use ``1 + log(tf)`` instead of raw counts.
    cache_size : int
        Unseen words whose n-gram rows are memoised between ``transform`` calls.
    """

    def __init__(self, *, ngram_range=(2, 5), min_df=2, max_features=None, sublinear_tf=True,
                 cache_size=200_000):
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf
        self.cache_size = cache_size

    # -- fitting -----------------------------------------------------------------
    def fit(self, X, y=None):
        texts = _as_texts(X)
        lo, hi = self.ngram_range
        if not (1 <= lo <= hi):
            raise ValueError(f"ngram_range must satisfy 1 <= min <= max, got {self.ngram_range}")
        words: dict[str, int] = {}
        rows, cols = [], []
        for d, text in enumerate(texts):
            for w in text.split():
                rows.append(d)
                cols.append(words.setdefault(w, len(words)))
        counts = sp.csr_matrix(
            (np.ones(len(rows)), (rows, cols)), shape=(len(texts), len(words))
        )
        grams: dict[str, int] = {}
        g_rows, g_cols = [], []
        for w, i in words.items():
            for g in _word_ngrams(w, lo, hi):
                g_rows.append(i)
                g_cols.append(grams.setdefault(g, len(grams)))
        full = sp.csr_matrix(
            (np.ones(len(g_rows)), (g_rows, g_cols)), shape=(len(words), len(grams))
        )
        doc_grams = (counts @ full).tocsc()
        df = np.diff(doc_grams.indptr)
        total = np.asarray(doc_grams.sum(axis=0)).ravel()
        keep = np.flatnonzero(df >= self.min_df)
        if self.max_features is not None and keep.size > self.max_features:
            order = np.argsort(-total[keep], kind="stable")[: self.max_features]
            keep = np.sort(keep[order])
        if keep.size == 0:
            raise ValueError("no character n-gram reaches min_df; lower min_df or give more text")
        names = np.empty(len(grams), dtype=object)
        for g, j in grams.items():
            names[j] = g
        self.vocabulary_ = {g: k for k, g in enumerate(names[keep])}
        self.word_index_ = words
        self.word_ngrams_ = full[:, keep].tocsr()
        n_docs = len(texts)
        self.idf_ = np.log((1 + n_docs) / (1 + df[keep])) + 1.0
        self.n_features_in_ = 1
        return self

    # -- transforming --------------------------------------------------------------
    def _oov_row(self, word: str) -> list[int]:
        lo, hi = self.ngram_range
        vocab = self.vocabulary_
        return [j for g in _word_ngrams(word, lo, hi) if (j := vocab.get(g)) is not None]

    def transform(self, X):
        check_is_fitted(self, "vocabulary_")
        texts = _as_texts(X)
        splits = [t.split() for t in texts]
        indptr = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, splits), dtype=np.int64, count=len(texts)),
                  out=indptr[1:])
        words = list(chain.from_iterable(splits))
        get = self.word_index_.get
        ids = np.fromiter((get(w, -1) for w in words), dtype=np.int64, count=len(words))
        matrix = self.word_ngrams_
        unseen = np.flatnonzero(ids < 0)
        if unseen.size:
            cache = self.__dict__.setdefault("_oov_cache", {})
            if len(cache) > self.cache_size:
                cache.clear()
            new_words: dict[str, int] = {}
            n_known = matrix.shape[0]
            for pos in unseen:
                ids[pos] = new_words.setdefault(words[pos], n_known + len(new_words))
            rows_ptr, cols = [0], []
            for w in new_words:
                row = cache.get(w)
                if row is None:
                    row = cache[w] = self._oov_row(w)
                cols.extend(row)
                rows_ptr.append(len(cols))
            extra = sp.csr_matrix(
                (np.ones(len(cols)), cols, rows_ptr), shape=(len(new_words), matrix.shape[1])
            )
            matrix = sp.vstack([matrix, extra], format="csr")
        counts = sp.csr_matrix(
            (np.ones(len(ids)), ids, indptr), shape=(len(texts), matrix.shape[0])
        )
        out = (counts @ matrix).tocsr()
        if self.sublinear_tf:
            np.log(out.data, out=out.data)
            out.data += 1.0
        out.data *= np.take(self.idf_, out.indices)
        return l2_normalize(out, copy=False)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        check_is_fitted(self, "vocabulary_")
        names = np.empty(len(self.vocabulary_), dtype=object)
        for g, j in self.vocabulary_.items():
            names[j] = g
        return names

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_oov_cache", None)  # a run-time memo, not learned state
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags


def build_features(*, word_ngrams=(1, 2), char_ngrams=(2, 5), min_df=2) -> ColumnTransformer:
    """Word TF-IDF + subword TF-IDF over normalised text, plus the signal columns."""
    words = TfidfVectorizer(
        token_pattern=WORD_PATTERN, ngram_range=word_ngrams, min_df=min_df,
        lowercase=False, sublinear_tf=True, dtype=np.float64,
    )
    chars = SubwordVectorizer(ngram_range=char_ngrams, min_df=min_df)
    return ColumnTransformer(
        [
            ("words", words, TEXT_COLUMN),
            ("chars", chars, TEXT_COLUMN),
            ("signals", "passthrough", list(SIGNAL_NAMES)),
        ],
        sparse_threshold=1.0,
    )
