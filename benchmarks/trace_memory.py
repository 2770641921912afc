"""Trace the memory of a batch run over time, process by process (Linux).

    python benchmarks/trace_memory.py tree   --rows 5000000 [--workdir DIR] [--every 1]
    python benchmarks/trace_memory.py worker --rows 5000000 [--workdir DIR] [--share 2]

``tree`` runs ``commentqa score`` on a generated dump (:func:`bench_score.write_dump`) and
samples every process's ``RssAnon`` (its private and copy-on-write anonymous memory: heap,
arrays, Python objects) every ``--every`` seconds; it prints the samples, then each
process's peak in the run's first fifth and over the whole run, which shows whether memory
grows with input or only swings. ``worker`` scores every ``--share``-th chunk in this one
process (one worker's share with two workers) and prints, every 5 chunks, the rows read so
far, ``RssAnon`` and the size of the token memo, which restarts past
:data:`commentqa.tokens.MAX_CACHED_TOKENS` tokens.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_score import _tree, write_dump


def anon_mb(pid: int | str = "self") -> int | None:
    """``RssAnon`` of a process in MiB, or None once it has gone."""
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"RssAnon:"):
                    return int(line.split()[1]) >> 10
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def trace_tree(dump: Path, out: Path, every: float) -> None:
    command = shutil.which("commentqa", path=str(Path(sys.executable).parent)) or "commentqa"
    proc = subprocess.Popen([command, "score", str(dump), "--out", str(out), "--quiet"])
    start = time.perf_counter()
    samples: list[tuple[float, dict[int, int]]] = []
    while proc.poll() is None:
        sizes = {p: anon_mb(p) for p in _tree(proc.pid)}
        sizes = {p: s for p, s in sizes.items() if s is not None}
        samples.append((time.perf_counter() - start, sizes))
        print(f"{samples[-1][0]:7.1f}s  " + "  ".join(f"{s:4d}" for s in sizes.values()),
              flush=True)
        time.sleep(every)
    if proc.returncode != 0:
        raise SystemExit(f"commentqa score exited {proc.returncode}")
    total = time.perf_counter() - start
    roles = {proc.pid: "parent"}
    for _, sizes in samples:
        for pid in sizes:
            roles.setdefault(pid, f"worker {len(roles)}")
    print(f"\nrun {total:.1f}s; RssAnon peak in MiB, first fifth of the run / whole run:")
    for pid, role in roles.items():
        early = [s[pid] for t, s in samples if pid in s and t <= total / 5]
        whole = [s[pid] for _, s in samples if pid in s]
        print(f"  {role:<9} {max(early, default=0):4d} / {max(whole):4d}")


def trace_worker(dump: Path, share: int) -> None:
    from commentqa.batch import WORKER_MMAP_THRESHOLD, score_chunk
    from commentqa.heap import fix_mmap_threshold
    from commentqa.persistence import load_model
    from commentqa.sources import open_source, read_chunks

    fix_mmap_threshold(WORKER_MMAP_THRESHOLD)  # as the command's workers do
    model = load_model()
    source = open_source(dump)
    print(f"{'rows read':>10} {'RssAnon MiB':>12} {'memo tokens':>12}")
    for n, chunk in enumerate(read_chunks(source, 10_000)):
        if n % share:
            continue
        score_chunk(chunk, model)
        if (n // share) % 5 == 0:
            featurizer = model._featurizer
            tokens = len(featurizer._tokens) if featurizer is not None else 0
            print(f"{(n + 1) * 10_000:>10,} {anon_mb():>12} {tokens:>12,}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["tree", "worker"])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--every", type=float, default=1.0, help="seconds between samples")
    parser.add_argument("--share", type=int, default=2, help="score every N-th chunk")
    args = parser.parse_args(argv)
    if anon_mb() is None:
        raise SystemExit("needs Linux /proc/PID/status")
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        dump = Path(tmp) / "dump.jsonl"
        write_dump(dump, args.rows)
        if args.mode == "tree":
            trace_tree(dump, Path(tmp) / "out", args.every)
        else:
            trace_worker(dump, args.share)
    return 0


if __name__ == "__main__":
    sys.exit(main())
