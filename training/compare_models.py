"""Compare models on the same labeled comments, with a paired bootstrap of the difference.

    python training/compare_models.py MODEL_A MODEL_B [MODEL ...]
        [--data LABELED.jsonl|csv [--text-field text] [--label-field label]]
        [--corpus ../shared/corpus] [--resamples 2000] [--level 0.9] [--seed 0]

Each MODEL is a model folder (``models/commentqa-multi-v1.1.1``) or ``default``. Without
``--data`` the comments are the dev set of ``../shared/corpus`` (read only). Prints each
model's macro-F1, accuracy and per-class F1, then every later model against the first:
how many comments they label differently, which of them is right there, and the macro-F1
difference with its paired bootstrap interval. Rows whose label is not one of the four
(``unclear``) and rows without usable text are skipped and counted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sklearn.metrics import accuracy_score, f1_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import load_dev

from commentqa import LABELS, load_model
from commentqa.evaluation import macro_f1, paired_bootstrap
from commentqa.io import InputError
from commentqa.labeled import read_labeled

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", metavar="MODEL")
    parser.add_argument("--data", type=Path, help="labeled JSONL or CSV (default: the dev set)")
    parser.add_argument("--text-field", default="text")
    parser.add_argument("--label-field", default="label")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--level", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if len(args.models) < 2:
        parser.error("give at least two models to compare")
    if args.data is None:
        if not (args.corpus / "dev_labels.jsonl").is_file():
            print(f"no dev set at {args.corpus}: nothing to compare on")
            return 0
        rows = load_dev(args.corpus, LABELS)
        texts, gold, skipped, where = ([r["text"] for r in rows], [r["gold"] for r in rows],
                                       0, f"dev set of {args.corpus}")
    else:
        try:
            data = read_labeled(args.data, args.text_field, args.label_field)
        except InputError as exc:
            print(f"compare_models: error: {exc}", file=sys.stderr)
            return 2
        texts, gold, skipped, where = data.texts, data.gold, len(data.skipped), str(args.data)
    if not gold:
        print(f"{where}: no row with a label among {', '.join(LABELS)}", file=sys.stderr)
        return 2
    print(f"{len(gold)} labeled comments from {where}"
          + (f" ({skipped} rows skipped: no usable text or label)" if skipped else ""))

    preds = {}
    for name in args.models:
        model = load_model(None if name == "default" else name)
        label = f"{model.name}" if model.name not in preds else f"{model.name} ({name})"
        preds[label] = model.predict(texts)
    width = max(map(len, preds)) + 2
    print(f"\n{'model':<{width}}{'macro-F1':>9}{'accuracy':>9}"
          + "".join(f"{label[:12]:>14}" for label in LABELS))
    for label, pred in preds.items():
        per = f1_score(gold, pred, labels=list(LABELS), average=None, zero_division=0)
        print(f"{label:<{width}}{macro_f1(gold, pred):>9.3f}{accuracy_score(gold, pred):>9.3f}"
              + "".join(f"{f:>14.3f}" for f in per))
    (first, base), *others = preds.items()
    for label, pred in others:
        diff = paired_bootstrap(gold, base, pred, resamples=args.resamples, level=args.level,
                                seed=args.seed)
        print(f"\nB = {label} against A = {first}:\n  {diff.line()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
