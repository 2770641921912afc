"""Keep a long-running process's heap from creeping (glibc only; elsewhere a no-op).

glibc serves large allocations from ``mmap`` above a threshold that it raises as blocks are
freed; past that, blocks of a few hundred KB come from the heap, which fragments and grows
slowly with the number of chunks a batch run handles. Fixing the threshold keeps such
blocks in ``mmap``, so they go back to the system when freed. It costs system time, so only
the batch command sets it: low in its parent process, which mostly moves data between
workers, higher in the workers.

glibc also hands the top of the heap back to the system whenever more than the trim
threshold lies free there, and fixing the mmap threshold stops glibc from raising that
above its 128 KB default: a process whose arrays come and go every chunk then gives pages
back and faults them in again, page by page. A high trim threshold keeps them (the heap
stays at its high-water mark).

What the high threshold keeps can still fragment: holes that only part of a later block
fits. :func:`release_free_pages`, called now and then, hands back the whole free pages of
every hole (glibc's ``malloc_trim``), so a process that runs for millions of comments
holds what it uses plus what it freed since the last call.
"""

from __future__ import annotations

import ctypes
import functools
import platform

__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "fix_mmap_threshold", "release_free_pages"]

#: Bytes from which allocations are served by ``mmap`` (glibc's initial default).
MMAP_THRESHOLD = 128 * 1024
#: Free bytes at the top of the heap above which glibc gives them back to the system.
TRIM_THRESHOLD = 512 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters, from glibc's malloc.h


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL(None)
    except OSError:
        return None


def fix_mmap_threshold(threshold: int = MMAP_THRESHOLD, trim: int = TRIM_THRESHOLD) -> bool:
    """Fix glibc's mmap and trim thresholds for this process; True when they were set."""
    libc = _glibc()
    if libc is None:
        return False
    mallopt = libc.mallopt
    return bool(mallopt(_M_MMAP_THRESHOLD, threshold) and mallopt(_M_TRIM_THRESHOLD, trim))


def release_free_pages() -> bool:
    """Give the free pages of the heap, holes included, back to the system; True when glibc
    gave any back."""
    libc = _glibc()
    return bool(libc is not None and libc.malloc_trim(0))
