"""Token analysis for batch featurisation: each distinct token analysed once, then found by hash.

:class:`TokenCache` analyses each distinct whitespace-separated token once; a batch of
comments then costs a dictionary lookup per token plus numpy work. A comment's normalised
words, word pieces and signals follow from its token ids (:mod:`commentqa.signals` explains
why that is exact). Needs numpy and scipy only: no scikit-learn.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from itertools import repeat

import numpy as np
import scipy.sparse as sp

from .normalize import normalize_unescaped, undo_html
from .signals import (
    NORM_FACTS,
    PHRASE_COLUMNS,
    RAW_FACTS,
    WORD_FACTS,
    has_amount,
    norm_token_facts,
    phrase_hits,
    phrase_masks,
    raw_facts_of_tokens,
    signal_matrix,
)

__all__ = ["MAX_CACHED_TOKENS", "TokenBatch", "TokenCache"]

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
    pd = sys.modules.get("pandas")  # a frame means pandas is loaded; predicting needs none
    if pd is not None and isinstance(X, pd.DataFrame):
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

    def clear(self) -> None:
        """Empty it, keeping its capacity: filling it again allocates nothing."""
        self.size = 0

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

    def clear(self) -> None:
        for part in (self._starts, self._lengths, self._flat):
            part.clear()

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

    def clear(self) -> None:
        """Remove every key, keeping the capacity."""
        self._ids.fill(-1)
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
        self._index = _HashIndex()
        self._chars, self._char_start, self._char_len = _Growing(np.uint32), _Growing(), _Growing()
        self._facts = _Growing(np.float64, len(_FACT_COLUMNS))
        self._token_norm = _Growing()
        self._norm_words, self._norm_pieces = _Segments(), _Segments()
        self._word_masks = _Growing(np.int64, len(PHRASE_COLUMNS))
        self.clear()

    def __len__(self) -> int:
        return len(self._token_ids)

    def clear(self) -> None:
        """Forget every token, word and piece. The arrays keep their capacity: a cache that
        fills and restarts allocates them once, so a long run's heap does not fragment."""
        for table in (self._index, self._chars, self._char_start, self._char_len, self._facts,
                      self._token_norm, self._norm_words, self._norm_pieces, self._word_masks):
            table.clear()
        self._token_ids: dict[str, int] = {}
        self._norm_ids: dict[str, int] = {}
        self._norm_facts: list[int] = []  # norm_token_facts of each, flat
        self._word_ids: dict[str, int] = {}
        #: Distinct normalised words, by id.
        self.words: list[str] = []
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

    def _remember(self, found: _Tokens, first_id: int) -> None:
        """Index new tokens (``found``, ids from ``first_id`` on) by hash, keeping their
        code points."""
        self._char_start.extend(self._chars.size + found.starts)
        self._char_len.extend(found.lengths)
        self._chars.extend(found.codes)
        ids = np.arange(first_id, first_id + len(found.lengths))
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
        found = _Tokens(_code_points("\n".join(tokens)))
        raw = raw_facts_of_tokens(tokens, found.codes, found.starts, found.lengths)
        rows: list[int] = []
        norms: list[int] = []
        new = _NewNorms([], [], [], [])
        width, norm_ids, norm_facts = len(WORD_FACTS), self._norm_ids, self._norm_facts
        for token in tokens:
            norm, *counts = normalize_unescaped(token)
            norm_id = norm_ids.get(norm)
            if norm_id is None:
                norm_id = self._add_norm(norm, new)
            rows += counts
            rows += norm_facts[width * norm_id : width * (norm_id + 1)]
            norms.append(norm_id)
        self._token_ids.update(zip(tokens, range(first_id, first_id + len(tokens))))
        self._facts.extend(np.hstack([raw, np.reshape(rows, (len(tokens), -1))]))
        self._token_norm.extend(norms)
        self._norm_words.extend(new.words, new.word_counts)
        self._norm_pieces.extend(new.pieces, new.piece_counts)
        masks = [m for w in self.words[n_words:] for m in phrase_masks(w)]
        self._word_masks.extend(np.reshape(masks, (-1, len(PHRASE_COLUMNS))))
        self._remember(found, first_id)

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


