"""Input files to chunks of records: paths, directories and globs; JSONL, JSON arrays and
documents, CSV and Parquet; gzip transparently.

:func:`read_chunks` streams each file in chunks of at most ``chunk_rows`` records, so
memory stays bounded whatever the input size. JSONL lines travel as raw bytes and are
decoded by whoever scores the chunk (a worker process); the other containers are parsed
here. A record that cannot even be parsed travels as a :class:`Unreadable` with its
reason, so it reaches the rejects file like every other bad row.
"""

from __future__ import annotations

import contextlib
import glob
import io
import json
import os
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import IO, Any

import numpy as np

from .formats import (
    FieldMap,
    detect_format,
    facebook_posts,
    has_field,
    leaf_records,
    resolve_fields,
    unwrap_document,
)
from .io import GzipReader, InputError, csv_table, require_field
from .jsonparse import TOO_DEEP, loads

__all__ = [
    "CHUNK_BYTES",
    "CONTAINERS",
    "MAX_LINE_BYTES",
    "Chunk",
    "Source",
    "Unreadable",
    "array_items",
    "expand_inputs",
    "open_source",
    "read_chunks",
]

CONTAINERS: tuple[str, ...] = ("jsonl", "json-array", "json-doc", "csv", "parquet")
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv",
             ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet"}
#: A JSONL line or CSV field longer than this is rejected without being held in memory.
MAX_LINE_BYTES = 16 * 1024 * 1024
#: A JSON file that is one document (not an array, not JSONL) is read whole; above this
#: size it is refused: such exports are API pages, and a bigger one should be JSONL.
MAX_DOCUMENT_BYTES = 512 * 1024 * 1024
_FORMAT_NAMES = {"flat": "flat comment records (one comment each)",
                 "instagram": "Instagram Graph API comments",
                 "youtube": "YouTube commentThreads",
                 "facebook": "Facebook Graph API comments",
                 "reddit": "Reddit comments"}
_SAMPLE_RECORDS = 20  # records read to detect a file's format and fields
_BLOCK = 1 << 20
#: A JSONL chunk holds about this many bytes at most (fewer lines when they are long).
CHUNK_BYTES = 4 << 20


@dataclass(frozen=True)
class Unreadable:
    """A record that could not be parsed."""

    reason: str
    raw: str = ""


@dataclass
class Source:
    """One input file and what was found out about it."""

    path: Path
    container: str
    fmt: str = "flat"
    fields: FieldMap = field(default_factory=FieldMap)
    context: dict[str, Any] = field(default_factory=dict)
    #: What synthetic comment ids start with (``<label>:<line>``): the file name, or its
    #: path where several inputs share a name (see :func:`label_sources`).
    label: str = ""

    @property
    def name(self) -> str:
        return str(self.path)


@dataclass
class Chunk:
    """Records of one source with their 1-based line (or row/item) numbers.

    ``kind`` is ``"lines"`` (raw JSONL bytes), ``"records"`` (parsed objects, dict rows or
    :class:`Unreadable`), ``"block"``: whole JSONL lines as one ``bytes`` (``block``, its
    first line numbered ``first_line``), or ``"arrow"``: rows of a Parquet file as one
    ``pyarrow.RecordBatch`` (``batch``, its first row numbered ``first_line``). Blocks and
    batches are cheap to send to a worker, which unpacks them with :meth:`expanded`.
    ``blank`` counts blank lines skipped while reading it.
    """

    source: Source
    kind: str
    lines: list[int]
    items: list[Any]
    blank: int = 0
    bytes_read: int = 0
    block: bytes = b""
    first_line: int = 0
    batch: Any = None

    def expanded(self) -> Chunk:
        """This chunk with ``lines`` and ``items`` filled: a ``block`` is split into its
        lines (blank ones counted, not kept); other kinds are returned as they are."""
        if self.kind == "arrow":
            rows = _arrow_rows(self.batch)
            return Chunk(self.source, "records",
                         list(range(self.first_line, self.first_line + len(rows))), rows,
                         self.blank, self.bytes_read)
        if self.kind != "block":
            return self
        parts = self.block.split(b"\n")
        if not parts[-1]:  # the block ends with a newline
            parts.pop()
        first = self.first_line
        keep = [i for i, part in enumerate(parts) if part and not part.isspace()]
        items = [parts[i] for i in keep]
        if len(self.block) > MAX_LINE_BYTES:  # a line that fitted in a read may still be long
            items = [_overlong(len(item), _clip_bytes(item[:2_000]))
                     if len(item) > MAX_LINE_BYTES else item for item in items]
        return Chunk(self.source, "lines", [first + i for i in keep], items,
                     self.blank + len(parts) - len(keep), self.bytes_read)

    def raw(self, line: int) -> Any:
        """The record read at ``line`` as it was read (bytes of a JSONL line, a parsed object)."""
        if self.kind == "block":
            return self._block_lines[line - self.first_line]
        if self.kind == "arrow":
            return _arrow_rows(self.batch.slice(line - self.first_line, 1))[0]
        return self.items[self.lines.index(line)]

    @cached_property
    def _block_lines(self) -> list[bytes]:
        """The block's lines, split once for every :meth:`raw` lookup."""
        return self.block.split(b"\n")


