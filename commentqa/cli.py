"""The ``commentqa`` command line: thin argument parsing over importable functions."""

from __future__ import annotations

import argparse
import sys

from . import __version__
from .annotate import classify_file
from .io import InputError
from .persistence import ModelLoadError, load_model

EXIT_USAGE = 2  # bad input, output or model: the user can fix it


def _classify(args: argparse.Namespace) -> int:
    model = load_model(args.model)
    report = classify_file(args.input, args.out, model, text_field=args.text_field)
    if not args.quiet:
        print(report.summary(), file=sys.stderr)
    return 1 if (args.strict and report.rows_rejected) else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="commentqa", description=__doc__)
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (InputError, ModelLoadError) as exc:
        print(f"commentqa: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("commentqa: interrupted; no output was written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
