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
import re
import tempfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .formats import is_encodable, json_type
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

_UMASK = os.umask(0)  # read by setting it, then put back
os.umask(_UMASK)
#: Permissions of an output file: what ``open`` would give it under the process's umask
#: (a temporary file from ``mkstemp``, renamed into place, would keep 0600).
FILE_MODE = 0o666 & ~_UMASK
DIR_MODE = 0o777 & ~_UMASK  # the same for a folder

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

#: A CSV data row: (line, fields by column name, None, ""), (line, None, reason, raw text),
#: or (line, None, None, "") for a blank line (skipped, but counted).
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
    quotes = _QuoteCount()
    try:
        reader = csv.reader(quotes.lines(text), delimiter=delimiter)
        try:
            header = next(reader, None) or []
        except csv.Error as exc:
            raise InputError(f"{path}: unreadable CSV header ({exc})") from None
        yield header, _csv_rows(reader, header, delimiter, quotes)
    finally:
        text.detach()  # leaves fh to the caller; a dropped wrapper would close it


class _QuoteCount:
    """Feeds a text stream's lines to ``csv.reader``, counting the quote characters of the
    lines read since :meth:`reset` and noticing the end of the stream."""

    def __init__(self) -> None:
        self.quotes, self.ended = 0, False

    def reset(self) -> None:
        self.quotes = 0

    def lines(self, text: IO[str]) -> Iterator[str]:
        for line in text:
            self.quotes += line.count('"')
            yield line
        self.ended = True


def _csv_rows(reader, header: list[str], delimiter: str,
              quotes: _QuoteCount) -> Iterator[CsvRow]:
    width = len(header)
    while True:
        first = reader.line_num + 1
        quotes.reset()
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, None, f"malformed CSV row: {exc}", ""
            continue
        if quotes.ended and quotes.quotes % 2:
            # The file ended inside a quoted cell: csv gives everything after the opening
            # quote as that cell, so the rows it swallowed must not pass for one comment.
            yield (first, None, f"unterminated quoted cell: a '\"' opened on line {first} is "
                   f"never closed, so lines {first}-{reader.line_num} were read as one row",
                   delimiter.join(row)[:RAW_LIMIT])
            continue
        if not row:
            yield reader.line_num, None, None, ""  # a blank line
            continue
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


_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_unicode(text: str) -> str:
    """``text`` as writable UTF-8: an undecodable byte read with ``surrogateescape``
    becomes U+FFFD, any other lone surrogate (a JSON ``\\ud800`` escape) its ``\\uXXXX``."""
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub(lambda m: "\ufffd" if 0xDC80 <= ord(m[0]) <= 0xDCFF
                          else f"\\u{ord(m[0]):04x}", text)


def _jsonl_records(path: Path) -> Iterator[Record]:
    """Every line's record: parsed (``data`` set, not yet :func:`_checked`) or rejected."""
    src = str(path)
    with _open_binary(path) as fh:
        for n, raw_line in enumerate(fh, 1):
            if n == 1 and raw_line.startswith(b"\xef\xbb\xbf"):  # a UTF-8 BOM
                raw_line = raw_line[3:]
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
            except ValueError as exc:  # the reason ``commentqa score`` gives
                yield Record(src, n, None, f"invalid JSON: {exc}", clip(line.rstrip("\n")))
                continue
            yield Record(src, n, data, raw=line)


def _array_records(path: Path) -> Iterator[Record]:
    """Every item of a file holding one JSON array, as :func:`_jsonl_records` gives lines."""
    from .sources import Unreadable, array_items  # sources builds on this module

    src = str(path)
    with _open_binary(path) as fh:
        text = io.TextIOWrapper(fh, encoding="utf-8-sig", errors="surrogateescape")
        for n, item in array_items(text):
            if isinstance(item, Unreadable):
                yield Record(src, n, None, item.reason, clip(valid_unicode(item.raw)))
            else:
                raw = json.dumps(item, ensure_ascii=False)
                yield Record(src, n, item, raw=raw)


def _csv_records(path: Path, text_field: str) -> Iterator[Record]:
    src = str(path)
    with _open_binary(path) as fh, csv_table(fh, path) as (header, rows):
        if not header:
            raise InputError(f"{path}: empty file, expected a CSV header")
        if text_field not in header:
            raise InputError(f"{path}: line 1: no column {text_field!r} "
                             f"{_known(header, text_field, 'column')}; choose one with "
                             "--text-field")
        for line, row, reason, raw in rows:
            if row is None and reason is None:
                continue  # a blank line
            if row is None:
                yield Record(src, line, None, reason, raw)
            else:
                yield _checked(Record(src, line, row), text_field)