def expand_inputs(inputs: list[str], exclude: str | os.PathLike | None = None) -> list[Path]:
    """Files named by ``inputs``: files as given, directories recursively, globs expanded.
    Files under the folder ``exclude`` (the run's own output folder) are left out of
    directories and globs."""
    skip = Path(exclude).resolve() if exclude is not None else None

    def wanted(p: Path) -> bool:
        return p.is_file() and (skip is None or not p.resolve().is_relative_to(skip))

    out: list[Path] = []
    for spec in inputs:
        path = Path(spec)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if _suffix(p) in _SUFFIXES and wanted(p))
            if not found:
                raise InputError(f"{spec}: directory has no .jsonl/.json/.csv/.parquet files")
            out.extend(found)
        elif path.exists():
            if not path.is_file():  # a pipe (``<(...)``), a FIFO, a device
                raise InputError(f"{spec}: not a regular file; a file is read more than once "
                                 "(to detect its format, then to score it), so save the "
                                 "stream to a file first")
            out.append(path)
        elif glob.has_magic(spec):
            found = sorted(Path(p) for p in glob.glob(spec, recursive=True) if wanted(Path(p)))
            if not found:
                raise InputError(f"{spec}: no file matches this pattern")
            out.extend(found)
        else:
            raise InputError(f"{spec}: no such file")
    seen: set[Path] = set()
    return [p for p in out if not (p.resolve() in seen or seen.add(p.resolve()))]


def label_sources(sources: list[Source]) -> None:
    """Give each source its :attr:`Source.label`: the file name, unless another input has
    the same name (``a/c.jsonl``, ``b/c.jsonl``): then the path, so ids stay distinct."""
    names = Counter(s.path.name for s in sources)
    for source in sources:
        source.label = source.path.name if names[source.path.name] == 1 else str(source.path)


def _suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


def _open(path: Path) -> IO[bytes]:
    try:
        fh = open(path, "rb")  # noqa: SIM115 - returned to the caller
    except OSError as exc:
        raise InputError(f"{path}: cannot open ({exc.strerror})") from None
    if fh.peek(2)[:2] == b"\x1f\x8b":
        return GzipReader(path, fh)  # type: ignore[return-value]
    return fh


def _sniff(path: Path) -> str:
    with _open(path) as fh:
        try:
            head = fh.read(4096)
        except (OSError, EOFError) as exc:
            raise InputError(f"{path}: cannot read ({exc})") from None
    if head.startswith(b"PAR1"):
        return "parquet"
    first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if first in (b"{", b"["):
        return "json"
    if not first:
        return "jsonl"  # empty: nothing to read whatever it is
    raise InputError(f"{path}: unknown format; name it .jsonl, .json, .csv or .parquet "
                     "(optionally .gz)")


