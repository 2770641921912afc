"""Benchmark ``model.predict`` on 100,000 comments on one core, beside a baseline.

    python benchmarks/bench_predict.py [--model DIR] [--rows 100000] [--corpus ../shared/corpus]
                                       [--repeats 3] [--stages] [--json FILE]

Comments come from the real corpus in ``../shared/corpus`` when present (read only), else
from the training corpus. Two inputs are timed, each the median of ``--repeats`` runs:

- ``dump``: rows drawn at random from the pool, so texts repeat as they do in real dumps;
- ``distinct``: every row made unique (a distinct @handle appended), so no row is a
  duplicate of another and each pays the full featurisation cost.

Each model is warmed up once on rows that are not timed; before every timed run the
commentqa model's memos (analysed tokens, n-gram rows of unseen words, emoji names) are
emptied (``CommentModel.clear_cache``), so a run never reuses what an earlier run
analysed. What stays between runs: the loaded model, the lookup tables built from its
vocabularies at the first call, and compiled regexes.

The baseline is the straightforward pipeline a newcomer would write: scikit-learn word
1-2-gram + ``char_wb`` 2-5-gram TF-IDF and logistic regression, trained on the same corpus,
timed on the same inputs in the same run. Peak RSS is the process maximum.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one core: no BLAS threads

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline, make_union  # noqa: E402

import commentqa  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def load_pool(corpus: Path) -> tuple[list[str], str]:
    path = corpus / "real_comments.jsonl"
    if path.is_file():
        with open(path, encoding="utf-8") as fh:
            return [json.loads(line)["text"] for line in fh], "real comments (../shared/corpus)"
    texts = []
    for f in sorted((ROOT / "training" / "data").glob("*.jsonl")):
        texts += [json.loads(x)["text"] for x in f.read_text(encoding="utf-8").splitlines() if x]
    return texts, "training corpus"


def training_set() -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for f in sorted((ROOT / "training" / "data").glob("*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                texts.append(row["text"])
                labels.append(row["label"])
    return texts, labels


def baseline_pipeline():
    return make_pipeline(
        make_union(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
                   TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2,
                                   sublinear_tf=True)),
        LogisticRegression(C=4.0, max_iter=3000),
    )


def timed(fn, texts: list[str], repeats: int, reset=None) -> float:
    """Median seconds of ``repeats`` runs of ``fn(texts)``; ``reset()`` before each, untimed."""
    runs = []
    for _ in range(repeats):
        if reset is not None:
            reset()
        start = time.perf_counter()
        fn(texts)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def stage_rates(model, texts: list[str], repeats: int) -> dict[str, int]:
    """Comments/s of each step of the pipeline (``model.pipeline.predict_proba``) path."""
    prepare, features, classifier = (step for _, step in model.pipeline.steps)
    named = features.named_transformers_
    prepared = prepare.transform(texts)
    matrix = features.transform(prepared)
    steps = {
        "prepare (CommentPreparer)": (prepare.transform, texts),
        "words (TfidfVectorizer)": (named["words"].transform, prepared["text_norm"]),
        "chars (SubwordVectorizer)": (named["chars"].transform, prepared["text_norm"]),
        "classifier (CalibratedClassifierCV)": (classifier.predict_proba, matrix),
    }
    reset = getattr(model, "clear_cache", None)
    return {name: round(len(texts) / timed(fn, data, repeats, reset))
            for name, (fn, data) in steps.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument("--stages", action="store_true",
                        help="also time each pipeline step on the 'distinct' input")
    args = parser.parse_args(argv)

    rng = random.Random(0)
    pool, pool_name = load_pool(args.corpus)
    dump = [rng.choice(pool) for _ in range(args.rows)]
    distinct = [f"{t} @u{i}" for i, t in enumerate(dump)]

    start = time.perf_counter()
    model = commentqa.load_model(args.model)
    load_s = time.perf_counter() - start
    baseline = baseline_pipeline().fit(*training_set())

    results = {"rows": args.rows, "pool": pool_name, "pool_size": len(pool),
               "distinct_in_dump": len(set(dump)), "model": model.name,
               "model_load_s": round(load_s, 3), "python": platform.python_version(),
               "machine": platform.machine(), "runs": {}}
    warm_up = [f"{t} warm-up" for t in pool[:1000]]  # never timed
    model.predict(warm_up)
    baseline.predict(warm_up)
    for name, texts in (("dump", dump), ("distinct", distinct)):
        for who, fn in (("commentqa", model.predict), ("baseline", baseline.predict)):
            reset = model.clear_cache if who == "commentqa" else None
            seconds = timed(fn, texts, args.repeats, reset)
            results["runs"][f"{who}/{name}"] = {
                "seconds": round(seconds, 3), "comments_per_s": round(args.rows / seconds)}
    if args.stages:
        results["stages_distinct_per_s"] = stage_rates(model, distinct, args.repeats)
    results["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)

    print(f"{args.rows} comments from {pool_name} ({results['distinct_in_dump']} distinct in "
          f"'dump'); model {model.name} loaded in {load_s:.2f}s; one core")
    print(f"{'input':<10}{'commentqa /s':>14}{'baseline /s':>14}{'speed-up':>10}")
    for name in ("dump", "distinct"):
        ours = results["runs"][f"commentqa/{name}"]["comments_per_s"]
        base = results["runs"][f"baseline/{name}"]["comments_per_s"]
        print(f"{name:<10}{ours:>14,}{base:>14,}{ours / base:>9.1f}x")
    for stage, rate in results.get("stages_distinct_per_s", {}).items():
        print(f"  distinct, {stage}: {rate:,}/s")
    print(f"peak RSS {results['peak_rss_mib']} MiB")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
