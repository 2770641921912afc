"""Choose the classifier's hyper-parameters by grouped cross-validation.

    python training/select_params.py [--C 0.5 1 2 4 8] [--class-weight none balanced]
                                     [--word-ngrams 1-2] [--char-ngrams 2-5] [--min-df 2]
                                     [--files p01_....jsonl ...] [--folds 6] [--jobs 2]
                                     [--json results.json]

Random K-fold scatters near-identical comments by the same writer over train and test
folds, so it rewards memorising a writer's style. Here whole corpus files (one writer's
batch on one theme each) are held out together (``GroupKFold``), which is closer to meeting
comments nobody here wrote. Every setting is scored on the pooled out-of-fold predictions:
macro-F1, accuracy and log loss of the uncalibrated linear model. The real comments of
``../shared/corpus`` are not read: choosing on them would tune to the dev set.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, log_loss
from sklearn.model_selection import GroupKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import DATA_DIR, corpus_files, read_corpus_by_file

from commentqa import LABELS
from commentqa.cli import ngram_range_type
from commentqa.features import CHAR_NGRAMS, WORD_NGRAMS, CommentPreparer, build_features
from commentqa.training import format_ngram_range


def _fold(prepared, y, train, test, grams, models, min_df):
    """Out-of-fold probabilities of every (C, class weight) on one fold, with the word and
    character n-gram ranges ``grams``."""
    features = build_features(word_ngrams=grams[0], char_ngrams=grams[1], min_df=min_df)
    x_train = features.fit_transform(prepared.iloc[train], y[train])
    x_test = features.transform(prepared.iloc[test])
    out = {}
    for C, weight in models:
        linear = LogisticRegression(C=C, class_weight=weight, max_iter=3000)
        out[(*grams, C, weight)] = clone(linear).fit(x_train, y[train]).predict_proba(x_test)
    return test, out, grams, x_train.shape[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_DIR)
    parser.add_argument("--C", type=float, nargs="+", default=[0.5, 1.0, 2.0, 4.0, 8.0])
    parser.add_argument("--class-weight", nargs="+", default=["none", "balanced"],
                        choices=["none", "balanced"])
    parser.add_argument("--word-ngrams", type=ngram_range_type, nargs="+", default=[WORD_NGRAMS],
                        help="word n-gram ranges to try, as LOW-HIGH")
    parser.add_argument("--char-ngrams", type=ngram_range_type, nargs="+", default=[CHAR_NGRAMS],
                        help="character n-gram ranges of the subword block to try")
    parser.add_argument("--min-df", type=int, default=2)
    parser.add_argument("--files", nargs="+", default=None,
                        help="only these files of --data (default: all)")
    parser.add_argument("--folds", type=int, default=6)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)

    files = corpus_files(args.data, args.files)
    rows, groups = read_corpus_by_file(files)
    y = np.asarray([r["label"] for r in rows], dtype=object)
    t0 = time.perf_counter()
    prepared = CommentPreparer().fit_transform([r["text"] for r in rows])
    models = list(itertools.product(
        args.C, [None if w == "none" else w for w in args.class_weight]))
    grams = list(itertools.product(args.word_ngrams, args.char_ngrams))
    settings = [(*g, *m) for g in grams for m in models]
    folds = list(GroupKFold(n_splits=args.folds).split(prepared, y, groups))
    results = Parallel(n_jobs=args.jobs)(
        delayed(_fold)(prepared, y, train, test, g, models, args.min_df)
        for g in grams for train, test in folds
    )
    widths = {}
    for _, _, g, width in results:
        widths.setdefault(g, []).append(width)
    labels = list(LABELS)
    figures = []
    for setting in settings:
        proba = np.zeros((len(y), len(labels)))
        for test, out, *_ in results:
            if setting in out:
                proba[test] = out[setting]
        # LogisticRegression orders classes alphabetically; map them to LABELS.
        classes = sorted(labels)
        pred = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
        words, chars, C, weight = setting
        figures.append({
            "word_ngrams": format_ngram_range(words), "char_ngrams": format_ngram_range(chars),
            "columns": round(float(np.mean(widths[(words, chars)]))),
            "C": C, "class_weight": weight or "none",
            "macro_f1": round(float(f1_score(y, pred, average="macro")), 4),
            "accuracy": round(float(accuracy_score(y, pred)), 4),
            "log_loss": round(float(log_loss(y, proba, labels=classes)), 4),
            "f1": dict(zip(classes, np.round(f1_score(y, pred, average=None,
                                                       labels=classes), 4).tolist())),
        })
    print(f"{len(rows)} rows, {len(files)} files, {args.folds} grouped folds, min_df "
          f"{args.min_df} ({time.perf_counter() - t0:.0f}s)")
    print(f"{'words':>5} {'chars':>5} {'columns':>8} {'C':>6} {'weight':>9} {'macro-F1':>9}"
          f" {'acc':>7} {'logloss':>8}  per-class F1")
    for f in sorted(figures, key=lambda f: -f["macro_f1"]):
        print(f"{f['word_ngrams']:>5} {f['char_ngrams']:>5} {f['columns']:>8} {f['C']:>6g}"
              f" {f['class_weight']:>9} {f['macro_f1']:>9.4f} {f['accuracy']:>7.4f}"
              f" {f['log_loss']:>8.4f}  " + " ".join(f"{k} {v:.3f}" for k, v in f["f1"].items()))
    if args.json:
        args.json.write_text(json.dumps({"folds": args.folds, "min_df": args.min_df,
                                         "rows": len(rows),
                                         "files": [f.name for f in files],
                                         "settings": figures}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