def open_source(path: Path, fmt: str = "auto", fields: FieldMap | None = None) -> Source:
    """Work out a file's container, record format and fields from its name and content."""
    container = _SUFFIXES.get(_suffix(path)) or _sniff(path)
    if container in ("json", "jsonl"):
        container = _json_layout(path, lines=container == "jsonl")
    source = Source(path, container, fields=fields or FieldMap(), label=path.name)
    sample = _sample(source)
    detected = detect_format(sample)
    if fmt != "auto" and detected != fmt and _mismatch(fmt, detected, sample, fields):
        raise InputError(f"{path}: --format {fmt}, but its records look like "
                         f"{_FORMAT_NAMES[detected]}; leave --format out to detect it")
    source.fmt = detected if fmt == "auto" else fmt
    if source.fmt == "facebook" and facebook_posts(sample):
        source.context = {**source.context, "facebook_posts": True}
    if source.fmt in FIELD_FORMATS:
        # The records inside API pages and media documents (a page of posts holds posts
        # that hold comments), which are what gets scored.
        sample = [leaf for record in sample for leaf in leaf_records(record)]
        source.fields = resolve_fields(sample, source.fields)
        records = [r for r in sample if isinstance(r, Mapping)]
        kind = "column" if source.container in ("csv", "parquet") else "field"
        # The text field, and every field the user named: a name no record has is a typo.
        named = {"text": source.fields.text or _TEXT_FIELDS.get(source.fmt, "text")}
        named.update((role, name) for role, name in (fields or FieldMap()).roles().items()
                     if name is not None and role != "text")
        photo = source.fmt == "facebook" and named["text"] == "message"
        for role, name in named.items():
            require_field(source.path, records, name, kind=kind, option=f"--{role}-field",
                          has=lambda record, name=name, role=role: has_field(record, name)
                          or (photo and role == "text" and "attachment" in record))
    return source


#: Formats whose records are read through a field map (found by common names or named by
#: the user): flat records, and the Reddit and Facebook comments that CSV exports flatten.
FIELD_FORMATS = ("flat", "reddit", "facebook")


#: The text field of each API format (``--text-field`` names another).
_TEXT_FIELDS = {"instagram": "text", "facebook": "message", "reddit": "body"}


def _mismatch(fmt: str, detected: str, sample: list[Any], fields: FieldMap | None) -> bool:
    """Whether ``--format fmt`` would reject every record of a file detected as ``detected``:
    records of another platform's API, or flat records without the format's text field.
    Flat reading of API records works, except for YouTube's nested snippets."""
    if fmt == "flat":
        return detected == "youtube"
    if detected != "flat" or fmt == "youtube":
        return True
    name = (fields.text if fields else None) or _TEXT_FIELDS[fmt]
    records = [item for record in sample for item in unwrap_document(record)[0]
               if isinstance(item, Mapping)]
    return bool(records) and not any(has_field(r, name) for r in records)


def _json_layout(path: Path, lines: bool) -> str:
    """``json-array``, ``jsonl`` or ``json-doc`` from a JSON file's content; ``lines`` when its
    name says JSONL, which the content must then plainly contradict: one array (a first line
    that is not a whole array, or a one-line file) or a document opening with a lone ``{``."""
    with _open(path) as fh:
        head = fh.read(_BLOCK)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    first, _, rest = text.partition(b"\n")
    if text.startswith(b"[") and not lines:
        return "json-array"
    if lines and not text.startswith(b"["):
        return "json-doc" if first.strip() == b"{" else "jsonl"
    try:
        loads(first)
    except ValueError as exc:
        # A line nested too deeply is still a JSONL line: its records get their reasons.
        if str(exc) == TOO_DEEP:
            return "jsonl"
        return "json-array" if lines else "json-doc"
    return "jsonl" if not lines or rest.strip() else "json-array"


def _sample(source: Source) -> list[Any]:
    sample: list[Any] = []
    with contextlib.closing(read_chunks(source, _SAMPLE_RECORDS)) as chunks:
        chunk = next(chunks, None)
    for item in chunk.expanded().items if chunk else ():
        if isinstance(item, bytes):
            try:
                item = loads(item)
            except ValueError:
                continue
        if not isinstance(item, Unreadable):
            sample.append(item)
    return sample


def read_chunks(source: Source, chunk_rows: int) -> Iterator[Chunk]:
    """Chunks of at most ``chunk_rows`` records of ``source``, in file order."""
    reader = {"jsonl": _jsonl_chunks, "json-array": _array_chunks, "json-doc": _doc_chunks,
              "csv": _csv_chunks, "parquet": _parquet_chunks}[source.container]
    return reader(source, chunk_rows)


