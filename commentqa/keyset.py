"""A set of 64-bit keys for streaming de-duplication, in bounded memory.

Recent keys live in a few sorted numpy arrays of decreasing size (a log-structured merge):
a batch is checked with binary searches and inserted as a new array, and arrays of similar
size are merged. Past ``memory_keys`` keys, the arrays are merged into one sorted run that
goes to a temporary file; a Bloom filter of fixed size and a sparse index of each run stay
in memory. A key the filter may have seen is checked exactly, by reading the one block of
each run that could hold it. Answers are exact; memory is about ``8 * memory_keys`` bytes
plus the filter, however many keys there are.
"""

from __future__ import annotations

import os
import tempfile
from typing import IO

import numpy as np

__all__ = ["KeySet"]

#: Keys kept in memory before they are written out as a run.
MEMORY_KEYS = 1 << 18
#: Bits of the Bloom filter over the keys on disk (16 MiB). Measured on random keys: about
#: 12 in 10,000 new keys need a disk check after 5 million keys, 5 in 100 after 20 million.
BLOOM_BITS = 1 << 27
_BLOOM_HASHES = 4
_BLOCK_KEYS = 512  # keys per block of a run: one 4 KiB read checks a key against a run
#: Keys of a new run hashed into the filter at a time: hashing a whole run at once took
#: ten 8-byte temporaries per key, a 15 MB spike in a scoring run's main process.
_BLOOM_SLICE = 1 << 14
_MIX = np.uint64(0x9E3779B97F4A7C15)


class KeySet:
    """Remembers 64-bit keys; :meth:`add_new` says which keys of a batch are new.

    ``spill_dir`` is where runs are written (the system temporary folder by default); the
    file is anonymous and disappears when the set is garbage-collected or closed.
    """

    def __init__(self, memory_keys: int = MEMORY_KEYS, bloom_bits: int = BLOOM_BITS,
                 spill_dir: str | os.PathLike | None = None) -> None:
        if bloom_bits < 128 or bloom_bits & (bloom_bits - 1):
            raise ValueError(f"bloom_bits must be a power of two >= 128, got {bloom_bits}")
        self.memory_keys = memory_keys
        self._bloom_bits = bloom_bits
        self._spill_dir = spill_dir
        self._levels: list[np.ndarray] = []
        self._bloom: np.ndarray | None = None  # allocated at the first spill
        self._file: IO[bytes] | None = None
        self._runs: list[tuple[int, int, np.ndarray]] = []  # (offset, length, first keys)
        self._on_disk = 0

    def __len__(self) -> int:
        return self._on_disk + sum(len(level) for level in self._levels)

    @property
    def nbytes(self) -> int:
        """Bytes held in memory (keys, filter and run indexes)."""
        memory = sum(level.nbytes for level in self._levels)
        memory += sum(index.nbytes for _, _, index in self._runs)
        return memory + (self._bloom.nbytes if self._bloom is not None else 0)

    def close(self) -> None:
        """Delete the runs on disk (the set is empty afterwards)."""
        if self._file is not None:
            self._file.close()
        self.__init__(self.memory_keys, self._bloom_bits, self._spill_dir)

    def add_new(self, keys: np.ndarray) -> np.ndarray:
        """Insert ``keys``; True where a key is seen for the first time (a key repeated
        within the batch is new only at its first position)."""
        keys = np.asarray(keys, dtype=np.uint64)
        uniq, first = np.unique(keys, return_index=True)
        fresh = np.ones(len(uniq), dtype=bool)
        for level in self._levels:
            pos = np.searchsorted(level, uniq)
            pos[pos == len(level)] = len(level) - 1
            fresh &= level[pos] != uniq
        if self._runs:
            maybe = np.flatnonzero(fresh)
            maybe = maybe[self._bloom_has(uniq[maybe])]
            if maybe.size:
                fresh[maybe] = ~self._on_disk_has(uniq[maybe])
        new = uniq[fresh]
        if len(new):
            self._insert(new)
        mask = np.zeros(len(keys), dtype=bool)
        mask[first[fresh]] = True
        return mask

    # -- memory ---------------------------------------------------------------------------
    def _insert(self, new: np.ndarray) -> None:
        self._levels.append(new)
        while len(self._levels) > 1 and len(self._levels[-1]) * 2 >= len(self._levels[-2]):
            top = self._levels.pop()
            merged = np.concatenate([self._levels.pop(), top])
            merged.sort(kind="stable")
            self._levels.append(merged)
        if sum(len(level) for level in self._levels) >= self.memory_keys:
            self._spill()

    # -- disk -----------------------------------------------------------------------------
    def _spill(self) -> None:
        run = np.concatenate(self._levels)
        self._levels = []
        run.sort()
        if self._file is None:
            # Open as long as the set lives; close() deletes it.
            self._file = tempfile.TemporaryFile(  # noqa: SIM115
                prefix="commentqa-keys-", dir=self._spill_dir)
            self._bloom = np.zeros(self._bloom_bits // 64, dtype=np.uint64)
        offset = self._file.seek(0, os.SEEK_END)
        self._file.write(memoryview(run).cast("B"))  # no copy of the run
        self._file.flush()
        self._runs.append((offset, len(run), run[::_BLOCK_KEYS].copy()))
        self._on_disk += len(run)
        for start in range(0, len(run), _BLOOM_SLICE):
            self._bloom_add(run[start : start + _BLOOM_SLICE])

    # A blocked Bloom filter: each key sets BLOOM_HASHES bits of one 64-bit word, so adding
    # or testing a key touches one cache line.
    def _bloom_words(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        assert self._bloom is not None
        mixed = keys * _MIX
        word = (mixed >> np.uint64(64 - (len(self._bloom).bit_length() - 1))).astype(np.int64)
        spread = (mixed ^ (mixed >> np.uint64(29))) * _MIX
        mask = np.zeros(len(keys), dtype=np.uint64)
        for i in range(_BLOOM_HASHES):
            mask |= np.left_shift(np.uint64(1), (spread >> np.uint64(6 * i)) & np.uint64(63))
        return word, mask

    def _bloom_add(self, keys: np.ndarray) -> None:
        assert self._bloom is not None
        word, mask = self._bloom_words(keys)
        todo = np.arange(len(keys))
        while todo.size:  # keys sharing a word: one of them sticks per pass
            self._bloom[word[todo]] |= mask[todo]
            todo = todo[self._bloom[word[todo]] & mask[todo] != mask[todo]]

    def _bloom_has(self, keys: np.ndarray) -> np.ndarray:
        assert self._bloom is not None
        word, mask = self._bloom_words(keys)
        return self._bloom[word] & mask == mask

    def _on_disk_has(self, keys: np.ndarray) -> np.ndarray:
        """Exact membership of ``keys`` (sorted, distinct) in the runs on disk."""
        assert self._file is not None
        found = np.zeros(len(keys), dtype=bool)
        fd = self._file.fileno()
        for offset, length, index in self._runs:
            block = np.searchsorted(index, keys, side="right") - 1
            for b in np.unique(block[block >= 0]).tolist():
                start = b * _BLOCK_KEYS
                count = min(_BLOCK_KEYS, length - start)
                data = os.pread(fd, 8 * count, offset + 8 * start)
                stored = np.frombuffer(data, dtype=np.uint64)
                these = np.flatnonzero(block == b)
                pos = np.minimum(np.searchsorted(stored, keys[these]), count - 1)
                found[these] |= stored[pos] == keys[these]
        return found
