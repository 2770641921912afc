"""Benchmark ``commentqa score`` end to end beside the JSON parse floor, on a generated dump.

    python benchmarks/bench_score.py [--rows 1000000 5000000] [--jobs 2] [--repeats 3] [--record]

For each size it writes a realistic JSONL dump (see :func:`write_dump`), then, in the same
run and ``--repeats`` times in turn (medians are reported: the machine's speed drifts), times

- ``json floor``: reading the file line by line with Python's ``json.loads`` (one core);
- ``commentqa score``: the installed command, JSONL in, default output (Parquet), as a
  subprocess, wall clock from start to exit (model loading and process start included).

Peak memory is sampled over the scorer's whole process tree (parent + workers): the RSS sum
(shared pages counted once per process, an overstatement) and the largest single RSS every
50 ms, the PSS sum (the tree's real footprint, shared pages split between processes) every
0.5 s, since reading it costs the measured processes time; the highest PSS of every 5 s goes
to a timeline, which shows whether memory levels off as a run goes on.
``--record`` writes the figures to ``benchmarks/results/score.json``.

The dump: texts come from the training corpus (``training/data``), so the benchmark runs
anywhere; about 30% of rows repeat a text verbatim (dumps repeat "🔥🔥🔥" and "wow"), the
rest are made distinct the way real comments differ: a tagged friend, extra emoji, a typo,
two comments run together, a trailing word. Comments are spread over posts with a
heavy-tailed size distribution; 20% are replies (5% of those by the creator); authors come
from a pool of 40% of the row count.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EMOJI = ["🔥", "😍", "😂", "🙏", "👏🏽", "❤️", "💀", "😭", "✨", "👀", "🇧🇷", "👩‍💻", "🥹", "💯"]
TAILS = ["lol", "fr", "tbh", "!!", "??", "omg", "pls", "kak", "yaar", "jajaja", "mano", "bro",
         "sis", "ngl", "haha", "po", "la", "dong", "😅", "..."]


def pool_texts() -> list[str]:
    texts = []
    for path in sorted((ROOT / "training" / "data").glob("*.jsonl")):
        with open(path, encoding="utf-8") as fh:
            texts += [json.loads(line)["text"] for line in fh if line.strip()]
    return texts


def vary(text: str, rng: random.Random, pool: list[str], n: int) -> str:
    """Make ``text`` distinct the way real comments differ from each other."""
    kind = rng.randrange(5)
    if kind == 0:
        return f"@user{rng.randrange(10**6)} {text}"
    if kind == 1:
        return f"{text} {rng.choice(EMOJI) * rng.randint(1, 3)}"
    if kind == 2 and len(text) > 4:
        i = rng.randrange(1, len(text) - 1)
        return text[:i] + text[i + 1:] + (" " + str(n % 97) if rng.random() < 0.5 else "")
    if kind == 3:
        return f"{text} {rng.choice(pool)}"
    return f"{text} {rng.choice(TAILS)} {rng.choice(TAILS)}"


def write_dump(path: Path, rows: int, seed: int = 0) -> float:
    """Write ``rows`` comments as JSONL; returns the share of distinct texts."""
    rng = random.Random(seed)
    pool = pool_texts()
    n_posts = max(rows // 200, 1)
    authors = max(int(rows * 0.4), 1)
    seen: set[int] = set()
    recent: list[str] = []
    with open(path, "w", encoding="utf-8") as fh:
        for n in range(rows):
            text = rng.choice(pool)
            if rng.random() >= 0.3:
                text = vary(text, rng, pool, n)
            seen.add(hash(text))
            post = int(n_posts * rng.paretovariate(1.2)) % n_posts
            row = {"id": f"c{n}", "post_id": f"post{post}",
                   "author": f"user{rng.randrange(authors)}", "text": text,
                   "like_count": int(rng.paretovariate(1.5)) - 1,
                   "timestamp": f"2026-0{1 + n % 9}-1{n % 10}T12:00:00Z"}
            if recent and rng.random() < 0.2:
                row["parent_id"] = rng.choice(recent)
                row["is_creator"] = rng.random() < 0.05
            else:
                recent = [*recent, row["id"]][-50:]
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return len(seen) / rows


def json_floor(path: Path) -> float:
    start = time.perf_counter()
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            json.loads(line)
    return time.perf_counter() - start


_PAGE = os.sysconf("SC_PAGE_SIZE")
#: Seconds between memory samples: RSS (``/proc/PID/statm``, cheap) every RSS_EVERY, PSS
#: (``smaps_rollup``, which walks the page tables: about 10 ms for a 400 MB process, and
#: it stalls that process meanwhile) every PSS_EVERY, so the sampler does not slow the run.
RSS_EVERY, PSS_EVERY = 0.05, 0.5
#: Seconds between points of the PSS timeline (each the highest PSS sampled since the last),
#: which shows whether memory levels off as a run goes on or keeps growing.
TIMELINE_EVERY = 5.0


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    out, stack = [], [pid]
    while stack:
        p = stack.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    stack += [int(c) for c in fh.read().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return out


def _rss(pids: list[int]) -> tuple[int, int]:
    """(RSS sum, largest RSS) in bytes; shared pages count once per process."""
    sizes = []
    for p in pids:
        try:
            with open(f"/proc/{p}/statm") as fh:
                sizes.append(int(fh.read().split()[1]) * _PAGE)
        except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
            continue
    return sum(sizes), max(sizes, default=0)


def _pss(pids: list[int]) -> int:
    """PSS sum in bytes: pages shared between processes (forked workers share the parent's
    model and libraries) are split between them, so the sum is the tree's real footprint."""
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
            total += int(fields["Pss"].split()[0]) * 1024
        except (FileNotFoundError, ProcessLookupError, ValueError, KeyError):
            continue
    return total