def _checked(rec: Record, text_field: str) -> Record:
    data = rec.data
    if not isinstance(data, dict):
        rec.error = f"expected a JSON object, got {json_type(data)}"
    elif text_field not in data:
        rec.error = f"field {text_field!r}: missing"
    elif data[text_field] is None:
        rec.error = f"field {text_field!r}: null"
    elif not isinstance(data[text_field], str):
        kind = type(data[text_field]).__name__
        rec.error = f"field {text_field!r}: expected a string, got {kind}"
    elif "\x00" in data[text_field]:
        rec.error = f"field {text_field!r}: contains NUL bytes"
    elif rec.raw is not None and ("\\u" in rec.raw or not is_encodable(rec.raw)):
        # A lone surrogate escape, or undecodable bytes of a JSON array: not writable.
        bad = next((k for k, v in data.items()
                    if not is_encodable(json.dumps({k: v}, ensure_ascii=False))), None)
        if bad is not None:
            rec.error = (f"field {valid_unicode(str(bad))!r}: invalid Unicode (undecodable "
                         "bytes or a lone surrogate)")
    if rec.error:
        rec.raw = clip(rec.raw.rstrip("\n") if rec.raw else json.dumps(data, ensure_ascii=False))
        rec.raw = valid_unicode(rec.raw)
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
        raise InputError(f"{path}: no {kind} {name!r} in its first {len(records)} records "
                         f"{_known(seen, name, kind)}; choose one with {option}")


def _known(names: list[str], wanted: str, kind: str) -> str:
    """``(columns: a, b, ...)``, led by the names that differ from ``wanted`` only in case or
    surrounding spaces (``' text'``, ``'Text'``): the likely meant ones."""
    listed = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
    close = [n for n in names if n.strip().casefold() == wanted.strip().casefold()]
    hint = f"did you mean {' or '.join(map(repr, close))}? " if close else ""
    return f"({hint}{kind}s: {listed})"


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
    with _open_binary(path) as fh:
        array = fh.peek(4096)[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"[")
    records = _array_records(path) if array else _jsonl_records(path)
    head = list(itertools.islice(records, _SAMPLE_RECORDS))
    try:
        require_field(path, [r.data for r in head if isinstance(r.data, dict)], text_field)
    except InputError:
        records.close()
        raise
    return (_checked(r, text_field) if r.error is None else r
            for r in itertools.chain(head, records))


def check_output_path(path: str | os.PathLike) -> Path:
    """Raise :class:`InputError` unless ``path`` can name an output file (its folder
    exists, it is not a folder); its folder. Commands call it before their work."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"{parent}: output folder does not exist")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected a file name")
    return parent


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[IO[str]]:
    """Write to a temporary file beside ``path``; rename it into place only on success."""
    path = Path(path)
    parent = check_output_path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise InputError(f"{parent}: cannot write there ({exc.strerror})") from None
    try:
        os.chmod(tmp, FILE_MODE)  # mkstemp's 0600 is for the temporary name only
        with contextlib.ExitStack() as stack:
            raw = stack.enter_context(os.fdopen(fd, "wb"))
            if path.suffix.lower() == ".gz":
                raw = stack.enter_context(gzip.GzipFile(filename=path.name[:-3], mode="wb",
                                                        fileobj=raw, mtime=0))
            yield stack.enter_context(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
        try:
            os.replace(tmp, path)
        except OSError as exc:
            raise InputError(f"{path}: cannot write there ({exc.strerror})") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class RowWriter:
    """Write dict rows as JSONL or CSV; call :meth:`close` when done.

    A CSV header must name every field of every row, and JSON records need not share their
    fields (a later record may bring a new one), so CSV rows wait in an anonymous temporary
    file until :meth:`close` knows the whole header.
    """

    def __init__(self, fh: IO[str], fmt: str):
        self.fh, self.fmt = fh, fmt
        self._header: dict[str, None] = {}
        self._spool: IO[str] | None = (
            tempfile.TemporaryFile("w+", encoding="utf-8", newline="")  # noqa: SIM115
            if fmt == "csv" else None)

    def write_many(self, rows: list[dict[str, Any]]) -> None:
        if self._spool is None:
            self.fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
            return
        for r in rows:
            self._header.update(dict.fromkeys(r))
        # ASCII escapes: any string, a lone surrogate included, comes back as it went in.
        self._spool.writelines(json.dumps(r) + "\n" for r in rows)

    def close(self) -> None:
        """Write out the CSV rows under the header of all of them."""
        if self._spool is None:
            return
        spool, self._spool = self._spool, None
        with spool:
            spool.seek(0)
            writer = csv.DictWriter(self.fh, fieldnames=list(self._header))
            writer.writeheader()
            for line in spool:
                writer.writerow({k: _cell(v) for k, v in json.loads(line).items()})


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value
