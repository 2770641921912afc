"""The fast path of a fitted pipeline's features: raw comments to TF-IDF blocks and signals.

:class:`CommentFeaturizer` gives the matrix that the ``prepare`` and ``features`` steps of a
:func:`commentqa.build_pipeline` pipeline give, from a :class:`~commentqa.tokens.TokenCache`
and the fitted vocabularies, without the frame in between. It reads only the fitted
attributes of the two vectorizers (``vocabulary_``, ``idf_`` and the like), so it runs from
the estimators themselves or from the plain arrays :mod:`commentqa.compiled` keeps, with no
scikit-learn import.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import repeat
from typing import Protocol

import numpy as np
import scipy.sparse as sp

from .tokens import (
    MAX_CACHED_TOKENS,
    TokenBatch,
    TokenCache,
    _as_texts,
    _Growing,
    _HashIndex,
    _memo_ids,
    _offsets,
)

__all__ = ["CHAR_NGRAMS", "MAX_WORD_NGRAM", "WORD_NGRAMS", "CommentFeaturizer", "FeatureBlocks",
           "SubwordTfidf", "WordTfidf", "gram_index"]

#: Word and within-word character n-gram ranges of ``features.build_features`` (and of every
#: shipped model). Grouped CV finds any character range from 2-3 to 2-6 as good as another
#: and word bigrams worth keeping (``training/EXPERIMENTS.md``).
WORD_NGRAMS: tuple[int, int] = (1, 2)
CHAR_NGRAMS: tuple[int, int] = (2, 5)
#: Longest word n-gram this fast path reads (unigram and bigram columns).
MAX_WORD_NGRAM = 2


class WordTfidf(Protocol):
    """What the fast path reads of a fitted word n-gram ``TfidfVectorizer``."""

    vocabulary_: dict[str, int]
    idf_: np.ndarray
    sublinear_tf: bool
    token_pattern: str


class SubwordTfidf(Protocol):
    """What the fast path reads of a fitted :class:`~commentqa.features.SubwordVectorizer`."""

    vocabulary_: dict[str, int]
    idf_: np.ndarray
    sublinear_tf: bool
    ngram_range: tuple[int, int]
    word_index_: dict[str, int]
    word_ngrams_: sp.csr_matrix


def _tfidf_unscaled(counts: sp.csr_matrix, idf: np.ndarray, sublinear: bool) -> sp.csr_matrix:
    """TF-IDF rows from term counts (changed in place), before l2 normalisation."""
    if sublinear:  # 1 + log(count): a count of 1 stays 1, and most counts are 1
        data = counts.data
        repeated = np.flatnonzero(data > 1)
        data[repeated] = np.log(data[repeated]) + 1.0
    counts.data *= idf[counts.indices]
    return counts


def _inverse_norms(x: sp.csr_matrix) -> np.ndarray:
    """``1 / ||row||`` of each row, 0 for an empty row (l2 normalisation leaves it alone)."""
    squares = np.zeros(x.shape[0])
    filled = np.flatnonzero(np.diff(x.indptr))
    if filled.size:
        squares[filled] = np.add.reduceat(x.data * x.data, x.indptr[filled])
    out = np.zeros_like(squares)
    np.divide(1.0, np.sqrt(squares, out=squares), out=out, where=squares > 0)
    return out




# N-grams of at most this many code points, each below 2**_GRAM_BITS, pack exactly (with
# their length) into a 64-bit key; the rest are looked up as strings.
_GRAM_BITS, _GRAM_PACK = 12, 5


def _raw_code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _window_keys(codes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """For each start position: the packed key of ``codes[p:p + size]``, whether it packs."""
    n = len(codes)
    wide = np.concatenate([codes, np.zeros(size, dtype=np.uint32)]).astype(np.uint64)
    keys = np.full(n, np.uint64(size) << np.uint64(60))
    for k in range(min(size, _GRAM_PACK)):
        keys |= wide[k : k + n] << np.uint64(_GRAM_BITS * k)
    big = _offsets(codes >= 1 << _GRAM_BITS)
    packs = big[np.minimum(np.arange(n) + size, n)] == big[:n]
    return keys, packs & (size <= _GRAM_PACK)


class _GramIndex:
    """Columns of a subword vocabulary's n-grams, found with numpy."""

    def __init__(self, vec: SubwordTfidf):
        self._vocabulary = vec.vocabulary_
        self._lo, self._hi = vec.ngram_range
        self._packed = _HashIndex()
        grams = list(self._vocabulary)
        cols = np.fromiter(self._vocabulary.values(), np.int64, len(grams))
        sizes = np.fromiter(map(len, grams), np.int64, len(grams))
        starts = _offsets(sizes + 1)[:-1]
        codes = _raw_code_points("\n".join(grams))
        for size in range(1, min(int(sizes.max(initial=0)), _GRAM_PACK) + 1):
            keys, packs = _window_keys(codes, size)
            these = np.flatnonzero(sizes == size)
            these = these[packs[starts[these]]]
            self._packed.insert(keys[starts[these]], cols[these])

    def columns(self, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Word index and column of every n-gram of the space-padded ``words`` that is in
        the vocabulary (as often as it occurs), grouped by word."""
        joined = "\n".join(f" {w} " for w in words)
        codes = _raw_code_points(joined)
        padded = np.fromiter(map(len, words), np.int64, len(words)) + 2
        word = np.repeat(np.arange(len(words)), padded + 1)[: len(codes)]
        offset = np.arange(len(codes)) - (_offsets(padded + 1)[:-1])[word]
        found_words, found_cols = [], []
        for size in range(self._lo, self._hi + 1):
            pos = np.flatnonzero(offset + size <= padded[word])
            keys, packs = _window_keys(codes, size)
            cols = np.full(len(pos), -1, dtype=np.int64)
            packed = packs[pos]
            cols[packed] = self._packed.find(keys[pos[packed]])
            loose = pos[~packed].tolist()  # n-grams that do not pack: as strings
            cols[~packed] = [self._vocabulary.get(joined[p : p + size], -1) for p in loose]
            found_words.append(word[pos[cols >= 0]])
            found_cols.append(cols[cols >= 0])
        word, cols = np.concatenate(found_words), np.concatenate(found_cols)
        order = np.argsort(word, kind="stable")
        return word[order], cols[order]


def gram_index(vec: SubwordTfidf) -> _GramIndex:
    """The n-gram lookup of a fitted subword vectorizer (``vocabulary_``, ``ngram_range``),
    built on first use and kept on it as a run-time memo (never pickled)."""
    index = vec.__dict__.get("_gram_index_cache")
    if index is None:
        index = vec.__dict__["_gram_index_cache"] = _GramIndex(vec)
    return index


class _NgramRows:
    """Word -> n-gram count rows of a fitted :class:`SubwordVectorizer`: its training words,
    then each unseen word as it is met. :meth:`row_ids` maps words to rows of :meth:`matrix`.
    """

    def __init__(self, vec: SubwordTfidf):
        fitted = vec.word_ngrams_
        self._vec = vec
        self._indptr, self._indices = _Growing(np.int32), _Growing(np.int32)
        self._data = _Growing(np.float64)
        self._indptr.extend(fitted.indptr)
        self._indices.extend(fitted.indices)
        self._data.extend(fitted.data)
        self.n_fitted, self._fitted_nnz = len(vec.word_index_), fitted.nnz
        self.clear()

    def clear(self) -> None:
        """Forget the unseen words; the arrays keep their capacity. The training words stay
        in the vectorizer's own ``word_index_``, never copied: a copy at every restart of a
        batch worker's memo cost a 28,000-entry dict and a private copy of the memory
        pages of its keys, which the worker otherwise shares with its parent."""
        self._unseen: dict[str, int] = {}
        self._indptr.size = self.n_fitted + 1
        self._indices.size = self._data.size = self._fitted_nnz

    @property
    def size(self) -> int:
        return self.n_fitted + len(self._unseen)

    def row_ids(self, words: list[str]) -> np.ndarray:
        ids = np.fromiter(map(self._vec.word_index_.get, words, repeat(-1)), np.int64,
                          len(words))
        other = np.flatnonzero(ids < 0)
        if other.size:
            unseen = [words[i] for i in other.tolist()]
            ids[other] = self.n_fitted + _memo_ids(self._unseen, unseen, self._add)
        return ids

    def matrix(self) -> sp.csr_matrix:
        return sp.csr_matrix(
            (self._data.array, self._indices.array, self._indptr.array),
            shape=(self.size, len(self._vec.vocabulary_)),
        )

    def _add(self, words: list[str]) -> None:
        word, cols = gram_index(self._vec).columns(words)
        ends = np.searchsorted(word, np.arange(1, len(words) + 1))
        self._indptr.extend(self._indptr.array[-1] + ends)
        self._indices.extend(cols)
        self._data.extend(np.ones(len(cols)))
        start = len(self._unseen)
        self._unseen.update(zip(words, range(start, start + len(words))))


def _word_counts(rows: np.ndarray, ptr: np.ndarray, n_rows: int) -> sp.csr_matrix:
    """Documents x words count matrix from each document's word rows."""
    return sp.csr_matrix((np.ones(len(rows)), rows, ptr), shape=(len(ptr) - 1, n_rows))




@dataclass
class FeatureBlocks:
    """The columns of a :class:`CommentFeaturizer` matrix, block by block.

    ``tfidf`` holds ``(unscaled, scale)`` for the word and then the character block: the
    final rows are ``scale[:, None] * unscaled`` (l2-normalised). ``signals`` is dense.
    A linear model can score the blocks without ever stacking them.
    """

    tfidf: list[tuple[sp.csr_matrix, np.ndarray]]
    signals: np.ndarray

    @property
    def widths(self) -> list[int]:
        return [x.shape[1] for x, _ in self.tfidf] + [self.signals.shape[1]]

    def dot(self, weights: np.ndarray) -> np.ndarray:
        """``matrix @ weights`` for dense ``weights`` of shape (n_features, k).

        A row's result does not depend on the other rows of the batch, to the last bit: the
        signal block is summed column by column here, because BLAS picks its kernel (and its
        order of summation) by the shape of the matrix.
        """
        n_signals = self.signals.shape[1]
        out = np.zeros((self.signals.shape[0], weights.shape[1]))
        for column, row in zip(self.signals.T, weights[len(weights) - n_signals :]):
            out += column[:, None] * row
        start = 0
        for x, scale in self.tfidf:
            part = weights[start : start + x.shape[1]]
            out = out + (x @ part) * scale[:, None]
            start += x.shape[1]
        return out


class CommentFeaturizer:
    """The fitted ``prepare`` and ``features`` steps of a commentqa pipeline as one transform.

    ``transform(texts)`` gives the matrix ``features.transform(prepare.transform(texts))``
    gives (same columns and values, to float rounding) without the frame in between.
    Distinct tokens are analysed once and kept with their vocabulary ids, up to
    ``max_tokens`` of them, then forgotten; :meth:`clear` forgets them at once. Use
    :meth:`from_pipeline` to get one.
    """

    def __init__(self, words: WordTfidf, chars: SubwordTfidf, *,
                 max_tokens: int = MAX_CACHED_TOKENS):
        self.words, self.chars, self.max_tokens = words, chars, max_tokens
        self._index_word_ngrams(words.vocabulary_)
        self._tokens = TokenCache(words.token_pattern)
        self._rows = _NgramRows(chars)
        self._piece_part, self._word_row = _Growing(), _Growing()

    @classmethod
    def from_pipeline(cls, pipeline) -> CommentFeaturizer | None:
        """The featurizer of a fitted :func:`commentqa.build_pipeline`-shaped pipeline
        (prepare, features, classifier), or None when its steps differ from those."""
        from sklearn.compose import ColumnTransformer  # a pipeline means sklearn is loaded

        from .features import CommentPreparer, reproducible_features

        steps = [step for _, step in getattr(pipeline, "steps", [])]
        if len(steps) != 3 or not isinstance(steps[0], CommentPreparer):
            return None
        features = steps[1]
        specs = getattr(features, "transformers_", None)
        if not isinstance(features, ColumnTransformer) or specs is None:
            return None
        if [name for name, *_ in specs] != ["words", "chars", "signals"]:
            return None
        (_, words, _), (_, chars, _), (_, signals, _) = specs
        columns = [spec[2] for spec in specs]
        if not (features.sparse_output_ and reproducible_features(words, chars, signals, columns)):
            return None
        return cls(words, chars)

    def prepare(self) -> None:
        """Build the n-gram index of the character vocabulary (used for words it has not
        seen) now rather than at the first unseen word."""
        gram_index(self.chars)

    def clear(self) -> None:
        """Forget the memoised tokens and unseen words (their arrays keep their capacity)."""
        for memo in (self._tokens, self._rows, self._piece_part, self._word_row):
            memo.clear()

    def transform(self, X) -> sp.csr_matrix:
        """Feature matrix of raw comments: word TF-IDF, char TF-IDF, signals."""
        blocks = self.blocks(X)
        scaled = [sp.diags(scale) @ tfidf for tfidf, scale in blocks.tfidf]
        return sp.hstack([*scaled, sp.csr_matrix(blocks.signals)], format="csr")

    def blocks(self, X) -> FeatureBlocks:
        """The parts of :meth:`transform`'s matrix, before the TF-IDF rows are scaled."""
        texts = _as_texts(X)
        if len(self._tokens) > self.max_tokens:
            self.clear()
        batch = self._tokens.analyze(texts)
        self._sync()
        tfidf = [self._word_tfidf(batch), self._char_tfidf(batch)]
        return FeatureBlocks([(x, _inverse_norms(x)) for x in tfidf], batch.signals)

    def _index_word_ngrams(self, vocabulary: dict[str, int]) -> None:
        """Pieces ("parts") of the vocabulary's n-grams; unigram columns; bigram columns by
        pair of parts."""
        parts: dict[str, int] = {}
        terms = [(term.split(" "), col) for term, col in vocabulary.items()]
        for pieces, _ in terms:
            for piece in pieces:
                parts.setdefault(piece, len(parts))
        self._parts, self._unknown = parts, len(parts)
        self._unigram = np.full(len(parts) + 1, -1, dtype=np.int64)  # last: unknown piece
        bigrams = {}
        for pieces, col in terms:
            if len(pieces) == 1:
                self._unigram[parts[pieces[0]]] = col
            else:
                bigrams[parts[pieces[0]] * len(parts) + parts[pieces[1]]] = col
        self._bigrams = _HashIndex()
        self._bigrams.insert(np.fromiter(bigrams, np.uint64, len(bigrams)),
                             np.fromiter(bigrams.values(), np.int64, len(bigrams)))

    def _sync(self) -> None:
        """Vocabulary ids for the pieces and words the token cache met since last time."""
        new_pieces = self._tokens.pieces[self._piece_part.size :]
        self._piece_part.extend([self._parts.get(p, self._unknown) for p in new_pieces])
        self._word_row.extend(self._rows.row_ids(self._tokens.words[self._word_row.size :]))

    def _word_tfidf(self, batch: TokenBatch) -> sp.csr_matrix:
        parts, ptr = self._piece_part.array[batch.pieces], batch.piece_ptr
        doc = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
        cols = self._unigram[parts]
        rows, cols = [doc[cols >= 0]], [cols[cols >= 0]]
        if self._bigrams.size:
            known = parts != self._unknown
            pos = np.flatnonzero(known[:-1] & known[1:] & (doc[:-1] == doc[1:]))
            pairs = parts[pos] * self._unknown + parts[pos + 1]
            found = self._bigrams.find(pairs.astype(np.uint64))
            rows.append(doc[pos[found >= 0]])
            cols.append(found[found >= 0])
        n_docs, n_cols = len(ptr) - 1, len(self.words.vocabulary_)
        # Each (comment, column) pair once with its count, in row-major order: the sorted
        # CSR matrix that summing duplicate COO entries gives, built with one sort.
        keys, counts = np.unique(np.concatenate(rows) * n_cols + np.concatenate(cols),
                                 return_counts=True)
        doc = keys // n_cols
        matrix = sp.csr_matrix((counts.astype(np.float64), keys - doc * n_cols,
                                _offsets(np.bincount(doc, minlength=n_docs))),
                               shape=(n_docs, n_cols))
        return _tfidf_unscaled(matrix, self.words.idf_, self.words.sublinear_tf)

    def _char_tfidf(self, batch: TokenBatch) -> sp.csr_matrix:
        rows = self._word_row.array[batch.words]
        counts = _word_counts(rows, batch.word_ptr, self._rows.size) @ self._rows.matrix()
        return _tfidf_unscaled(counts, self.chars.idf_, self.chars.sublinear_tf)

