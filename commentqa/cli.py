"""The ``commentqa`` command line: thin argument parsing over importable functions."""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys

from . import __version__
from .annotate import classify_file
from .batch import CHUNK_ROWS, score_files
from .console import INTERRUPTED
from .evaluation import evaluate_models
from .formats import FORMATS, FieldMap
from .io import InputError, atomic_output, check_output_path
from .labeled import read_labeled
from .labels import LABELS
from .outputs import OUTPUT_FORMATS
from .persistence import ModelLoadError, load_model
from .progress import Progress
from .sources import expand_inputs
from .training import (
    CALIBRATIONS,
    CHAR_NGRAMS,
    DEFAULT_C,
    DEFAULT_CALIBRATION,
    DEFAULT_EMOJI_RATE,
    MAX_SEED,
    MIN_ROWS_PER_LABEL,
    WORD_NGRAMS,
    TrainingData,
    format_ngram_range,
    parse_ngram_range,
    train_model,
)

EXIT_USAGE = 2  # bad input, output or model: the user can fix it


def _classify(args: argparse.Namespace) -> int:
    model = load_model(None if args.model == "default" else args.model)
    report = classify_file(args.input, args.out, model, text_field=args.text_field)
    if not args.quiet:
        print(report.summary(), file=sys.stderr)
    return 1 if (args.strict and report.rows_rejected) else 0


def _score(args: argparse.Namespace) -> int:
    fields = FieldMap(text=args.text_field, id=args.id_field, post=args.post_field,
                      parent=args.parent_field, author=args.author_field)
    total = None
    if not args.quiet:
        total = sum(p.stat().st_size for p in expand_inputs(args.inputs, exclude=args.out))
    progress = Progress(total) if not args.quiet else None
    try:
        model_path = None if args.model == "default" else args.model  # as evaluate reads it
        summary = score_files(args.inputs, args.out, model_path=model_path, fmt=args.format,
                              fields=fields, out_format=args.format_out, jobs=args.jobs,
                              chunk_rows=args.chunk_rows, progress=progress, steady_heap=True)
    finally:
        if progress is not None:
            progress.close()
    if not args.quiet:
        print(summary.line(), file=sys.stderr)
    return 1 if (args.strict and summary.rows_rejected) else 0


def _evaluate(args: argparse.Namespace) -> int:
    if args.json:
        check_output_path(args.json)  # before the scoring, not after it
    data = read_labeled(args.input, args.text_field, args.label_field)
    given = args.model or ["default"]
    models = [load_model(None if m == "default" else m) for m in given]
    figures = evaluate_models(models, data, given=given, resamples=args.resamples,
                              seed=args.seed)
    print(f"{figures['rows_used']} labeled comments of {figures['rows_read']} rows in "
          f"{data.source}" + (f"; {len(data.skipped)} skipped" if data.skipped else ""))
    for row in figures["skipped"][:5]:
        print(f"  skipped line {row['line']}: {row['reason']}", file=sys.stderr)
    if len(data.skipped) > 5:
        print(f"  ... {len(data.skipped) - 5} more skipped (all of them in --json)",
              file=sys.stderr)
    for model in figures["models"]:
        print(f"\n{model['model']}: macro-F1 {model['macro_f1']:.3f}, "
              f"accuracy {model['accuracy']:.3f}")
        print(f"  {'label':<14}{'precision':>10}{'recall':>8}{'F1':>7}{'support':>9}   "
              "predicted as: " + " ".join(f"{label[:5]:>6}" for label in LABELS))
        for label, row in zip(LABELS, model["confusion"]):
            c = model["per_class"][label]
            print(f"  {label:<14}{c['precision']:>10.3f}{c['recall']:>8.3f}{c['f1']:>7.3f}"
                  f"{c['support']:>9}   {'':>14}" + " ".join(f"{n:>6}" for n in row))
    for diff in figures["paired_differences"]:
        print(f"\nB = {diff['b']} against A = {diff['a']}:\n  {diff['summary']}")
    if args.json:
        with atomic_output(args.json) as fh:
            fh.write(json.dumps(figures, indent=2) + "\n")
    return 0


