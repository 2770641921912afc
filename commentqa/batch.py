"""Score comment dumps: the work behind ``commentqa score``.

Files are read in chunks (:mod:`commentqa.sources`); worker processes turn each chunk into
comments (:mod:`commentqa.formats`) and score them (:func:`commentqa.scoring.score_frame`);
this process drops duplicate comment ids, writes comments as they come, tallies posts and
writes the posts table, rejects and summary at the end (:mod:`commentqa.outputs`).

Every record read is either scored or rejected with a reason: ``rows_read ==
rows_scored + rows_rejected`` is checked before anything is committed.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import __version__
from .formats import Comment, FieldMap, extract, flat_columns
from .heap import fix_mmap_threshold
from .io import InputError, clip
from .jsonparse import BadLine, parse_lines
from .keyset import KeySet
from .labels import LABELS
from .model import CommentModel
from .outputs import OUTPUT_FORMATS, OutputFolder, TableWriter
from .persistence import load_model
from .scoring import (
    COMMENT_COLUMNS,
    COMMENT_TYPES,
    TALLY_COLUMNS,
    PostTally,
    commenter_keys,
    label_codes,
    posts_table,
    score_frame,
)
from .sources import Chunk, Source, Unreadable, expand_inputs, open_source, read_chunks

__all__ = ["CHUNK_ROWS", "ScoreSummary", "score_chunk", "score_files"]

#: Records per chunk: big enough to amortise a model call and a process round trip, small
#: enough that a chunk in flight costs a few MB.
CHUNK_ROWS = 10_000
_IN_FLIGHT_PER_WORKER = 2  # chunks queued per worker: keeps both busy, memory bounded
#: With ``steady_heap``, workers' blocks from 4 MiB up come from mmap (a lower threshold
#: costs them system time: their arrays of a few hundred KB come and go every chunk).
WORKER_MMAP_THRESHOLD = 4 << 20


@dataclass
class ChunkResult:
    """What a worker sends back for one chunk."""

    source: str
    scored: pd.DataFrame
    tally: PostTally
    rejects: list[dict[str, Any]]
    rows_read: int
    blank: int
    bytes_read: int


@dataclass
class ScoreSummary:
    rows_read: int = 0
    rows_scored: int = 0
    rows_rejected: int = 0
    blank_lines: int = 0
    rows_without_post: int = 0
    posts: int = 0
    labels: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    outputs: dict[str, str] = field(default_factory=dict)

    def line(self) -> str:
        text = (f"{self.rows_scored:,} of {self.rows_read:,} comments scored in "
                f"{self.seconds:.1f}s, {self.posts:,} posts ("
                + ", ".join(f"{k} {self.labels[k]:,}" for k in LABELS) + ")")
        if self.rows_rejected:
            text += f"; {self.rows_rejected:,} rejected, see {self.outputs.get('rejects.jsonl')}"
        if self.rows_without_post:
            text += f"; {self.rows_without_post:,} without a post id (not in posts)"
        return text


def _reject(source: Source, line: int, reason: str, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, str):
        raw = json.dumps(raw, ensure_ascii=False, default=str)
    return {"source": source.name, "line": line, "reason": reason, "raw": clip(raw)}


def _records(chunk: Chunk, rejects: list[dict]) -> Iterator[tuple[int, Any, Any]]:
    """(line, record, raw) of every parseable record of a chunk; the rest to ``rejects``."""
    source = chunk.source
    values = iter(parse_lines([item for item in chunk.items if type(item) is bytes]))
    for line, item in zip(chunk.lines, chunk.items):
        if type(item) is bytes:
            value = next(values)
            if type(value) is BadLine:
                rejects.append(_reject(source, line, value.reason, _text_of(item)))
            else:
                yield line, value, item
        elif isinstance(item, Unreadable):
            rejects.append(_reject(source, line, item.reason, item.raw))
        else:
            yield line, item, item


def _text_of(raw: Any) -> Any:
    if isinstance(raw, bytes):
        return raw.decode("utf-8", "replace").rstrip("\r\n")
    return raw


#: Columns of a worker's scored frame that the parent needs; the texts stay in the worker.
_RESULT_COLUMNS = (*COMMENT_COLUMNS, "line", "id_given", "id_key", "commenter_key")


def score_chunk(chunk: Chunk, model: CommentModel) -> ChunkResult:
    """Parse, validate and score one chunk (runs in a worker process)."""
    chunk = chunk.expanded()
    source = chunk.source
    rejects: list[dict[str, Any]] = []
    columns, lines = _comment_columns(list(_records(chunk, rejects)), source, rejects)
    rejects.sort(key=lambda r: r["line"])  # parse and extraction rejects in file order
    ids = columns["comment_id"]
    given = np.fromiter((i is not None for i in ids), dtype=bool, count=len(ids))
    if not given.all():  # a synthetic id: file name, line and part of the record
        name = source.path.name
        for k in np.flatnonzero(~given):
            where = columns["where"][k]
            ids[k] = f"{name}:{lines[k]}" + (f":{where.split(':')[0].replace(' ', '')}"
                                            if where else "")
    # Plain object columns: cheaper to build and to pickle than pandas' Arrow strings.
    frame = pd.DataFrame({name: pd.Series(values, dtype=object)
                          for name, values in columns.items()})
    frame["line"] = np.asarray(lines, dtype=np.int64)
    scored = score_frame(model, frame)
    scored["id_given"] = given
    scored["id_key"] = pd.util.hash_array(scored["comment_id"].to_numpy(dtype=object)) \
        if len(scored) else np.zeros(0, np.uint64)
    scored["commenter_key"] = commenter_keys(scored["post_id"], scored["author"])
    return ChunkResult(source.name, scored[list(_RESULT_COLUMNS)],
                       PostTally.from_scored(scored), rejects, len(lines) + len(rejects),
                       chunk.blank, chunk.bytes_read)


def _comment_columns(records: list[tuple[int, Any, Any]], source: Source,
                     rejects: list[dict[str, Any]]) -> tuple[dict[str, list], list[int]]:
    """The :class:`Comment` fields of a chunk's records as columns, and each comment's
    line; records that give no comment go to ``rejects``."""
    objects = [record for _, record, _ in records]
    if source.fmt == "flat" and (all(type(r) is dict for r in objects)
                                 or all(isinstance(r, Mapping) for r in objects)):
        columns, keep, problems = flat_columns(objects, source.fields, source.context)
        for k, problem in problems:
            line, _, raw = records[k]
            rejects.append(_reject(source, line, problem, _text_of(raw)))
        return columns, [records[k][0] for k in keep]
    comments: list[Comment] = []
    lines: list[int] = []
    for line, record, raw in records:
        for part in extract(record, source.fmt, source.fields, source.context):
            if isinstance(part, str):
                rejects.append(_reject(source, line, part, _text_of(raw)))
            else:
                comments.append(part)
                lines.append(line)
    if not comments:
        return {name: [] for name in Comment._fields}, lines
    return dict(zip(Comment._fields, map(list, zip(*comments)))), lines


class _PostAccumulator:
    """Per-post counts and unique commenters, summed over chunks in bounded memory."""

    def __init__(self, spill_dir: str | os.PathLike | None = None) -> None:
        self.index: dict[str, int] = {}
        self.counts = np.zeros((1024, len(TALLY_COLUMNS)), dtype=np.int64)
        self.unique = np.zeros(1024, dtype=np.int64)
        self.pairs = KeySet(spill_dir=spill_dir)

    def add(self, tally: PostTally) -> None:
        index = self.index
        codes = np.fromiter((index.setdefault(p, len(index)) for p in tally.counts.index),
                            dtype=np.int64, count=len(tally.counts))
        if len(index) > len(self.unique):
            size = max(len(index), 2 * len(self.unique))
            self.counts = np.resize(self.counts, (size, len(TALLY_COLUMNS)))
            self.counts[len(self.unique):] = 0
            self.unique = np.concatenate([self.unique, np.zeros(size - len(self.unique),
                                                                np.int64)])
        self.counts[codes] += tally.counts.to_numpy(dtype=np.int64)
        if len(tally.commenters):
            fresh = self.pairs.add_new(tally.commenters["key"].to_numpy())
            # Through the chunk's own posts: mapping by ``index`` would hash every post
            # seen so far, once per chunk.
            local = tally.counts.index.get_indexer(tally.commenters["post_id"])
            np.add.at(self.unique, codes[local[fresh]], 1)

    def table(self) -> pd.DataFrame:
        n = len(self.index)
        ids = pd.Index(list(self.index), name="post_id", dtype=object)
        counts = pd.DataFrame(self.counts[:n], index=ids, columns=list(TALLY_COLUMNS))
        return posts_table(counts, pd.Series(self.unique[:n], index=ids))


_WORKER_MODEL: CommentModel | None = None


def _init_worker(model: CommentModel, mmap_threshold: int | None) -> None:
    global _WORKER_MODEL
    _WORKER_MODEL = model
    if mmap_threshold is not None:
        fix_mmap_threshold(mmap_threshold)


def _work(chunk: Chunk) -> ChunkResult:
    assert _WORKER_MODEL is not None
    return score_chunk(chunk, _WORKER_MODEL)


def _results(chunks: Iterator[Chunk], model: CommentModel, jobs: int,
             steady_heap: bool = False) -> Iterator[tuple[Chunk, ChunkResult]]:
    """Score chunks in order, on ``jobs`` worker processes (in this one when ``jobs`` is 1);
    each result comes with its chunk, whose raw records the rejects may need."""
    if jobs <= 1:
        for chunk in chunks:
            yield chunk, score_chunk(chunk, model)
        return
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    ctx = multiprocessing.get_context(method)
    pending: list[tuple[Chunk, Any]] = []
    worker_threshold = WORKER_MMAP_THRESHOLD if steady_heap else None
    with ctx.Pool(jobs, initializer=_init_worker, initargs=(model, worker_threshold)) as pool:
        if steady_heap:  # workers are started: this process only
            fix_mmap_threshold()
        for chunk in chunks:
            pending.append((chunk, pool.apply_async(_work, (chunk,))))
            if len(pending) >= jobs * _IN_FLIGHT_PER_WORKER:
                done, result = pending.pop(0)
                yield done, result.get()
        while pending:
            done, result = pending.pop(0)
            yield done, result.get()


def score_files(inputs: list[str], out_dir: str | os.PathLike, *, model: CommentModel | None = None,
                model_path: str | os.PathLike | None = None, fmt: str = "auto",
                fields: FieldMap | None = None, out_format: str = "parquet",
                jobs: int | None = None, chunk_rows: int = CHUNK_ROWS,
                progress: Callable[[int, int], None] | None = None,
                steady_heap: bool = False) -> ScoreSummary:
    """Score every comment of ``inputs`` into ``out_dir``.

    Writes ``comments.<ext>``, ``posts.<ext>``, ``rejects.jsonl`` and ``summary.json``
    atomically. ``progress(rows_done, bytes_read)`` is called after each chunk.
    ``steady_heap`` fixes glibc's mmap threshold in this process once the workers run
    (:mod:`commentqa.heap`; process-wide, so the command line sets it, not the default). Raises
    :class:`~commentqa.io.InputError` for a missing or unreadable input, an unknown format
    or an unwritable output folder.
    """
    start = time.perf_counter()
    if out_format not in OUTPUT_FORMATS:
        raise InputError(f"unknown output format {out_format!r}; choose one of "
                         f"{', '.join(OUTPUT_FORMATS)}")
    sources = [open_source(p, fmt, fields) for p in expand_inputs(inputs)]
    model = model if model is not None else load_model(model_path)
    folder = OutputFolder(out_dir)
    jobs = max(1, jobs if jobs is not None else (os.cpu_count() or 1))
    summary = ScoreSummary()
    try:
        _run(sources, model, folder, out_format, jobs, chunk_rows, summary, progress,
             steady_heap)
    except BaseException:
        folder.abort()
        raise
    summary.seconds = time.perf_counter() - start
    folder.write_json("summary.json", _summary_json(summary, model, sources, out_format))
    summary.outputs = folder.commit()
    return summary


def _run(sources: list[Source], model: CommentModel, folder: OutputFolder, out_format: str,
         jobs: int, chunk_rows: int, summary: ScoreSummary,
         progress: Callable[[int, int], None] | None, steady_heap: bool) -> None:
    comments = TableWriter(folder.path(f"comments.{out_format}"), out_format, COMMENT_TYPES)
    rejects_path = folder.path("rejects.jsonl")
    # Seen comment ids and (post, author) pairs: kept on disk past a few MB (see KeySet).
    ids, posts = KeySet(spill_dir=folder.folder), _PostAccumulator(spill_dir=folder.folder)
    bytes_read = 0

    def chunks() -> Iterator[Chunk]:
        for source in sources:
            yield from read_chunks(source, chunk_rows)

    with open(rejects_path, "w", encoding="utf-8") as rejects:
        for chunk, result in _results(chunks(), model, jobs, steady_heap):
            scored, bad = _drop_duplicates(chunk, result, ids)
            rejects.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in bad)
            comments.write(scored[list(COMMENT_COLUMNS)])
            # The worker's tally stands unless duplicates were dropped here (rare).
            posts.add(result.tally if len(scored) == len(result.scored)
                      else PostTally.from_scored(scored))
            summary.rows_read += result.rows_read
            summary.rows_scored += len(scored)
            summary.rows_rejected += len(bad)
            summary.blank_lines += result.blank
            summary.rows_without_post += int(scored["post_id"].isna().sum())
            found = np.bincount(label_codes(scored["label"]), minlength=len(LABELS))
            summary.labels.update(dict(zip(LABELS, found.tolist())))
            bytes_read += result.bytes_read
            if progress is not None:
                progress(summary.rows_read, bytes_read)
    comments.close()
    ids.close()
    posts.pairs.close()
    table = posts.table()
    summary.posts = len(table)
    post_writer = TableWriter(folder.path(f"posts.{out_format}"), out_format)
    post_writer.write(table)
    post_writer.close()
    if summary.rows_read != summary.rows_scored + summary.rows_rejected:
        raise AssertionError("row accounting broke: read != scored + rejected")


def _drop_duplicates(chunk: Chunk, result: ChunkResult,
                     ids: KeySet) -> tuple[pd.DataFrame, list[dict]]:
    """Rows whose given comment id was seen before become rejects; the first one stays."""
    scored = result.scored
    bad = list(result.rejects)
    given = scored["id_given"].to_numpy()
    if not given.any():
        return scored, bad
    dup = np.zeros(len(scored), dtype=bool)
    dup[given] = ~ids.add_new(scored["id_key"].to_numpy()[given])
    if dup.any():
        for line, cid in zip(scored["line"][dup].tolist(), scored["comment_id"][dup]):
            bad.append(_reject(chunk.source, line,
                               f"duplicate comment id {cid!r}: an earlier row has the same id",
                               _text_of(chunk.raw(line))))
        scored = scored[~dup]
    return scored, bad


def _summary_json(summary: ScoreSummary, model: CommentModel, sources: list[Source],
                  out_format: str) -> dict[str, Any]:
    return {
        "rows_read": summary.rows_read,
        "rows_scored": summary.rows_scored,
        "rows_rejected": summary.rows_rejected,
        "blank_lines_skipped": summary.blank_lines,
        "rows_without_post": summary.rows_without_post,
        "posts": summary.posts,
        "labels": {label: summary.labels.get(label, 0) for label in LABELS},
        "seconds": round(summary.seconds, 3),
        "comments_per_second": round(summary.rows_read / summary.seconds, 1)
        if summary.seconds else None,
        "model": {"id": model.name, "name": model.meta.get("name"),
                  "version": model.meta.get("version"),
                  "sha256": model.meta.get("model_sha256")},
        "commentqa_version": __version__,
        "output_format": out_format,
        "inputs": [{"path": s.name, "container": s.container, "format": s.fmt,
                    "fields": {k: v for k, v in s.fields.roles().items() if v}
                    if s.fmt == "flat" else None} for s in sources],
        "python": sys.version.split()[0],
    }