def _jsonl_chunks(source: Source, chunk_rows: int) -> Iterator[Chunk]:
    """``block`` chunks of at most ``chunk_rows`` whole lines and about
    :data:`CHUNK_BYTES`; a line over :data:`MAX_LINE_BYTES` becomes a chunk of one
    :class:`Unreadable` and is never held in memory whole."""
    first = 1  # number of the first line in ``data``
    # One buffer, grown and trimmed in place: a bytes object rebuilt at every read would
    # copy the pending lines each time, megabytes that come and go with every chunk.
    data = bytearray()
    ends = np.zeros(0, dtype=np.int64)  # where each complete line of ``data`` ends (+1)
    with _open(source.path) as fh:
        if fh.peek(3)[:3] == b"\xef\xbb\xbf":  # a UTF-8 BOM (Windows tools write one)
            fh.read(3)
        while True:
            block = fh.read(_BLOCK)
            newlines = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 0x0A)
            ends = np.concatenate([ends, newlines + (len(data) + 1)])
            data += block
            start = k = 0
            while k < len(ends):
                take = min(chunk_rows, len(ends) - k)
                within = int(np.searchsorted(ends[k : k + take], start + CHUNK_BYTES, "right"))
                if within < take:  # the byte cap comes first
                    take = max(within, 1)
                elif take < chunk_rows and block:  # neither cap reached: read on
                    break
                stop = int(ends[k + take - 1])
                yield Chunk(source, "block", [], [], 0, stop - start, _copy(data, start, stop),
                            first)
                first, start, k = first + take, stop, k + take
            del data[:start]
            ends = ends[k:] - start
            if not block:  # end of file: a last line without a newline
                if data:
                    yield Chunk(source, "block", [], [], 0, len(data), bytes(data), first)
                return
            partial = len(data) - (int(ends[-1]) if len(ends) else 0)
            if partial > MAX_LINE_BYTES:
                if len(ends):  # the whole lines before it go first
                    stop = int(ends[-1])
                    yield Chunk(source, "block", [], [], 0, stop, _copy(data, 0, stop), first)
                    first += len(ends)
                head = _clip_bytes(_copy(data, len(data) - partial, len(data) - partial + 2_000))
                size, rest = _skip_line(fh, partial)
                data, ends = bytearray(rest or b""), np.zeros(0, dtype=np.int64)
                yield Chunk(source, "lines", [first], [_overlong(size, head)], 0,
                            size + (1 if rest is not None else 0))
                first += 1


def _copy(buffer: bytearray, start: int, stop: int) -> bytes:
    """``bytes(buffer[start:stop])`` with one copy, not two."""
    with memoryview(buffer) as view:
        return bytes(view[start:stop])


def _overlong(size: int, head: str = "") -> Unreadable:
    """An overlong line, with its first 2,000 bytes as ``raw`` (the reason gives its size)."""
    return Unreadable(f"line is {size:,} bytes, over the {MAX_LINE_BYTES:,}-byte limit", head)


def _skip_line(fh: IO[bytes], skipped: int) -> tuple[int, bytes | None]:
    """Read past the rest of an overlong line: its size in bytes (newline excluded) and
    what follows its newline (None at the end of the file)."""
    while block := fh.read(_BLOCK):
        newline = block.find(b"\n")
        if newline >= 0:
            return skipped + newline, block[newline + 1 :]
        skipped += len(block)
    return skipped, None


def _clip_bytes(raw: bytes, limit: int = 2_000) -> str:
    return raw[:limit].decode("utf-8", "replace") + ("..." if len(raw) > limit else "")


_BLANK = object()  # a blank line among the records given to _records: counted, not kept


def _records(source: Source, rows: Iterator[tuple[int, Any]], chunk_rows: int,
             ) -> Iterator[Chunk]:
    lines: list[int] = []
    items: list[Any] = []
    blank = 0
    for n, item in rows:
        if item is _BLANK:
            blank += 1
            continue
        lines.append(n)
        items.append(item)
        if len(items) >= chunk_rows:
            yield Chunk(source, "records", lines, items, blank)
            lines, items, blank = [], [], 0
    if items or blank:
        yield Chunk(source, "records", lines, items, blank)


