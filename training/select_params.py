"""Choose the classifier's hyper-parameters by grouped cross-validation.

    python training/select_params.py [--C 0.5 1 2 4 8] [--class-weight none balanced]
                                     [--folds 6] [--jobs 2] [--json results.json]

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
from commentqa.features import CommentPreparer, build_features


def _fold(prepared, y, train, test, settings, min_df):
    """Out-of-fold probabilities of every setting on one fold."""
    features = build_features(min_df=min_df).fit(prepared.iloc[train], y[train])
    x_train = features.transform(prepared.iloc[train])
    x_test = features.transform(prepared.iloc[test])
    out = {}
    for C, weight in settings:
        linear = LogisticRegression(C=C, class_weight=weight, max_iter=3000)
        out[(C, weight)] = clone(linear).fit(x_train, y[train]).predict_proba(x_test)
    return test, out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_DIR)
    parser.add_argument("--C", type=float, nargs="+", default=[0.5, 1.0, 2.0, 4.0, 8.0])
    parser.add_argument("--class-weight", nargs="+", default=["none", "balanced"],
                        choices=["none", "balanced"])
    parser.add_argument("--min-df", type=int, default=2)
    parser.add_argument("--folds", type=int, default=6)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)

    files = corpus_files(args.data)
    rows, groups = read_corpus_by_file(files)
    y = np.asarray([r["label"] for r in rows], dtype=object)
    t0 = time.perf_counter()
    prepared = CommentPreparer().fit_transform([r["text"] for r in rows])
    settings = list(itertools.product(
        args.C, [None if w == "none" else w for w in args.class_weight]))
    folds = GroupKFold(n_splits=args.folds).split(prepared, y, groups)
    results = Parallel(n_jobs=args.jobs)(
        delayed(_fold)(prepared, y, train, test, settings, args.min_df)
        for train, test in folds
    )
    labels = list(LABELS)
    figures = []
    for setting in settings:
        proba = np.zeros((len(y), len(labels)))
        for test, out in results:
            proba[test] = out[setting]
        # LogisticRegression orders classes alphabetically; map them to LABELS.
        classes = sorted(labels)
        pred = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
        figures.append({
            "C": setting[0], "class_weight": setting[1] or "none",
            "macro_f1": round(float(f1_score(y, pred, average="macro")), 4),
            "accuracy": round(float(accuracy_score(y, pred)), 4),
            "log_loss": round(float(log_loss(y, proba, labels=classes)), 4),
            "f1": dict(zip(classes, np.round(f1_score(y, pred, average=None,
                                                       labels=classes), 4).tolist())),
        })
    print(f"{len(rows)} rows, {len(files)} files, {args.folds} grouped folds, min_df "
          f"{args.min_df} ({time.perf_counter() - t0:.0f}s)")
    print(f"{'C':>6} {'weight':>9} {'macro-F1':>9} {'acc':>7} {'logloss':>8}  per-class F1")
    for f in sorted(figures, key=lambda f: -f["macro_f1"]):
        print(f"{f['C']:>6g} {f['class_weight']:>9} {f['macro_f1']:>9.4f} {f['accuracy']:>7.4f}"
              f" {f['log_loss']:>8.4f}  " + " ".join(f"{k} {v:.3f}" for k, v in f["f1"].items()))
    if args.json:
        args.json.write_text(json.dumps({"folds": args.folds, "min_df": args.min_df,
                                         "rows": len(rows), "settings": figures}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
