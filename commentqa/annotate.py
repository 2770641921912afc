"""Label every row of a comment file: the work behind ``commentqa classify``."""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .io import InputError, Record, RowWriter, atomic_output, detect_format, read_records
from .labels import LABELS
from .model import CommentModel

__all__ = ["CHUNK_ROWS", "OUTPUT_FIELDS", "ClassifyReport", "classify_file"]

#: Fields the output adds to each row; an input field of the same name is kept as
#: ``input_<name>`` (a gold ``label`` column survives a ``classify`` run), or
#: ``input_input_<name>`` when the row already has an ``input_<name>``.
OUTPUT_FIELDS = frozenset(["label", *(f"p_{label}" for label in LABELS)])
#: Rows scored per batch: large enough to amortise the model call, small enough that
#: memory stays flat whatever the input size.
CHUNK_ROWS = 20_000


@dataclass
class ClassifyReport:
    rows_read: int = 0
    rows_scored: int = 0
    rows_rejected: int = 0
    labels: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    rejects_path: str | None = None

    def summary(self) -> str:
        text = (f"{self.rows_scored} of {self.rows_read} rows classified in {self.seconds:.1f}s"
                f" ({', '.join(f'{k} {self.labels[k]}' for k in LABELS)})")
        if self.rows_rejected:
            text += f"; {self.rows_rejected} rejected, see {self.rejects_path or 'stderr'}"
        return text


def _label_rows(model: CommentModel, records: list[Record], text_field: str) -> list[dict]:
    proba = model.predict_proba([r.data[text_field] for r in records])
    rows = []
    for rec, p in zip(records, proba):
        row = dict(rec.data)
        for name in [k for k in row if k in OUTPUT_FIELDS]:  # a gold label: kept, renamed
            value, new = row.pop(name), f"input_{name}"
            while new in row:  # a file classified before: its input_label stays as it is
                new = f"input_{new}"
            row[new] = value
        row["label"] = LABELS[int(p.argmax())]
        for label, value in zip(LABELS, p):
            row[f"p_{label}"] = round(float(value), 6)
        rows.append(row)
    return rows


def _same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # the output does not exist yet (or the input is missing: said later)
        return False


def classify_file(input_path: str | os.PathLike, output_path: str | os.PathLike | None,
                  model: CommentModel, *, text_field: str = "text",
                  chunk_rows: int = CHUNK_ROWS) -> ClassifyReport:
    """Classify ``input_path`` (JSONL/CSV) into ``output_path`` (JSONL/CSV by extension).

    With no output path, JSONL goes to stdout and rejects to stderr. Otherwise the output
    and ``<output>.rejects.jsonl`` appear atomically when the run completes. Raises
    :class:`InputError` for problems with the input or output as a whole.
    """
    start = time.perf_counter()
    report = ClassifyReport()
    if output_path is not None and _same_file(input_path, output_path):
        raise InputError(f"{output_path}: is the input file; write the output elsewhere "
                         "(the input would be overwritten)")
    records = read_records(input_path, text_field)
    out_fmt = detect_format(Path(output_path)) if output_path else "jsonl"
    rejects: list[dict] = []

    def run(out_fh) -> None:
        writer = RowWriter(out_fh, out_fmt)
        batch: list[Record] = []
        for rec in records:
            report.rows_read += 1
            if rec.error:
                rejects.append({"source": rec.source, "line": rec.line, "reason": rec.error,
                                "raw": rec.raw})
                continue
            batch.append(rec)
            if len(batch) >= chunk_rows:
                _flush(batch, writer)
                batch = []
        if batch:
            _flush(batch, writer)
        writer.close()

    def _flush(batch: list[Record], writer: RowWriter) -> None:
        rows = _label_rows(model, batch, text_field)
        writer.write_many(rows)
        report.rows_scored += len(rows)
        report.labels.update(r["label"] for r in rows)

    if output_path is None:
        run(sys.stdout)
        for r in rejects:
            print(f"{r['source']}:{r['line']}: {r['reason']}", file=sys.stderr)
    else:
        rejects_path = Path(f"{output_path}.rejects.jsonl")
        with atomic_output(output_path) as fh:
            run(fh)
        if rejects:
            with atomic_output(rejects_path) as fh:
                fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rejects)
            report.rejects_path = str(rejects_path)
        elif rejects_path.exists():
            rejects_path.unlink()  # a stale file from an earlier run would mislead
    report.rows_rejected = len(rejects)
    report.seconds = time.perf_counter() - start
    if report.rows_read != report.rows_scored + report.rows_rejected:
        raise AssertionError("row accounting broke: read != scored + rejected")
    return report