def measure(args: list[str]) -> dict:
    """Run ``args`` as a subprocess: wall seconds and peak memory of its process tree."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
    peak = [0, 0, 0]
    timeline: list[list[float]] = []  # [seconds, highest PSS MB since the last point]

    def sample() -> None:
        next_pss, window = 0.0, 0
        while proc.poll() is None:
            pids = _tree(proc.pid)
            rss_sum, largest = _rss(pids)
            peak[1], peak[2] = max(peak[1], rss_sum), max(peak[2], largest)
            now = time.perf_counter()
            if now >= next_pss:
                pss = _pss(pids)
                peak[0], window = max(peak[0], pss), max(window, pss)
                next_pss = now + PSS_EVERY
                if now - start >= TIMELINE_EVERY * (len(timeline) + 1):
                    timeline.append([round(now - start, 1), round(window / 2**20, 1)])
                    window = 0
            time.sleep(RSS_EVERY)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    seconds = time.perf_counter() - start
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args[:2])} failed: {err}")
    return {"seconds": round(seconds, 2),
            "peak_pss_mb_tree": round(peak[0] / 2**20, 1),
            "peak_rss_mb_tree": round(peak[1] / 2**20, 1),
            "peak_rss_mb_largest_process": round(peak[2] / 2**20, 1),
            "pss_timeline_mb": timeline}


def run_score(path: Path, out: Path, jobs: int) -> dict:
    command = shutil.which("commentqa", path=str(Path(sys.executable).parent)) or "commentqa"
    result = measure([command, "score", str(path), "--out", str(out), "--quiet",
                      "--jobs", str(jobs)])
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return {**result, "rows_scored": summary["rows_scored"]}


def record_results(name: str, argv: list[str] | None, settings: dict, results) -> None:
    """Write ``benchmarks/results/<name>.json``: the command, the machine and ``results``."""
    record = {"command": f"python benchmarks/bench_{name}.py " + " ".join(
                  sys.argv[1:] if argv is None else argv),
              **settings, "cpu_count": os.cpu_count(),
              "machine": platform.machine(), "python": platform.python_version(),
              "date": time.strftime("%Y-%m-%d"), "results": results}
    path = ROOT / "benchmarks" / "results" / f"{name}.json"
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--workdir", default=None, help="where dumps go (default: a temp dir)")
    parser.add_argument("--record", action="store_true", help="write benchmarks/results/score.json")
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs of each size: median times, highest memory peaks")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        for rows in args.rows:
            dump = Path(tmp) / f"dump_{rows}.jsonl"
            distinct = write_dump(dump, rows)
            # Write the dump back to disk now: the first timed runs would otherwise share the
            # machine with the kernel flushing a gigabyte of dirty pages.
            os.sync()
            floors, runs = [], []
            for _ in range(args.repeats):  # interleaved, so both see the same machine
                floors.append(json_floor(dump))
                runs.append(run_score(dump, Path(tmp) / f"out_{rows}", args.jobs))
            floor = statistics.median(floors)
            scored = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
            scored = {**scored, **{k: max(r[k] for r in runs) for k in scored if "peak" in k}}
            res = {
                "rows": rows, "file_mb": round(dump.stat().st_size / 2**20, 1),
                "distinct_text_share": round(distinct, 3),
                "json_floor_seconds": round(floor, 2),
                "json_floor_rows_per_s": round(rows / floor),
                "score_seconds": scored["seconds"],
                "score_rows_per_s": round(rows / scored["seconds"]),
                "score_rows_per_s_per_core": round(rows / scored["seconds"] / args.jobs),
                "ratio_to_floor": round(scored["seconds"] / floor, 2),
                "peak_pss_mb_tree": scored["peak_pss_mb_tree"],
                "peak_rss_mb_tree": scored["peak_rss_mb_tree"],
                "peak_rss_mb_largest_process": scored["peak_rss_mb_largest_process"],
                "pss_timeline_mb": scored["pss_timeline_mb"],
                "runs": {"json_floor_seconds": [round(f, 2) for f in floors],
                         "score_seconds": [r["seconds"] for r in runs]},
            }
            results.append(res)
            print(json.dumps(res), flush=True)
            dump.unlink()
    if args.record:
        record_results("score", argv, {"jobs": args.jobs}, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