def _train(args: argparse.Namespace) -> int:
    parts = [read_labeled(path, args.text_field, args.label_field, group_field=args.group_field,
                          lang_field=args.lang_field, weight_field=args.weight_field)
             for path in args.inputs]
    data = TrainingData.from_files(parts)
    say = (lambda line: None) if args.quiet else (lambda line: print(line, file=sys.stderr))
    say(f"{len(data.gold)} labeled comments of {data.rows_read} rows in {len(parts)} "
        f"file{'s' if len(parts) != 1 else ''}: " + ", ".join(
            f"{label} {data.gold.count(label)}" for label in LABELS)
        + (f"; {len(data.skipped)} skipped" if data.skipped else ""))
    for source, line, reason in data.skipped[:5]:
        say(f"  skipped {source} line {line}: {reason}")
    if len(data.skipped) > 5:
        say(f"  ... {len(data.skipped) - 5} more skipped")
    command = shlex.join(["commentqa", *args.argv]) if args.record_command else None
    result = train_model(data, args.out, name=args.name, version=args.version, C=args.C,
                         folds=args.folds, seed=args.seed, jobs=args.jobs, command=command,
                         emoji_rate=args.emoji_variants, calibration=args.calibration,
                         word_ngrams=args.word_ngrams, char_ngrams=args.char_ngrams, log=say)
    cv = result.cross_validation
    figures = (f"cross-validated macro-F1 {cv['macro_f1']:.4f}, accuracy {cv['accuracy']:.4f}"
               if cv else "not cross-validated")
    print(f"saved {result.path} (C={result.C:g}; {figures})")
    say(f"measure it on comments it never saw: commentqa evaluate LABELED --model default "
        f"--model {result.path}")
    return 0


def _number(value: str, kind: type, ok, rule: str):
    """``argparse`` type: ``value`` read as ``kind`` (int or float), refused unless ``ok``."""
    try:
        number = kind(value)
    except ValueError:
        expected = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"expected {expected}, got {value!r}") from None
    if not ok(number):
        raise argparse.ArgumentTypeError(f"{rule}, got {value if kind is float else number}")
    return number


def _positive(value: str) -> int:
    return _number(value, int, lambda n: n >= 1, "must be at least 1")


def _share(value: str) -> float:
    return _number(value, float, lambda x: 0.0 <= x <= 1.0, "must be between 0 and 1")


def _strength(value: str) -> float:
    """``--C``: a positive, finite number (``inf`` would also be stored in meta.json, which
    strict JSON readers refuse)."""
    return _number(value, float, lambda x: math.isfinite(x) and x > 0,
                   "must be a positive finite number")


def _seed(value: str) -> int:
    return _number(value, int, lambda n: 0 <= n <= MAX_SEED,
                   f"must be between 0 and {MAX_SEED}")


