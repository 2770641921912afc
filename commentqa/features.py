"""scikit-learn transformers that turn comments into features.

- :class:`CommentPreparer` hands a frame of normalised text plus signal columns to the
  next step.
- :class:`SubwordVectorizer` gives character n-grams inside word boundaries (like
  ``TfidfVectorizer(analyzer="char_wb")``) at word-n-gram speed: each distinct word's
  n-grams are computed once, and a document's n-gram counts are the product of its
  word-count matrix with the word-by-n-gram matrix.
- :func:`build_features` composes them with a word n-gram ``TfidfVectorizer`` in a
  ``ColumnTransformer``.
- :class:`TokenCache` analyses each distinct whitespace-separated token once; a batch of
  comments then costs a dictionary lookup per token plus numpy work.
- :class:`CommentFeaturizer` is a fitted ``CommentPreparer`` + ``build_features`` pair as
  one transform on top of it, with no frame in between: :class:`commentqa.CommentModel`
  predicts through it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain, repeat

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import FunctionTransformer
from sklearn.preprocessing import normalize as l2_normalize
from sklearn.utils.validation import check_is_fitted

from .normalize import normalize_unescaped, undo_html
from .signals import (
    NORM_FACTS,
    PHRASE_COLUMNS,
    RAW_FACTS,
    SIGNAL_NAMES,
    WORD_FACTS,
    has_amount,
    norm_token_facts,
    phrase_hits,
    phrase_masks,
    raw_token_facts,
    signal_matrix,
)

__all__ = [
    "MAX_CACHED_TOKENS", "TEXT_COLUMN", "WORD_PATTERN", "CommentFeaturizer", "CommentPreparer",
    "FeatureBlocks",
    "SubwordVectorizer", "TokenBatch", "TokenCache", "build_features",
]

#: Column of the prepared frame that holds the normalised text.
TEXT_COLUMN = "text_norm"
#: Word tokens of normalised text: words (single letters too: Malay "x" means "not")
#: and the question mark, which carries meaning of its own.
WORD_PATTERN = r"(?u)[^\W\d]+|\?"
#: Distinct tokens a :class:`TokenCache` keeps before it starts afresh. About 1 KB each
#: with their n-gram rows: a scoring worker's memory stops growing within its first few
#: hundred thousand comments. Much lower and the cache restarts too often (at 40,000 the
#: benchmark dump costs half again as much CPU; at 60,000, 6% more than never restarting).
MAX_CACHED_TOKENS = 60_000


def _as_texts(X) -> list[str]:
    """Accept a list/array/Series of strings; None and NaN become ""."""
    if isinstance(X, str):
        raise TypeError("expected a sequence of texts, got a single string")
    if isinstance(X, list) and set(map(type, X)) <= {str}:
        return X
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


# -- numpy helpers ------------------------------------------------------------------------

class _Growing:
    """A numpy array that grows by appended rows; capacity doubles, so appends stay cheap."""

    def __init__(self, dtype=np.int64, width: int | None = None):
        self._data = np.zeros((256,) if width is None else (256, width), dtype)
        self.size = 0

    @property
    def array(self) -> np.ndarray:
        return self._data[: self.size]

    def extend(self, rows) -> None:
        rows = np.asarray(rows, dtype=self._data.dtype)
        if not len(rows):
            return
        end = self.size + len(rows)
        if end > len(self._data):
            grown = np.zeros((max(end, 2 * len(self._data)), *self._data.shape[1:]),
                             self._data.dtype)
            grown[: self.size] = self.array
            self._data = grown
        self._data[self.size : end] = rows
        self.size = end


def _offsets(lengths: np.ndarray) -> np.ndarray:
    """``[0, l0, l0 + l1, ...]``: where each of consecutive runs of ``lengths`` starts."""
    ptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=ptr[1:])
    return ptr


def _split_offsets(splits: list[list[str]]) -> np.ndarray:
    return _offsets(np.fromiter(map(len, splits), np.int64, len(splits)))


def _segment_index(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Positions of the concatenated ranges ``[start, start + length)``."""
    ends = np.cumsum(lengths)
    total = int(ends[-1]) if len(ends) else 0
    return np.arange(total) + np.repeat(starts - ends + lengths, lengths)


