"""Benchmark the Dask adapter beside ``commentqa score`` on the same generated dump.

    python benchmarks/bench_dask.py [--rows 1000000] [--workers 2] [--repeats 2] [--record]

The dump of ``bench_score.py`` is written as a folder of Parquet files of
:data:`FILE_ROWS` rows (the form a cluster's storage holds; ``dd.read_json`` parses with
pandas, which takes about 20 bytes of memory per byte of JSON). Both read that folder and write
comments and posts as Parquet, as subprocesses timed from start to exit (imports and model
loading included), in turn:

- ``commentqa score DIR --out OUT``: the batch scorer, one worker process per core;
- ``dask``: ``dd.read_parquet``, :func:`score_comments`, :func:`score_posts` and
  ``to_parquet`` for both in one ``compute``, on a local distributed cluster of ``--workers``
  single-threaded worker processes (``--scheduler processes`` for Dask's multiprocessing
  scheduler, which moves every partition through the client process).

Peak memory is sampled over each process tree as in ``bench_score.py``. ``--record`` writes
``benchmarks/results/dask.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_score import measure, record_results, run_score, write_dump

FILE_ROWS = 100_000  # rows per Parquet file of the dump: one Dask partition each
#: glibc's mmap threshold for the distributed workers, as the README advises (see ``child``).
DASK_MMAP_THRESHOLD = 4 << 20


def to_parquet_folder(jsonl: Path, rows: int) -> Path:
    """``bench_score``'s dump, as Parquet files of :data:`FILE_ROWS` rows in a folder."""
    import pandas as pd

    write_dump(jsonl, rows)
    folder = jsonl.with_suffix("")
    folder.mkdir()
    columns = {"id": "string", "post_id": "string", "author": "string", "text": "string",
               "parent_id": "string", "is_creator": "boolean", "like_count": "int64",
               "timestamp": "string"}
    reader = pd.read_json(jsonl, lines=True, chunksize=FILE_ROWS, dtype=False)
    for k, part in enumerate(reader):
        part = part.reindex(columns=list(columns)).astype(columns)
        part.to_parquet(folder / f"part{k:05d}.parquet", index=False)
    jsonl.unlink()
    return folder


def child(dump: str, out: str, workers: int, scheduler: str) -> None:
    """The Dask run itself (in its own process, so that it is measured like the CLI)."""
    import dask
    import dask.dataframe as dd

    from commentqa.dask_engine import score_comments, score_posts

    comments = dd.read_parquet(dump)
    scored = score_comments(comments)
    columns = ["id", "post_id", "parent_id", "label", "p_reaction", "p_question",
               "p_conversation", "p_spam", "reject_reason"]
    writes = (scored[columns].to_parquet(f"{out}/comments", compute=False),
              score_posts(scored).to_parquet(f"{out}/posts", compute=False))
    # One pass: both writes in one graph, so each partition is read and scored once.
    if scheduler == "distributed":
        from distributed import Client, LocalCluster

        # The nanny's MALLOC_TRIM_THRESHOLD_ also pins glibc's mmap threshold at 128 KiB, so
        # every array of a scored slice is mmapped and unmapped: 58 s of task time instead
        # of 44 s on the 1M dump. 4 MiB is the README's advice, measured here.
        dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_MMAP_THRESHOLD_":
                         DASK_MMAP_THRESHOLD})
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster):
            dask.compute(*writes)
    else:
        with dask.config.set(scheduler="processes", num_workers=workers):
            dask.compute(*writes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--record", action="store_true")
    parser.add_argument("--scheduler", choices=["distributed", "processes"],
                        default="distributed",
                        help="a local distributed cluster (default) or the processes scheduler")
    parser.add_argument("--child", nargs=2, metavar=("DUMP", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child, args.workers, args.scheduler)
        return 0
    runs: dict[str, list[dict]] = {"commentqa score": [], "dask": []}
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        dump = to_parquet_folder(Path(tmp) / "dump.jsonl", args.rows)
        os.sync()
        for k in range(args.repeats):
            runs["commentqa score"].append(
                run_score(dump, Path(tmp) / f"cli{k}", args.workers))
            runs["dask"].append(measure([sys.executable, __file__, "--workers",
                                         str(args.workers), "--scheduler", args.scheduler,
                                         "--child", str(dump),
                                         str(Path(tmp) / f"dask{k}")]))
            print(json.dumps({name: r[-1] for name, r in runs.items()}), flush=True)
    results = {}
    for name, done in runs.items():
        seconds = round(statistics.median(r["seconds"] for r in done), 2)
        results[name] = {"seconds": seconds, "rows_per_s": round(args.rows / seconds),
                         "rows_per_s_per_core": round(args.rows / seconds / args.workers),
                         "peak_pss_mb_tree": max(r["peak_pss_mb_tree"] for r in done),
                         "runs_seconds": [r["seconds"] for r in done]}
    print(json.dumps(results, indent=2))
    if args.record:
        record_results("dask", argv, {"rows": args.rows, "workers": args.workers}, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
