"""Memory and time of the batch scorer's per-post tally when a dump has very many posts.

    python benchmarks/bench_posts.py [--comments 1000000] [--posts 500000] [--memory-posts N]

Feeds ``--comments`` synthetic scored comments, in chunks of 10,000, spread uniformly over up
to ``--posts`` posts (nano creators' dumps: a few comments per post) and 400,000 authors, to
the accumulator ``commentqa score`` uses (:class:`commentqa.batch._PostAccumulator`), then
streams out the posts table. Prints the seconds of each phase and this process's RSS growth
after the tally and at its peak (``VmHWM``). ``--memory-posts`` sets how many posts stay in
memory before the counts spill to sorted runs on disk (default
:data:`commentqa.batch.MEMORY_POSTS`; a number above ``--posts`` keeps everything in memory).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

import numpy as np
import pandas as pd

from commentqa import batch
from commentqa.labels import LABELS
from commentqa.scoring import PostTally

CHUNK = 10_000


def _status_mb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        line = next(x for x in fh if x.startswith(field + ":"))
    return int(line.split()[1]) // 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=1_000_000)
    parser.add_argument("--posts", type=int, default=500_000)
    parser.add_argument("--memory-posts", type=int, default=batch.MEMORY_POSTS)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    labels = np.array(LABELS)
    base = _status_mb("VmRSS")
    with tempfile.TemporaryDirectory() as tmp:
        acc = batch._PostAccumulator(spill_dir=tmp, memory_posts=args.memory_posts)
        start = time.perf_counter()
        for done in range(0, args.comments, CHUNK):
            n = min(CHUNK, args.comments - done)
            scored = pd.DataFrame({
                "post_id": pd.Series([f"post{x}" for x in rng.integers(0, args.posts, n)],
                                     dtype=object),
                "author": pd.Series([f"u{x}" for x in rng.integers(0, 400_000, n)],
                                    dtype=object),
                "label": pd.Categorical(labels[rng.integers(0, len(labels), n)],
                                        categories=list(labels)),
                "parent_id": pd.Series([None] * n, dtype=object),
                "is_creator": np.zeros(n, dtype=bool)})
            acc.add(PostTally.from_scored(scored))
        tallied, after_tally = time.perf_counter(), _status_mb("VmRSS")
        posts = sum(len(table) for table in acc.tables())
        acc.close()
    print(f"{args.comments:,} comments, {posts:,} posts, memory_posts={args.memory_posts:,}: "
          f"tally {tallied - start:.1f} s, posts table {time.perf_counter() - tallied:.1f} s; "
          f"RSS +{after_tally - base} MB after the tally, peak +{_status_mb('VmHWM') - base} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