class _Segments:
    """Rows of ints of varying length, stored flat."""

    def __init__(self):
        self._starts, self._lengths, self._flat = _Growing(), _Growing(), _Growing()

    def extend(self, flat: list[int], lengths: list[int]) -> None:
        """Append rows given as their concatenation and their lengths."""
        lengths = np.asarray(lengths, dtype=np.int64)
        self._starts.extend(self._flat.size + np.cumsum(lengths) - lengths)
        self._lengths.extend(lengths)
        self._flat.extend(flat)

    def take(self, ids: np.ndarray, ptr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows ``ids`` concatenated, and the offsets ``ptr`` (offsets into ``ids``) become."""
        lengths = self._lengths.array[ids]
        flat = self._flat.array[_segment_index(self._starts.array[ids], lengths)]
        return flat, _offsets(lengths)[ptr]


def _memo_ids(memo: dict[str, int], keys: list[str],
              add: Callable[[list[str]], None]) -> np.ndarray:
    """Ids of ``keys`` in ``memo``; ``add(unseen)`` puts the distinct unseen keys in it."""
    ids = np.fromiter(map(memo.get, keys, repeat(-1)), np.int64, len(keys))
    missing = np.flatnonzero(ids < 0)
    if missing.size:
        unseen = [keys[i] for i in missing.tolist()]
        add(list(dict.fromkeys(unseen)))
        ids[missing] = list(map(memo.__getitem__, unseen))
    return ids


# -- token hashing ------------------------------------------------------------------------
# A chunk of comments is read as one array of code points; its tokens are hashed with numpy
# and found in an open-addressing table, so a known token costs no Python object at all.
# Every hit is checked code point by code point, so a hash collision only costs time.

# Tokens that differ only in their ASCII digits share every fact: all patterns see a
# digit as \d or \w, whichever digit it is ("@u123" is analysed as "@u000").
_ZERO_DIGITS = str.maketrans("123456789", "000000000")
# str.isspace() by code point; no whitespace lies above U+3000.
_SPACE = np.array([chr(c).isspace() for c in range(0x3001)] + [False])
_HASH_BASE = np.uint64(0x100000001B3)
_HASH_MIX = np.uint64(0x9E3779B97F4A7C15)
_HASH_LOAD = 3  # a hash table keeps at least this many slots per key
_powers = np.ones(1, dtype=np.uint64)  # _HASH_BASE ** i, grown on demand


def _code_points(text: str) -> np.ndarray:
    """Code points of ``text`` (one per ``str`` index), ASCII digits 1-9 read as 0."""
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return np.where((codes >= 0x31) & (codes <= 0x39), np.uint32(0x30), codes)


def _token_bounds(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and lengths of the whitespace-separated tokens (``str.split``) of ``codes``."""
    inside = ~_SPACE[np.minimum(codes, len(_SPACE) - 1)]
    edges = np.flatnonzero(np.diff(inside.view(np.int8), prepend=0, append=0))
    return edges[::2], edges[1::2] - edges[::2]


def _hash_powers(n: int) -> np.ndarray:
    global _powers
    if len(_powers) < n:
        grown = np.full(max(n, 2 * len(_powers)), _HASH_BASE, dtype=np.uint64)
        grown[0] = 1
        _powers = np.cumprod(grown)  # wraps modulo 2**64, as intended
    return _powers


class _Tokens:
    """The tokens of a code-point array: bounds, positions of their code points, hashes."""

    def __init__(self, codes: np.ndarray):
        self.codes = codes
        self.starts, self.lengths = _token_bounds(codes)
        self.first = _offsets(self.lengths)[:-1]  # of each token in ``pos``
        self.pos = _segment_index(self.starts, self.lengths)
        self.within = self.pos - np.repeat(self.starts, self.lengths)
        if len(self.lengths):
            powers = _hash_powers(int(self.lengths.max()))[self.within]
            self.hashes = np.add.reduceat(codes[self.pos].astype(np.uint64) * powers, self.first)
        else:
            self.hashes = np.zeros(0, dtype=np.uint64)


class _HashIndex:
    """Open-addressing table (linear probing, numpy) from 64-bit keys to ids."""

    def __init__(self, capacity: int = 1 << 12):
        self._keys = np.zeros(capacity, dtype=np.uint64)
        self._ids = np.full(capacity, -1, dtype=np.int64)
        self._shift = np.uint64(65 - capacity.bit_length())
        self.size = 0

    def _home(self, keys: np.ndarray) -> np.ndarray:
        return ((keys * _HASH_MIX) >> self._shift).astype(np.int64)

    def find(self, keys: np.ndarray) -> np.ndarray:
        """The id stored under each key, -1 where none is."""
        out = np.full(len(keys), -1, dtype=np.int64)
        slot, todo, mask = self._home(keys), np.arange(len(keys)), len(self._keys) - 1
        while len(todo):
            at = slot[todo]
            ids = self._ids[at]
            hit = (ids >= 0) & (self._keys[at] == keys[todo])
            out[todo[hit]] = ids[hit]
            more = (ids >= 0) & ~hit
            todo = todo[more]
            slot[todo] = (at[more] + 1) & mask
        return out

    def insert(self, keys: np.ndarray, ids: np.ndarray) -> None:
        """Store ``ids`` under ``keys``, which must be distinct and not stored yet."""
        if _HASH_LOAD * (self.size + len(keys)) > len(self._keys):
            used = self._ids >= 0
            old_keys, old_ids = self._keys[used], self._ids[used]
            self.__init__(1 << (_HASH_LOAD * (self.size + len(keys))).bit_length())
            self.insert(old_keys, old_ids)
        slot, todo, mask = self._home(keys), np.arange(len(keys)), len(self._keys) - 1
        while len(todo):
            at = slot[todo]
            free = self._ids[at] < 0
            taken, first = np.unique(at[free], return_index=True)
            winners = todo[free][first]
            self._keys[taken], self._ids[taken] = keys[winners], ids[winners]
            placed = np.zeros(len(keys), dtype=bool)
            placed[winners] = True
            todo = todo[~placed[todo]]
            slot[todo] = (slot[todo] + 1) & mask
        self.size += len(keys)


def _doc_sums(table: np.ndarray, ids: np.ndarray, ptr: np.ndarray) -> np.ndarray:
    """Per comment, the sum of ``table`` rows of its token ``ids``."""
    counts = sp.csr_matrix((np.ones(len(ids)), ids, ptr), shape=(len(ptr) - 1, len(table)))
    return counts @ table


def _tfidf(counts: sp.csr_matrix, idf: np.ndarray, sublinear: bool) -> sp.csr_matrix:
    """l2-normalised TF-IDF rows from term counts, as ``TfidfTransformer`` computes them."""
    return l2_normalize(_tfidf_unscaled(counts, idf, sublinear), copy=False)


def _tfidf_unscaled(counts: sp.csr_matrix, idf: np.ndarray, sublinear: bool) -> sp.csr_matrix:
    """TF-IDF rows from term counts (changed in place), before l2 normalisation."""
    if sublinear:
        np.log(counts.data, out=counts.data)
        counts.data += 1.0
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


# -- the token cache ----------------------------------------------------------------------

# Columns of TokenCache._facts: a token's raw facts, then its normalised-token facts.
_FACT_COLUMNS = {name: i for i, name in enumerate(RAW_FACTS + NORM_FACTS)}


@dataclass
class _NewNorms:
    """Words and pieces of the normalised tokens met in one batch, flat."""

    words: list[int]
    word_counts: list[int]
    pieces: list[int]
    piece_counts: list[int]


@dataclass
class TokenBatch:
    """What :meth:`TokenCache.analyze` finds in a list of comments."""

    #: One row of :data:`~commentqa.signals.SIGNAL_NAMES` values per comment.
    signals: np.ndarray
    #: Ids (into :attr:`TokenCache.words`) of the normalised words, comment after comment;
    #: comment i has ``words[word_ptr[i]:word_ptr[i + 1]]``.
    words: np.ndarray
    word_ptr: np.ndarray
    #: The same for pieces (:attr:`TokenCache.pieces`), or None without a piece pattern.
    pieces: np.ndarray | None
    piece_ptr: np.ndarray | None


class TokenCache:
    """Analysis of each distinct whitespace-separated token, computed once and kept.

    A comment's normalised text, signals and word pieces then follow from its token ids
    by numpy gathers and sums; :mod:`commentqa.signals` explains why that is exact.
    ``piece_pattern`` (a regex such as :data:`WORD_PATTERN`) also splits each normalised
    token into pieces. Ids stay valid until :meth:`clear`.
    """

    def __init__(self, piece_pattern: str | None = None):
        self._pieces_re = re.compile(piece_pattern) if piece_pattern else None
        self.clear()

    def __len__(self) -> int:
        return len(self._token_ids)

    def clear(self) -> None:
        """Forget every token, word and piece."""
        self._token_ids: dict[str, int] = {}
        self._index = _HashIndex()
        self._chars, self._char_start, self._char_len = _Growing(np.uint32), _Growing(), _Growing()
        self._facts = _Growing(np.float64, len(_FACT_COLUMNS))
        self._token_norm = _Growing()
        self._norm_ids: dict[str, int] = {}
        self._norm_facts: list[int] = []  # norm_token_facts of each, flat
        self._norm_words, self._norm_pieces = _Segments(), _Segments()
        self._word_ids: dict[str, int] = {}
        #: Distinct normalised words, by id.
        self.words: list[str] = []
        self._word_masks = _Growing(np.int64, len(PHRASE_COLUMNS))
        self._piece_ids: dict[str, int] = {}
        #: Distinct pieces, by id.
        self.pieces: list[str] = []

    def analyze(self, texts: list[str]) -> TokenBatch:
        """Signals, words and pieces of ``texts``."""
        raw = self._lookup(texts)
        tokens, ptr = self._unescaped(texts, *raw)
        norms = self._token_norm.array[tokens]
        words = self._norm_words.take(norms, ptr)
        pieces = self._norm_pieces.take(norms, ptr) if self._pieces_re else (None, None)
        signals = self._signals(texts, raw, (tokens, ptr), words)
        return TokenBatch(signals, *words, *pieces)

    def norm_texts(self, batch: TokenBatch) -> list[str]:
        """Each comment's normalised text: its words joined by spaces."""
        words = list(map(self.words.__getitem__, batch.words.tolist()))
        joined = " ".join(words)
        ends = _offsets(np.fromiter(map(len, words), np.int64, len(words)) + 1)
        starts = ends[batch.word_ptr[:-1]]
        stops = np.maximum(ends[batch.word_ptr[1:]] - 1, starts)  # no words: ""
        return [joined[a:b] for a, b in zip(starts.tolist(), stops.tolist())]

    # -- token ids ----------------------------------------------------------------------
    def _lookup(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Token ids of ``texts``, comment after comment, and each comment's offsets."""
        joined = "\n".join(texts)
        tokens = _Tokens(_code_points(joined))
        ids = self._index.find(tokens.hashes)
        ids[~self._matches(tokens, ids)] = -1
        missing = np.flatnonzero(ids < 0)
        if missing.size:
            ids[missing] = self._resolve(joined, tokens, missing)
        text_starts = _offsets(np.fromiter(map(len, texts), np.int64, len(texts)) + 1)[:-1]
        return ids, np.append(np.searchsorted(tokens.starts, text_starts), len(ids))

    def _resolve(self, joined: str, tokens: _Tokens, which: np.ndarray) -> np.ndarray:
        """Ids of tokens ``which``, analysing the new ones: one token string per hash, then
        the rare tokens whose hash another token shares, one string each."""
        _, first, inverse = np.unique(tokens.hashes[which], return_index=True,
                                      return_inverse=True)
        ids = self._ids_of(joined, tokens, which[first])[inverse]
        clash = np.flatnonzero(~self._matches(tokens, ids, which))
        if clash.size:
            ids[clash] = self._ids_of(joined, tokens, which[clash])
        return ids

    def _ids_of(self, joined: str, tokens: _Tokens, which: np.ndarray) -> np.ndarray:
        bounds = zip(tokens.starts[which].tolist(), tokens.lengths[which].tolist())
        keys = [joined[a : a + n].translate(_ZERO_DIGITS) for a, n in bounds]
        return _memo_ids(self._token_ids, keys, self._add_tokens)

    def _matches(self, tokens: _Tokens, ids: np.ndarray,
                 which: np.ndarray | None = None) -> np.ndarray:
        """Whether tokens ``which`` (all by default) have the code points of tokens ``ids``."""
        lengths, first = tokens.lengths, tokens.first
        at = slice(None)
        if which is not None:
            lengths = lengths[which]
            at = _segment_index(first[which], lengths)
            first = _offsets(lengths)[:-1]
        if not (len(ids) and self._chars.size):
            return np.zeros(len(ids), dtype=bool)
        known = np.maximum(ids, 0)
        stored = np.repeat(self._char_start.array[known], lengths) + tokens.within[at]
        stored = np.minimum(stored, self._chars.size - 1)
        same = self._chars.array[stored] == tokens.codes[tokens.pos[at]]
        return ((ids >= 0) & (self._char_len.array[known] == lengths)
                & np.logical_and.reduceat(same, first))

    def _remember(self, tokens: list[str], first_id: int) -> None:
        """Index new tokens (ids from ``first_id`` on) by hash, keeping their code points."""
        found = _Tokens(_code_points("\n".join(tokens)))
        self._char_start.extend(self._chars.size + found.starts)
        self._char_len.extend(found.lengths)
        self._chars.extend(found.codes)
        ids = np.arange(first_id, first_id + len(tokens))
        new = self._index.find(found.hashes) < 0  # else a collision: found the slow way
        _, first = np.unique(found.hashes[new], return_index=True)
        self._index.insert(found.hashes[new][first], ids[new][first])

    def _unescaped(self, texts: list[str], ids: np.ndarray,
                   ptr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The token ids of each text after :func:`undo_html`, given those before."""
        fixed = {i: undo_html(t) for i, t in enumerate(texts) if "<" in t or "&" in t}
        fixed = {i: f for i, f in fixed.items() if f != texts[i]}
        if not fixed:
            return ids, ptr
        new_ids, new_ptr = self._lookup(list(fixed.values()))
        docs = np.fromiter(fixed, np.int64, len(fixed))
        starts, lengths = ptr[:-1].copy(), np.diff(ptr)
        starts[docs], lengths[docs] = len(ids) + new_ptr[:-1], np.diff(new_ptr)
        return np.concatenate([ids, new_ids])[_segment_index(starts, lengths)], _offsets(lengths)

    def _add_tokens(self, tokens: list[str]) -> None:
        """Analyse new distinct tokens (digits already read as 0).

        New facts go to flat lists of ints, not to tuples and lists that would survive
        the call: many surviving containers set off costly garbage collections.
        """
        first_id, n_words = self._facts.size, len(self.words)
        rows: list[int] = []
        norms: list[int] = []
        new = _NewNorms([], [], [], [])
        width, norm_ids, norm_facts = len(WORD_FACTS), self._norm_ids, self._norm_facts
        for token in tokens:
            norm, *counts = normalize_unescaped(token)
            norm_id = norm_ids.get(norm)
            if norm_id is None:
                norm_id = self._add_norm(norm, new)
            rows += raw_token_facts(token)
            rows += counts
            rows += norm_facts[width * norm_id : width * (norm_id + 1)]
            norms.append(norm_id)
        self._token_ids.update(zip(tokens, range(first_id, first_id + len(tokens))))
        self._facts.extend(np.reshape(rows, (len(tokens), -1)))
        self._token_norm.extend(norms)
        self._norm_words.extend(new.words, new.word_counts)
        self._norm_pieces.extend(new.pieces, new.piece_counts)
        masks = [m for w in self.words[n_words:] for m in phrase_masks(w)]
        self._word_masks.extend(np.reshape(masks, (-1, len(PHRASE_COLUMNS))))
        self._remember(tokens, first_id)

    def _add_norm(self, norm: str, new: _NewNorms) -> int:
        norm_id = self._norm_ids[norm] = len(self._norm_ids)
        self._norm_facts += norm_token_facts(norm)
        words = norm.split()
        new.words += [self._intern(w, self._word_ids, self.words) for w in words]
        new.word_counts.append(len(words))
        pieces = self._pieces_re.findall(norm) if self._pieces_re else ()
        new.pieces += [self._intern(p, self._piece_ids, self.pieces) for p in pieces]
        new.piece_counts.append(len(pieces))
        return norm_id

    @staticmethod
    def _intern(key: str, ids: dict[str, int], keys: list[str]) -> int:
        found = ids.get(key)
        if found is None:
            found = ids[key] = len(keys)
            keys.append(key)
        return found

    # -- signals ------------------------------------------------------------------------
    def _signals(self, texts: list[str], raw: tuple, tokens: tuple, words: tuple) -> np.ndarray:
        facts, n_raw = self._facts.array, len(RAW_FACTS)
        if tokens[0] is raw[0]:  # no HTML undone: one stream for both
            sums = _doc_sums(facts, *raw)
            raw_sums, norm_sums = sums[:, :n_raw], sums[:, n_raw:]
        else:
            raw_sums = _doc_sums(facts[:, :n_raw], *raw)
            norm_sums = _doc_sums(facts[:, n_raw:], *tokens)
        flags = {
            "starts_with_mention": self._first_token_fact(*raw),
            "starts_with_question_word": self._first_word_fact(*tokens),
            "amount_across": self._amount_across(texts, *raw),
            "spam_phrase": phrase_hits(self._word_masks.array, *words),
        }
        n_chars = np.fromiter(map(len, texts), np.int64, len(texts))
        return signal_matrix(n_chars, raw_sums, norm_sums, flags)

    def _column(self, name: str) -> np.ndarray:
        return self._facts.array[:, _FACT_COLUMNS[name]]

    def _first_token_fact(self, ids: np.ndarray, ptr: np.ndarray) -> np.ndarray:
        """Whether each comment's first token starts with "@" (``text.lstrip()[0]``)."""
        out = np.zeros(len(ptr) - 1, dtype=bool)
        some = np.flatnonzero(np.diff(ptr))
        out[some] = self._column("at_start")[ids[ptr[some]]] > 0
        return out

    def _first_word_fact(self, ids: np.ndarray, ptr: np.ndarray) -> np.ndarray:
        """Whether each comment's first word is a question word."""
        has_words = self._column("words")[ids] > 0
        before = _offsets(has_words)[ptr]  # tokens with words before each comment
        some = np.flatnonzero(before[1:] > before[:-1])
        first = np.flatnonzero(has_words)[before[some]]
        out = np.zeros(len(ptr) - 1, dtype=bool)
        out[some] = self._column("first_question_word")[ids[first]] > 0
        return out

    def _amount_across(self, texts: list[str], ids: np.ndarray, ptr: np.ndarray) -> np.ndarray:
        """Whether an amount spans the space between two tokens (checked on the text)."""
        out = np.zeros(len(ptr) - 1, dtype=bool)
        left = self._column("amount_left")[ids[:-1]].astype(np.int64)
        pos = np.flatnonzero(left)
        right = self._column("amount_right")[ids[pos + 1]].astype(np.int64)
        pos = pos[(left[pos] & right) != 0]
        doc = np.searchsorted(ptr, pos, side="right") - 1
        for d in np.unique(doc[pos + 1 < ptr[doc + 1]]).tolist():
            out[d] = has_amount(texts[d])
        return out


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
        frame.insert(0, TEXT_COLUMN, np.asarray(cache.norm_texts(batch), dtype=object))
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
    """Columns of a :class:`SubwordVectorizer` vocabulary's n-grams, found with numpy."""

    def __init__(self, vec: SubwordVectorizer):
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


class _NgramRows:
    """Word -> n-gram count rows of a fitted :class:`SubwordVectorizer`: its training words,
    then each unseen word as it is met. :meth:`row_ids` maps words to rows of :meth:`matrix`.
    """

    def __init__(self, vec: SubwordVectorizer):
        fitted = vec.word_ngrams_
        self._vec = vec
        self._index = dict(vec.word_index_)
        self.n_fitted = len(self._index)
        self._indptr, self._indices = _Growing(np.int32), _Growing(np.int32)
        self._data = _Growing(np.float64)
        self._indptr.extend(fitted.indptr)
        self._indices.extend(fitted.indices)
        self._data.extend(fitted.data)

    @property
    def size(self) -> int:
        return len(self._index)

    def row_ids(self, words: list[str]) -> np.ndarray:
        return _memo_ids(self._index, words, self._add)

    def matrix(self) -> sp.csr_matrix:
        return sp.csr_matrix(
            (self._data.array, self._indices.array, self._indptr.array),
            shape=(self.size, len(self._vec.vocabulary_)),
        )

    def _add(self, words: list[str]) -> None:
        word, cols = self._vec._gram_index().columns(words)
        ends = np.searchsorted(word, np.arange(1, len(words) + 1))
        self._indptr.extend(self._indptr.array[-1] + ends)
        self._indices.extend(cols)
        self._data.extend(np.ones(len(cols)))
        self._index.update(zip(words, range(self.size, self.size + len(words))))


def _word_counts(rows: np.ndarray, ptr: np.ndarray, n_rows: int) -> sp.csr_matrix:
    """Documents x words count matrix from each document's word rows."""
    return sp.csr_matrix((np.ones(len(rows)), rows, ptr), shape=(len(ptr) - 1, n_rows))


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

    def _gram_index(self) -> _GramIndex:
        """Vocabulary lookup for unseen words (built on first use, not pickled)."""
        index = self.__dict__.get("_gram_index_cache")
        if index is None:
            index = self.__dict__["_gram_index_cache"] = _GramIndex(self)
        return index

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


# -- the fast path ------------------------------------------------------------------------

#: ``TfidfVectorizer`` parameters whose values :class:`CommentFeaturizer` reproduces.
_WORD_PARAMS = {
    "input": "content", "analyzer": "word", "preprocessor": None, "tokenizer": None,
    "stop_words": None, "strip_accents": None, "lowercase": False, "token_pattern": WORD_PATTERN,
    "binary": False, "norm": "l2", "use_idf": True, "dtype": np.float64,
}


def _reproducible(words, chars, signals, columns: list) -> bool:
    """Whether fitted ``build_features`` parts are ones :class:`CommentFeaturizer` mirrors."""
    if not (isinstance(words, TfidfVectorizer) and isinstance(chars, SubwordVectorizer)):
        return False
    params = words.get_params()
    identity = signals == "passthrough" or (
        isinstance(signals, FunctionTransformer) and signals.func is None)
    return (all(params[k] == v for k, v in _WORD_PARAMS.items())
            and max(words.ngram_range) <= 2 and identity
            and columns == [TEXT_COLUMN, TEXT_COLUMN, list(SIGNAL_NAMES)])


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
        """``matrix @ weights`` for dense ``weights`` of shape (n_features, k)."""
        out = self.signals @ weights[-self.signals.shape[1] :] if self.signals.shape[1] else 0
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

    def __init__(self, words: TfidfVectorizer, chars: SubwordVectorizer, *,
                 max_tokens: int = MAX_CACHED_TOKENS):
        self.words, self.chars, self.max_tokens = words, chars, max_tokens
        self._index_word_ngrams(words.vocabulary_)
        self.clear()

    @classmethod
    def from_pipeline(cls, pipeline) -> CommentFeaturizer | None:
        """The featurizer of a fitted :func:`commentqa.build_pipeline`-shaped pipeline
        (prepare, features, classifier), or None when its steps differ from those."""
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
        if not (features.sparse_output_ and _reproducible(words, chars, signals, columns)):
            return None
        return cls(words, chars)

    def clear(self) -> None:
        """Forget the memoised tokens and unseen words."""
        self._tokens = TokenCache(self.words.token_pattern)
        self._rows = _NgramRows(self.chars)
        self._piece_part, self._word_row = _Growing(), _Growing()

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
        row, col = np.concatenate(rows), np.concatenate(cols)
        counts = sp.csr_matrix((np.ones(len(row)), (row, col)),
                               shape=(len(ptr) - 1, len(self.words.vocabulary_)))
        return _tfidf_unscaled(counts, self.words.idf_, self.words.sublinear_tf)

    def _char_tfidf(self, batch: TokenBatch) -> sp.csr_matrix:
        rows = self._word_row.array[batch.words]
        counts = _word_counts(rows, batch.word_ptr, self._rows.size) @ self._rows.matrix()
        return _tfidf_unscaled(counts, self.chars.idf_, self.chars.sublinear_tf)