def ngram_range_type(value: str) -> tuple[int, int]:
    """``argparse`` type of an n-gram range such as ``2-5`` (:func:`parse_ngram_range`)."""
    try:
        return parse_ngram_range(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="commentqa",
        description="Tell skin-deep comments (reaction, spam) from ones that show an audience "
                    "cares (question, conversation), and score each post's resonance.",
        epilog="Run 'commentqa COMMAND --help' for a command's options.")
    parser.add_argument("--version", action="version", version=f"commentqa {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("classify", help="label each comment of a JSONL or CSV file",
                       description="Label each comment of a JSONL or CSV file (optionally "
                       ".gz). Output rows are the input's fields plus 'label' and one "
                       "'p_<label>' probability per class.")
    p.add_argument("input", help="input .jsonl or .csv file")
    p.add_argument("--out", help="output .jsonl or .csv (default: JSONL on stdout); rows "
                   "that cannot be classified go to OUT.rejects.jsonl")
    p.add_argument("--text-field", default="text", help="field holding the comment text")
    p.add_argument("--model", default=None, help="model folder (default: the shipped model)")
    p.add_argument("--strict", action="store_true", help="exit 1 if any row was rejected")
    p.add_argument("--quiet", action="store_true", help="no summary on stderr")
    p.set_defaults(func=_classify)

    s = sub.add_parser(
        "score", help="score comment dumps: labels per comment, resonance per post",
        description="Score every comment of INPUT (files, folders or globs; JSONL, JSON, CSV, "
        "Parquet, optionally .gz; Instagram Graph API, YouTube commentThreads and flat "
        "scraper exports are recognised) and write comments, posts, rejects.jsonl and "
        "summary.json into --out, atomically.")
    s.add_argument("inputs", nargs="+", metavar="INPUT", help="input files, folders or globs")
    s.add_argument("--out", required=True, help="output folder (created if missing)")
    s.add_argument("--format-out", choices=OUTPUT_FORMATS, default="parquet",
                   help="format of comments and posts (default: parquet)")
    s.add_argument("--format", choices=("auto", *FORMATS), default="auto",
                   help="record format of the input (default: detected from the records)")
    for role, what in (("text", "comment text"), ("post", "post id or URL"),
                       ("id", "comment id"), ("parent", "parent comment id of a reply"),
                       ("author", "comment author")):
        s.add_argument(f"--{role}-field", default=None,
                       help=f"field holding the {what} (dotted for nested objects; default: "
                       "the usual names)")
    s.add_argument("--model", default=None, help="model folder (default: the shipped model)")
    s.add_argument("--jobs", type=_positive, default=None,
                   help="worker processes (default: one per core)")
    s.add_argument("--chunk-rows", type=_positive, default=CHUNK_ROWS, help=argparse.SUPPRESS)
    s.add_argument("--strict", action="store_true", help="exit 1 if any row was rejected")
    s.add_argument("--quiet", action="store_true", help="no progress bar and no summary line")
    s.set_defaults(func=_score)

    e = sub.add_parser(
        "evaluate", help="measure models on your labeled comments",
        description="Measure models on labeled comments (JSONL or CSV, optionally .gz): "
        "macro-F1, accuracy, per-class precision/recall/F1 and the confusion matrix; with "
        "several models, each against the first with a paired bootstrap interval of the "
        "macro-F1 difference. Rows without a usable text or with a label other than "
        f"{', '.join(LABELS)} are skipped and counted.")
    e.add_argument("input", help="labeled .jsonl or .csv file")
    e.add_argument("--model", action="append", metavar="MODEL",
                   help="model folder or 'default'; repeat to compare (default: the shipped "
                   "model)")
    e.add_argument("--text-field", default="text", help="field holding the comment text")
    e.add_argument("--label-field", default="label", help="field holding the gold label")
    e.add_argument("--json", metavar="FILE", help="also write every figure to this file")
    e.add_argument("--resamples", type=_positive, default=2000,
                   help="bootstrap resamples when comparing (default: 2000)")
    e.add_argument("--seed", type=_seed, default=0, help="bootstrap seed (default: 0)")
    e.set_defaults(func=_evaluate)

    t = sub.add_parser(
        "train", help="train a model on your labeled comments",
        description="Train a model on labeled comments (JSONL or CSV files, optionally .gz; "
        f"labels {', '.join(LABELS)}, each with at least {MIN_ROWS_PER_LABEL} rows): "
        "cross-validate each --C, fit the best on all rows and save OUT/NAME-vVERSION "
        "(model.joblib, meta.json, model card README.md), which --model accepts everywhere. "
        "Rows without a usable text or label are skipped and counted.")
    t.add_argument("inputs", nargs="+", metavar="LABELED", help="labeled .jsonl or .csv files")
    t.add_argument("--version", required=True, help="the model's version, e.g. 1.0.0")
    t.add_argument("--name", default="commentqa-custom",
                   help="the model's name (default: commentqa-custom)")
    t.add_argument("--out", default="models",
                   help="folder the model folder is created in (default: models)")
    t.add_argument("--text-field", default="text", help="field holding the comment text")
    t.add_argument("--label-field", default="label", help="field holding the label")
    t.add_argument("--group-field", default=None,
                   help="hold out whole groups in cross-validation (a post id, a labeler's "
                   "batch): comments of one group are never split between train and test")
    t.add_argument("--weight-field", default=None,
                   help="field holding each row's weight in the fit (a positive number; rows "
                   "without one weigh 1), e.g. to count your own labels above a corpus's")
    t.add_argument("--lang-field", default="lang",
                   help="field holding the language, for per-language figures (default: lang)")
    t.add_argument("--C", type=_strength, nargs="+", default=[DEFAULT_C],
                   help=f"inverse L2 strength; several values: the best by cross-validated "
                   f"macro-F1 is kept (default: {DEFAULT_C:g})")
    t.add_argument("--emoji-variants", type=_share, default=0.0, metavar="SHARE",
                   help="give this share of the rows (0 to 1) a copy with emoji added, or "
                   "taken away where it has some, and the same label, so that emoji alone do "
                   "not sway the model; for written or emoji-poor labels (default: 0; the "
                   f"shipped model used {DEFAULT_EMOJI_RATE:g})")
    t.add_argument("--calibration", choices=CALIBRATIONS, default=DEFAULT_CALIBRATION,
                   help="how probabilities are calibrated: one temperature for all classes "
                   "(keeps the regression's decision), Platt scaling per class, or isotonic "
                   f"(default: {DEFAULT_CALIBRATION})")
    t.add_argument("--word-ngrams", type=ngram_range_type, default=WORD_NGRAMS,
                   metavar="LOW-HIGH",
                   help="n-gram range of the word TF-IDF block, up to 2 words (default: "
                   f"{format_ngram_range(WORD_NGRAMS)})")
    t.add_argument("--char-ngrams", type=ngram_range_type, default=CHAR_NGRAMS,
                   metavar="LOW-HIGH",
                   help="n-gram range of the within-word character TF-IDF block (default: "
                   f"{format_ngram_range(CHAR_NGRAMS)})")
    t.add_argument("--folds", type=int, default=5,
                   help="cross-validation folds; 0 skips cross-validation (default: 5)")
    t.add_argument("--jobs", type=_positive, default=None,
                   help="processes for cross-validation (default: one per core, at most --folds)")
    t.add_argument("--seed", type=_seed, default=0, help="seed of folds and solver (default: 0)")
    t.add_argument("--no-record-command", dest="record_command", action="store_false",
                   help="do not store this command line in meta.json")
    t.add_argument("--quiet", action="store_true", help="print only the saved folder")
    t.set_defaults(func=_train)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv  # as given, for the record a trained model keeps
    try:
        return args.func(args)
    except (InputError, ModelLoadError) as exc:
        print(f"commentqa: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
