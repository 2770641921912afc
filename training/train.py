"""Train, cross-validate and save a commentqa model as a versioned artifact.

    python training/train.py --version 1.0.0 [--name commentqa-multi] [--out models]
                             [--files p01_a.jsonl p02_b.jsonl ...] [--C 16]
                             [--word-ngrams 1-2] [--char-ngrams 2-5]

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

from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import DATA_DIR, corpus_files, corpus_sha256, read_corpus_by_file
from model_card import write_model_card

from commentqa import save_model
from commentqa.augment import emoji_variants
from commentqa.cli import ngram_range_type
from commentqa.io import InputError
from commentqa.training import (
    CALIBRATIONS,
    CHAR_NGRAMS,
    DEFAULT_CALIBRATION,
    DEFAULT_EMOJI_RATE,
    WORD_NGRAMS,
    check_ngram_ranges,
    cross_validate,
    fit_pipeline,
)


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
    parser.add_argument("--emoji-rate", type=float, default=DEFAULT_EMOJI_RATE,
                        help="share of rows given an emoji variant (commentqa.augment)")
    parser.add_argument("--calibration", choices=CALIBRATIONS, default=DEFAULT_CALIBRATION,
                        help="how probabilities are calibrated (commentqa.build_pipeline)")
    parser.add_argument("--word-ngrams", type=ngram_range_type, default=WORD_NGRAMS,
                        metavar="LOW-HIGH", help="word n-gram range (up to 2 words)")
    parser.add_argument("--char-ngrams", type=ngram_range_type, default=CHAR_NGRAMS,
                        metavar="LOW-HIGH", help="within-word character n-gram range")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        ngrams = check_ngram_ranges(args.word_ngrams, args.char_ngrams)
    except InputError as exc:
        parser.error(str(exc))

    files = corpus_files(args.data, args.files)
    rows, groups = read_corpus_by_file(files)
    texts = [r["text"] for r in rows]
    labels = [r["label"] for r in rows]
    langs = [r.get("lang", "und") for r in rows]
    print(f"{len(rows)} rows from {len(files)} files: {dict(collections.Counter(labels))}")

    t0 = time.perf_counter()
    with threadpool_limits(limits=1):  # one BLAS thread: see commentqa.training
        cv = cross_validate(texts, labels, C=args.C, folds=args.folds, groups=groups,
                            langs=langs, seed=args.seed, scheme="GroupKFold by corpus file",
                            jobs=2, emoji_rate=args.emoji_rate, calibration=args.calibration,
                            **ngrams)
        variants = emoji_variants(texts, args.emoji_rate, args.seed)
        pipeline = fit_pipeline(texts, labels, C=args.C, seed=args.seed, variants=variants,
                                calibration=args.calibration, **ngrams)
    print(f"cross-validated macro-F1 {cv['macro_f1']:.4f}, accuracy {cv['accuracy']:.4f}, "
          f"log loss {cv['log_loss']:.4f}; "
          f"with an emoji appended {cv['emoji_appended']['macro_f1']:.4f}, "
          f"{cv['emoji_appended']['changed']:.1%} changed ({time.perf_counter() - t0:.0f}s)")

    data_meta = {
        "files": [p.name for p in files],
        "sha256": corpus_sha256(files),
        "rows": len(rows),
        "labels": dict(collections.Counter(labels)),
        "languages": dict(collections.Counter(langs).most_common()),
        "platforms": dict(collections.Counter(r.get("platform") for r in rows).most_common()),
        "niches": dict(collections.Counter(r.get("niche") for r in rows).most_common()),
        "emoji_variants": len(variants),
    }
    target = save_model(
        pipeline, args.out, name=args.name, version=args.version,
        extra_meta={"training_data": data_meta, "cross_validation": cv,
                    "params": {"C": args.C, "seed": args.seed, "emoji_rate": args.emoji_rate,
                               "calibration": args.calibration,
                               **{k: list(v) for k, v in ngrams.items()}}},
    )
    write_model_card(target)
    print(f"saved {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
