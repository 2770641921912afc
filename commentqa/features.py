"""scikit-learn transformers that turn comments into features.

- :class:`CommentPreparer` hands a frame of normalised text plus signal columns to the
  next step.
- :class:`SubwordVectorizer` gives character n-grams inside word boundaries (like
  ``TfidfVectorizer(analyzer="char_wb")``) at word-n-gram speed: each distinct word's
  n-grams are computed once, and a document's n-gram counts are the product of its
  word-count matrix with the word-by-n-gram matrix.
- :func:`build_features` composes them with a word n-gram ``TfidfVectorizer`` in a
  ``ColumnTransformer``.

Both transformers analyse text with :class:`~commentqa.tokens.TokenCache`; the fitted
``prepare`` and ``features`` steps run as one fast transform in
:class:`~commentqa.featurizer.CommentFeaturizer`.
"""

from __future__ import annotations

from itertools import chain

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import FunctionTransformer
from sklearn.preprocessing import normalize as l2_normalize
from sklearn.utils.validation import check_is_fitted

from .featurizer import (
    CHAR_NGRAMS,
    MAX_WORD_NGRAM,
    WORD_NGRAMS,
    CommentFeaturizer,
    FeatureBlocks,
    _NgramRows,
    _tfidf_unscaled,
    _word_counts,
)
from .signals import SIGNAL_NAMES
from .tokens import MAX_CACHED_TOKENS, TokenBatch, TokenCache, _as_texts, _split_offsets

__all__ = [
    "CHAR_NGRAMS", "MAX_CACHED_TOKENS", "MAX_WORD_NGRAM", "TEXT_COLUMN", "WORD_NGRAMS",
    "WORD_PATTERN", "CommentFeaturizer", "CommentPreparer", "FeatureBlocks",
    "SubwordVectorizer", "TokenBatch", "TokenCache", "build_features",
]

#: Column of the prepared frame that holds the normalised text.
TEXT_COLUMN = "text_norm"
#: Word tokens of normalised text: words (single letters too: Malay "x" means "not")
#: and the question mark, which carries meaning of its own.
WORD_PATTERN = r"(?u)[^\W\d]+|\?"


def _tfidf(counts: sp.csr_matrix, idf: np.ndarray, sublinear: bool) -> sp.csr_matrix:
    """l2-normalised TF-IDF rows from term counts, as ``TfidfTransformer`` computes them."""
    return l2_normalize(_tfidf_unscaled(counts, idf, sublinear), copy=False)




class CommentPreparer(TransformerMixin, BaseEstimator):
    """Raw comments -> frame of normalised text and :data:`SIGNAL_NAMES` columns.

    Stateless: ``fit`` learns nothing. The frame's columns are ``text_norm`` followed by
    one column per signal. Values equal :func:`commentqa.signals.analyze`'s; distinct
    tokens are memoised between calls (see :class:`TokenCache`).
    """

    def fit(self, X, y=None):
        self.n_features_in_ = 1
        return self

    def transform(self, X) -> pd.DataFrame:
        cache = self._cache()
        batch = cache.analyze(_as_texts(X))
        frame = pd.DataFrame(batch.signals, columns=list(SIGNAL_NAMES))
        # An object Series, not an array pandas would turn into Arrow strings (which refuse
        # a lone surrogate).
        frame.insert(0, TEXT_COLUMN, pd.Series(cache.norm_texts(batch), dtype=object))
        return frame

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.asarray([TEXT_COLUMN, *SIGNAL_NAMES], dtype=object)

    def clear_cache(self) -> None:
        """Forget the memoised tokens."""
        self.__dict__.pop("_token_cache", None)

    def _cache(self) -> TokenCache:
        """The run-time token cache: created on first use, restarted when full."""
        cache = self.__dict__.get("_token_cache")
        if cache is None:
            cache = self.__dict__["_token_cache"] = TokenCache()
        elif len(cache) > MAX_CACHED_TOKENS:
            cache.clear()
        return cache

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_token_cache", None)  # a run-time memo, not learned state
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = False
        return tags


# -- character n-grams --------------------------------------------------------------------

def _ngrams_of(words: list[str], lo: int, hi: int) -> tuple[list[str], np.ndarray]:
    """The n-grams (``lo`` to ``hi`` characters) of each word padded with a space on each
    side, all in one list, and how many each word has."""
    padded = [f" {w} " for w in words]
    grams = [p[i : i + size] for p in padded for size in range(lo, min(hi, len(p)) + 1)
             for i in range(len(p) - size + 1)]
    sizes = np.fromiter(map(len, padded), np.int64, len(padded))[:, None]
    counts = np.maximum(sizes - np.arange(lo, hi + 1) + 1, 0).sum(axis=1)
    return grams, counts




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
        self.clear_cache()
        self.__dict__.pop("_gram_index_cache", None)
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
        all_grams, per_word = _ngrams_of(list(words), lo, hi)
        g_cols = [grams.setdefault(g, len(grams)) for g in all_grams]
        g_rows = np.repeat(np.arange(len(words)), per_word)
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
    def transform(self, X):
        check_is_fitted(self, "vocabulary_")
        splits = [t.split() for t in _as_texts(X)]
        rows = self.__dict__.get("_ngram_rows")
        if rows is None or rows.size - rows.n_fitted > self.cache_size:
            rows = self.__dict__["_ngram_rows"] = _NgramRows(self)
        ids = rows.row_ids(list(chain.from_iterable(splits)))
        return self.tfidf(_word_counts(ids, _split_offsets(splits), rows.size) @ rows.matrix())

    def tfidf(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """l2-normalised TF-IDF rows from documents x n-grams counts (changed in place)."""
        return _tfidf(counts, self.idf_, self.sublinear_tf)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        check_is_fitted(self, "vocabulary_")
        names = np.empty(len(self.vocabulary_), dtype=object)
        for g, j in self.vocabulary_.items():
            names[j] = g
        return names

    def clear_cache(self) -> None:
        """Forget the memoised n-gram rows of unseen words."""
        self.__dict__.pop("_ngram_rows", None)

    def __getstate__(self):
        state = self.__dict__.copy()
        for memo in ("_ngram_rows", "_gram_index_cache"):  # run-time memos, not learned state
            state.pop(memo, None)
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags


def build_features(*, word_ngrams: tuple[int, int] = WORD_NGRAMS,
                   char_ngrams: tuple[int, int] = CHAR_NGRAMS,
                   min_df: int = 2) -> ColumnTransformer:
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


# -- the fast path ------------------------------------------------------------------------

#: ``TfidfVectorizer`` parameters whose values :class:`CommentFeaturizer` reproduces.
_WORD_PARAMS = {
    "input": "content", "analyzer": "word", "preprocessor": None, "tokenizer": None,
    "stop_words": None, "strip_accents": None, "lowercase": False, "token_pattern": WORD_PATTERN,
    "binary": False, "norm": "l2", "use_idf": True, "dtype": np.float64,
}


def reproducible_features(words, chars, signals, columns: list) -> bool:
    """Whether fitted ``build_features`` parts are ones :class:`CommentFeaturizer` mirrors."""
    if not (isinstance(words, TfidfVectorizer) and isinstance(chars, SubwordVectorizer)):
        return False
    params = words.get_params()
    identity = signals == "passthrough" or (
        isinstance(signals, FunctionTransformer) and signals.func is None)
    return (all(params[k] == v for k, v in _WORD_PARAMS.items())
            and max(words.ngram_range) <= MAX_WORD_NGRAM and identity
            and columns == [TEXT_COLUMN, TEXT_COLUMN, list(SIGNAL_NAMES)])


