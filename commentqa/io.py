"""Reading comment records from JSONL/CSV files and writing labeled rows, atomically.

Readers yield :class:`Record` objects that carry their source and 1-based line number,
so any problem can be reported as ``file:line: field: reason``. A record that cannot be
used is yielded with ``error`` set instead of being dropped: callers write it to a
rejects file, so every input row is accounted for.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import itertools
import json
import os
import tempfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .jsonparse import loads

__all__ = [
    "RAW_LIMIT",
    "GzipReader",
    "InputError",
    "Record",
    "RowWriter",
    "atomic_output",
    "csv_delimiter",
    "csv_table",
    "detect_format",
    "read_records",
    "require_field",
]

#: Longest raw text kept in a rejects row; longer ones are cut with a marker.
RAW_LIMIT = 2_000
_JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}
#: JSON records read before the first is classified, to catch a text field none of them has.
_SAMPLE_RECORDS = 20


class InputError(ValueError):
    """The input as a whole cannot be read (missing file, unknown format, bad header)."""


@dataclass
class Record:
    source: str
    line: int
    data: dict[str, Any] | None
    error: str | None = None
    raw: str | None = None


def detect_format(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    if last in _JSONL_SUFFIXES:
        return "jsonl"
    if last in {".csv", ".tsv"}:
        return "csv"
    raise InputError(f"{path}: unknown format {last or '(no extension)'!r}; "
                     "use .jsonl or .csv (optionally .gz)")


class GzipReader(gzip.GzipFile):
    """A gzip file whose truncated or corrupt data is an :class:`InputError` naming it,
    wherever the reader meets it (the gzip module raises ``EOFError`` or ``zlib.error``)."""

    def __init__(self, path: Path, fileobj: IO[bytes]):
        super().__init__(fileobj=fileobj, mode="rb")
        self._source, self._raw = path, fileobj

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()  # GzipFile leaves a file object it was given open

    def _checked(self, read: Callable[..., Any], *args: Any) -> Any:
        try:
            return read(*args)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise InputError(f"{self._source}: the gzip data is truncated or corrupt "
                             f"({exc}); repair or recompress the file") from None

    def read(self, size: int | None = -1) -> bytes:
        return self._checked(super().read, size)

    def read1(self, size: int = -1) -> bytes:
        return self._checked(super().read1, size)

    def readline(self, size: int | None = -1) -> bytes:
        return self._checked(super().readline, size)

    def peek(self, n: int) -> bytes:
        return self._checked(super().peek, n)


def _open_binary(path: Path) -> IO[bytes]:
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, expected a file")
    try:
        fh = open(path, "rb")  # noqa: SIM115 - returned to the caller
    except OSError as exc:
        raise InputError(f"{path}: cannot open ({exc.strerror})") from None
    if path.suffix.lower() == ".gz":
        return GzipReader(path, fh)  # type: ignore[return-value]
    return fh


def csv_delimiter(path: Path, head: bytes) -> str:
    """The delimiter of a CSV file, given its first bytes: a tab for ``.tsv``; else a comma,
    unless the header line has none but semicolons (Excel's CSV in many locales) or tabs."""
    if ".tsv" in [s.lower() for s in path.suffixes]:
        return "\t"
    header = head.split(b"\n", 1)[0]
    if b"," not in header:
        for candidate in (b";", b"\t"):
            if candidate in header:
                return candidate.decode()
    return ","


#: Largest CSV field read: csv's own limit (128 KiB) would reject long comments as malformed.
CSV_FIELD_LIMIT = 16 * 1024 * 1024

#: A CSV data row: (line, fields by column name, None, "") or (line, None, reason, raw text).
CsvRow = tuple[int, "dict[str, str] | None", "str | None", str]


@contextlib.contextmanager
def csv_table(fh: IO[bytes],
              path: str | os.PathLike) -> Iterator[tuple[list[str], Iterator[CsvRow]]]:
    """The header and data rows of a CSV stream, for every command that reads CSV.

    The delimiter comes from :func:`csv_delimiter`; a BOM is dropped; blank lines are
    skipped. A row is unreadable, with a reason, when the csv module cannot parse it, its
    cell count differs from the header's, or it holds bytes that are not UTF-8. ``[]`` is the
    header of an empty file. Raises :class:`InputError` when the header cannot be parsed.
    ``fh`` stays open: the caller closes it.
    """
    path = Path(path)
    csv.field_size_limit(CSV_FIELD_LIMIT)
    delimiter = csv_delimiter(path, fh.peek(1 << 16))
    text = io.TextIOWrapper(fh, encoding="utf-8-sig", errors="surrogateescape", newline="")
    try:
        reader = csv.reader(text, delimiter=delimiter)
        try:
            header = next(reader, None) or []
        except csv.Error as exc:
            raise InputError(f"{path}: unreadable CSV header ({exc})") from None
        yield header, _csv_rows(reader, header, delimiter)
    finally:
        text.detach()  # leaves fh to the caller; a dropped wrapper would close it


def _csv_rows(reader, header: list[str], delimiter: str) -> Iterator[CsvRow]:
    width = len(header)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, None, f"malformed CSV row: {exc}", ""
            continue
        if not row:
            continue  # a blank line
        if len(row) != width:
            yield (reader.line_num, None, f"row has {len(row)} cells, the header has {width}",
                   delimiter.join(row)[:RAW_LIMIT])
            continue
        try:
            "".join(row).encode("utf-8")
        except UnicodeEncodeError as exc:
            byte = ord(exc.object[exc.start]) - 0xDC00
            raw = delimiter.join(row).encode("utf-8", "surrogateescape")
            yield (reader.line_num, None, f"invalid UTF-8 in row (byte 0x{byte:02x})",
                   raw.decode("utf-8", "replace")[:RAW_LIMIT])
            continue
        yield reader.line_num, dict(zip(header, row)), None, ""


def clip(text: str) -> str:
    return text if len(text) <= RAW_LIMIT else text[:RAW_LIMIT] + f"... [{len(text)} chars]"


def _jsonl_records(path: Path) -> Iterator[Record]:
    """Every line's record: parsed (``data`` set, not yet :func:`_checked`) or rejected."""
    src = str(path)
    with _open_binary(path) as fh:
        for n, raw_line in enumerate(fh, 1):
            try:
                line = raw_line.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield Record(src, n, None, f"invalid UTF-8 at byte {exc.start}",
                             clip(raw_line.decode("utf-8", "replace")))
                continue
            if not line.strip():
                continue
            try:
                data = loads(line)
            except ValueError as exc:
                where = (f"{exc.msg} (column {exc.colno})" if isinstance(exc, json.JSONDecodeError)
                         else str(exc))
                yield Record(src, n, None, f"invalid JSON: {where}", clip(line.rstrip("\n")))
                continue
            yield Record(src, n, data, raw=line)


def _csv_records(path: Path, text_field: str) -> Iterator[Record]:
    src = str(path)
    with _open_binary(path) as fh, csv_table(fh, path) as (header, rows):
        if not header:
            raise InputError(f"{path}: empty file, expected a CSV header")
        if text_field not in header:
            raise InputError(f"{path}: line 1: no column {text_field!r} (columns: "
                             f"{', '.join(header)}); choose one with --text-field")
        for line, row, reason, raw in rows:
            if row is None:
                yield Record(src, line, None, reason, raw)
            else:
                yield _checked(Record(src, line, row), text_field)


def _checked(rec: Record, text_field: str) -> Record:
    data = rec.data
    if not isinstance(data, dict):
        rec.error = f"expected a JSON object, got {type(data).__name__}"
    elif text_field not in data:
        rec.error = f"field {text_field!r}: missing"
    elif data[text_field] is None:
        rec.error = f"field {text_field!r}: null"
    elif not isinstance(data[text_field], str):
        kind = type(data[text_field]).__name__
        rec.error = f"field {text_field!r}: expected a string, got {kind}"
    elif "\x00" in data[text_field]:
        rec.error = f"field {text_field!r}: contains NUL bytes"
    if rec.error:
        rec.raw = clip(rec.raw.rstrip("\n") if rec.raw else json.dumps(data, ensure_ascii=False))
        rec.data = None
    else:
        rec.raw = None
    return rec


def require_field(path: str | os.PathLike, records: list[Mapping[str, Any]], name: str, *,
                  kind: str = "field", has: Callable[[Mapping[str, Any]], bool] | None = None,
                  option: str = "--text-field") -> None:
    """Raise :class:`InputError` when none of a file's first ``records`` has the field
    ``name`` (``has`` tells, by default a plain key test): a field-mapping mistake, said once
    rather than as a reject per row. ``kind`` names it to the user (``field``, ``column``),
    ``option`` the command-line option that chooses it."""
    has = has or (lambda record: name in record)
    if records and not any(has(r) for r in records):
        seen = list(dict.fromkeys(str(k) for r in records for k in r))
        listed = ", ".join(seen[:20]) + (", ..." if len(seen) > 20 else "")
        raise InputError(f"{path}: no {kind} {name!r} in its first {len(records)} records "
                         f"({kind}s: {listed}); choose one with {option}")


def read_records(path: str | os.PathLike, text_field: str = "text") -> Iterator[Record]:
    """Yield every record of a JSONL or CSV file (``.gz`` too), good or rejected.

    Raises :class:`InputError` up front when the file cannot be opened, a CSV header lacks
    ``text_field``, or none of the first JSON objects has it.
    """
    path = Path(path)
    fmt = detect_format(path)
    _open_binary(path).close()  # fail early, before the first record is asked for
    if fmt != "jsonl":
        return _csv_records(path, text_field)
    records = _jsonl_records(path)
    head = list(itertools.islice(records, _SAMPLE_RECORDS))
    try:
        require_field(path, [r.data for r in head if isinstance(r.data, dict)], text_field)
    except InputError:
        records.close()
        raise
    return (_checked(r, text_field) if r.error is None else r
            for r in itertools.chain(head, records))


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[IO[str]]:
    """Write to a temporary file beside ``path``; rename it into place only on success."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"{parent}: output folder does not exist")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected a file name")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise InputError(f"{parent}: cannot write there ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
        try:
            os.replace(tmp, path)
        except OSError as exc:
            raise InputError(f"{path}: cannot write there ({exc.strerror})") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class RowWriter:
    """Write dict rows as JSONL or CSV (the CSV header is fixed by the first rows)."""

    def __init__(self, fh: IO[str], fmt: str):
        self.fh, self.fmt = fh, fmt
        self._csv: csv.DictWriter | None = None

    def write_many(self, rows: list[dict[str, Any]]) -> None:
        if self.fmt == "jsonl":
            self.fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
            return
        if self._csv is None:
            header: dict[str, None] = {}
            for r in rows:
                header.update(dict.fromkeys(r))
            self._csv = csv.DictWriter(self.fh, fieldnames=list(header), extrasaction="ignore")
            self._csv.writeheader()
        self._csv.writerows({k: _cell(v) for k, v in r.items()} for r in rows)


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value
