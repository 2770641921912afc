"""Train, cross-validate and save a commentqa model as a versioned artifact.

    python training/train.py --version 1.0.0 [--name commentqa-multi] [--out models]
                             [--files p01_a.jsonl p02_b.jsonl ...]

Writes ``<out>/<name>-v<version>/`` with ``model.joblib``, ``meta.json`` and the model
card ``README.md``. Refuses to overwrite an existing version. The cross-validated figures
in ``meta.json`` hold out whole corpus files, one writer's batch each (``GroupKFold``), so a
writer's style cannot leak from training to test folds.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
from sklearn.model_selection import GroupKFold, cross_val_predict

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import DATA_DIR, corpus_files, corpus_sha256, read_corpus_by_file
from model_card import write_model_card

from commentqa import LABELS, build_pipeline, save_model

MIN_LANG_ROWS_FOR_METRICS = 30  # smaller language groups get too noisy a macro-F1


def per_class(y_true, y_pred) -> dict[str, dict[str, float]]:
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=list(LABELS),
                                                 zero_division=0)
    return {label: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                    "f1": round(float(f[i]), 4), "support": int(s[i])}
            for i, label in enumerate(LABELS)}


def cross_validate(texts, labels, langs, groups, *, folds: int, C: float) -> dict:
    """Out-of-fold figures; whole corpus files are held out together (see select_params)."""
    cv = GroupKFold(n_splits=folds)
    pred = cross_val_predict(build_pipeline(C=C), texts, labels, cv=cv, groups=groups)
    by_lang = collections.defaultdict(list)
    for i, lang in enumerate(langs):
        by_lang[lang].append(i)
    per_lang = {}
    for lang, idx in sorted(by_lang.items(), key=lambda kv: -len(kv[1])):
        if len(idx) >= MIN_LANG_ROWS_FOR_METRICS:
            yt, yp = np.asarray(labels)[idx], np.asarray(pred)[idx]
            per_lang[lang] = {"n": len(idx),
                              "macro_f1": round(float(f1_score(yt, yp, average="macro",
                                                               labels=sorted(set(yt)))), 4),
                              "accuracy": round(float(accuracy_score(yt, yp)), 4)}
    return {
        "folds": folds,
        "scheme": "GroupKFold by corpus file",
        "macro_f1": round(float(f1_score(labels, pred, average="macro")), 4),
        "accuracy": round(float(accuracy_score(labels, pred)), 4),
        "per_class": per_class(labels, pred),
        "per_language": per_lang,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", required=True, help="semantic version, e.g. 1.0.0")
    parser.add_argument("--name", default="commentqa-multi")
    parser.add_argument("--data", type=Path, default=DATA_DIR)
    parser.add_argument("--files", nargs="+", metavar="NAME",
                        help="train on these files of --data only (default: all of them)")
    parser.add_argument("--out", type=Path, default=Path("models"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--C", type=float, default=16.0,
                        help="inverse L2 strength; 16 was chosen by training/select_params.py")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    files = corpus_files(args.data, args.files)
    rows, groups = read_corpus_by_file(files)
    texts = [r["text"] for r in rows]
    labels = [r["label"] for r in rows]
    langs = [r.get("lang", "und") for r in rows]
    print(f"{len(rows)} rows from {len(files)} files: {dict(collections.Counter(labels))}")

    t0 = time.perf_counter()
    cv = cross_validate(texts, labels, langs, groups, folds=args.folds, C=args.C)
    print(f"cross-validated macro-F1 {cv['macro_f1']:.4f}, accuracy {cv['accuracy']:.4f} "
          f"({time.perf_counter() - t0:.0f}s)")

    pipeline = build_pipeline(C=args.C, random_state=args.seed).fit(texts, labels)
    data_meta = {
        "files": [p.name for p in files],
        "sha256": corpus_sha256(files),
        "rows": len(rows),
        "labels": dict(collections.Counter(labels)),
        "languages": dict(collections.Counter(langs).most_common()),
        "platforms": dict(collections.Counter(r.get("platform") for r in rows).most_common()),
        "niches": dict(collections.Counter(r.get("niche") for r in rows).most_common()),
    }
    target = save_model(
        pipeline, args.out, name=args.name, version=args.version,
        extra_meta={"training_data": data_meta, "cross_validation": cv,
                    "params": {"C": args.C, "seed": args.seed}},
    )
    write_model_card(target)
    print(f"saved {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