def _doc_chunks(source: Source, chunk_rows: int) -> Iterator[Chunk]:
    size = source.path.stat().st_size
    if size > MAX_DOCUMENT_BYTES:
        raise InputError(f"{source.path}: a {size:,}-byte single JSON document is too large "
                         "to read at once; export it as JSONL or a JSON array")
    with _open(source.path) as fh:
        data = fh.read()
    if not data.lstrip(b"\xef\xbb\xbf \t\r\n"):
        return  # an empty file holds no comment, as an empty JSONL file
    try:
        doc = loads(data.decode("utf-8", "surrogateescape"))
    except ValueError as exc:
        yield Chunk(source, "records", [1], [Unreadable(f"invalid JSON document: {exc}",
                                                        _clip_bytes(data))])
        return
    items, context = unwrap_document(doc)
    source.context = {**source.context, **context}
    yield from _records(source, enumerate(items, 1), chunk_rows)


def _array_chunks(source: Source, chunk_rows: int) -> Iterator[Chunk]:
    with _open(source.path) as fh:
        text = io.TextIOWrapper(fh, encoding="utf-8-sig", errors="surrogateescape")
        yield from _records(source, array_items(text), chunk_rows)


def array_items(fh: IO[str]) -> Iterator[tuple[int, Any]]:
    """Items of a top-level JSON array, read incrementally."""
    decoder = json.JSONDecoder()
    buf, pos, eof = "", 0, False

    def fill() -> bool:
        nonlocal buf, pos, eof
        more = fh.read(_BLOCK)
        eof = not more
        buf = buf[pos:] + more
        pos = 0
        return bool(more)

    def skip_ws() -> str:
        nonlocal pos
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n":
                pos += 1
            if pos < len(buf) or not fill():
                return buf[pos] if pos < len(buf) else ""

    if skip_ws() != "[":
        yield 1, Unreadable("a JSON array must start with '['")
        return
    pos += 1
    n = 0
    if skip_ws() == "]":
        return
    while True:
        n += 1
        while True:
            try:
                item, end = decoder.raw_decode(buf, pos)
                break
            except RecursionError:
                yield n, Unreadable(f"invalid JSON in array item {n}: {TOO_DEEP}; the rest of "
                                    "the file cannot be read", buf[pos:pos + 2_000])
                return
            except ValueError as exc:
                if not eof and len(buf) - pos <= MAX_LINE_BYTES and fill():
                    continue
                yield n, Unreadable(f"invalid JSON in array item {n}: {exc}; the rest of the "
                                    "file cannot be read", buf[pos:pos + 2_000])
                return
        pos = end
        yield n, item
        sep = skip_ws()
        if sep == ",":
            pos += 1
            skip_ws()
        elif sep == "]":
            return
        else:
            yield n + 1, Unreadable(f"expected ',' or ']' after array item {n}, found "
                                    f"{sep or 'end of file'!r}; the rest of the file cannot be "
                                    "read")
            return


def _csv_chunks(source: Source, chunk_rows: int) -> Iterator[Chunk]:
    with _open(source.path) as fh, csv_table(fh, source.path) as (header, rows):
        if not header:
            return
        records = ((line, row if row is not None else
                    _BLANK if reason is None else Unreadable(reason, raw))
                   for line, row, reason, raw in rows)
        yield from _records(source, records, chunk_rows)


def _arrow_rows(batch: Any) -> list[dict[str, Any]]:
    """Rows of a record batch as dicts. Binary columns are read as UTF-8 text (Impala, older
    Hive and some Spark jobs write strings as plain BINARY); bytes that are not UTF-8 become
    lone surrogates, which the text checks reject by field."""
    import pyarrow as pa

    rows = batch.to_pylist()
    binary = [field.name for field in batch.schema
              if pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type)]
    for name in binary:
        for row in rows:
            value = row[name]
            if isinstance(value, bytes):
                row[name] = value.decode("utf-8", "surrogateescape")
    return rows


def _parquet_chunks(source: Source, chunk_rows: int) -> Iterator[Chunk]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(f"{source.path}: reading Parquet needs pyarrow "
                         "(pip install pyarrow)") from None
    try:
        parquet = pq.ParquetFile(source.path)
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise InputError(f"{source.path}: unreadable Parquet file ({exc})") from None
    row = 0
    with parquet:
        for batch in parquet.iter_batches(batch_size=chunk_rows):
            # Rows become Python objects in the worker (Chunk.expanded), not here.
            yield Chunk(source, "arrow", [], [], batch=batch, first_line=row + 1)
            row += batch.num_rows

