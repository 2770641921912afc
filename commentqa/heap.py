"""Keep a long-running process's heap from creeping (glibc only; elsewhere a no-op).

glibc serves large allocations from ``mmap`` above a threshold that it raises as blocks are
freed; past that, blocks of a few hundred KB come from the heap, which fragments and grows
slowly with the number of chunks a batch run handles. Fixing the threshold keeps such
blocks in ``mmap``, so they go back to the system when freed. It costs system time, so only
the batch command's parent process, which mostly moves data between workers, sets it.
"""

from __future__ import annotations

import ctypes
import platform

__all__ = ["MMAP_THRESHOLD", "fix_mmap_threshold"]

#: Bytes from which allocations are served by ``mmap`` (glibc's initial default).
MMAP_THRESHOLD = 128 * 1024
_M_MMAP_THRESHOLD = -3  # mallopt parameter, from glibc's malloc.h


def fix_mmap_threshold(threshold: int = MMAP_THRESHOLD) -> bool:
    """Fix glibc's mmap threshold for this process; True when it was set."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        return bool(ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, threshold))
    except (OSError, AttributeError):
        return False
