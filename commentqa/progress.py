"""A one-line progress display for long runs, shown only on a terminal."""

from __future__ import annotations

import sys
import time
from typing import IO

__all__ = ["Progress"]


class Progress:
    """Rewrites one stderr line with rows done, throughput and, when known, percent of input.

    Silent unless the stream is a terminal; updates at most every ``interval`` seconds.
    """

    def __init__(self, total_bytes: int | None = None, stream: IO[str] | None = None,
                 interval: float = 0.25):
        self.stream = stream or sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.total_bytes = total_bytes or None
        self.interval = interval
        self._start = self._last = time.perf_counter()
        self._shown = False

    def __call__(self, rows: int, bytes_read: int) -> None:
        now = time.perf_counter()
        if not self.enabled or now - self._last < self.interval:
            return
        self._last = now
        rate = rows / max(now - self._start, 1e-9)
        text = f"\rcommentqa: {rows:,} comments, {rate:,.0f}/s"
        if self.total_bytes and bytes_read:
            text += f", {min(bytes_read / self.total_bytes, 1.0):.0%} of input"
        self.stream.write(text + "   ")
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
