"""A compact set of 64-bit keys for streaming de-duplication.

Keys live in a few sorted numpy arrays of decreasing size (a log-structured merge): a
batch is checked with binary searches and inserted as a new array, and arrays of similar
size are merged. Memory is 8 bytes per key; inserting ``n`` keys costs ``O(n log n)``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["KeySet"]


class KeySet:
    """Remembers 64-bit keys; :meth:`add_new` says which keys of a batch are new."""

    def __init__(self) -> None:
        self._levels: list[np.ndarray] = []

    def __len__(self) -> int:
        return sum(len(level) for level in self._levels)

    @property
    def nbytes(self) -> int:
        return sum(level.nbytes for level in self._levels)

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
        new = uniq[fresh]
        if len(new):
            self._levels.append(new)
            while len(self._levels) > 1 and len(self._levels[-1]) * 2 >= len(self._levels[-2]):
                top = self._levels.pop()
                merged = np.concatenate([self._levels.pop(), top])
                merged.sort(kind="stable")
                self._levels.append(merged)
        mask = np.zeros(len(keys), dtype=bool)
        mask[first[fresh]] = True
        return mask
