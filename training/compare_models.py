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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import load_dev

from commentqa import LABELS, load_model
from commentqa.evaluation import evaluate_models
from commentqa.io import InputError
from commentqa.labeled import LabeledComments, read_labeled

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
        data = LabeledComments(f"dev set of {args.corpus}", [r["text"] for r in rows],
                               [r["gold"] for r in rows])
    else:
        try:
            data = read_labeled(args.data, args.text_field, args.label_field)
        except InputError as exc:
            print(f"compare_models: error: {exc}", file=sys.stderr)
            return 2
    print(f"{len(data.gold)} labeled comments from {data.source}"
          + (f" ({len(data.skipped)} rows skipped: no usable text or label)"
             if data.skipped else ""))

    models = [load_model(None if name == "default" else name) for name in args.models]
    figures = evaluate_models(models, data, given=args.models, resamples=args.resamples,
                              level=args.level, seed=args.seed)
    width = max(len(m["model"]) for m in figures["models"]) + 2
    print(f"\n{'model':<{width}}{'macro-F1':>9}{'accuracy':>9}"
          + "".join(f"{label[:12]:>14}" for label in LABELS))
    for model in figures["models"]:
        print(f"{model['model']:<{width}}{model['macro_f1']:>9.3f}{model['accuracy']:>9.3f}"
              + "".join(f"{model['per_class'][label]['f1']:>14.3f}" for label in LABELS))
    for diff in figures["paired_differences"]:
        print(f"\nB = {diff['b']} against A = {diff['a']}:\n  {diff['summary']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
