"""Score comment dumps: the work behind ``commentqa score``.

Files are read in chunks (:mod:`commentqa.sources`); worker processes turn each chunk into
comments (:mod:`commentqa.formats`) and score them (:func:`commentqa.scoring.score_frame`);
this process drops duplicate comment ids, writes comments as they come, tallies posts and
writes the posts table, rejects and summary at the end (:mod:`commentqa.outputs`).

Every record read is either scored or rejected with a reason: ``rows_read ==
rows_scored + rows_rejected`` is checked before anything is committed.
"""

from __future__ import annotations

import contextlib
import gc
import json
import multiprocessing
import os
import pickle
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from . import __version__
from .formats import (
    Comment,
    FieldMap,
    bare_post,
    document_items,
    extract,
    flat_columns,
    is_encodable,
    reddit_columns,
    unwrap_document,
)
from .heap import fix_mmap_threshold, release_free_pages
from .io import InputError, clip, valid_unicode
from .jsonparse import BadLine, parse_lines
from .keyset import KeySet
from .labels import LABELS
from .model import CommentModel
from .outputs import OUTPUT_FORMATS, OutputFolder, TableWriter, use_system_memory_pool
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
from .sources import (
    FIELD_FORMATS,
    Chunk,
    Source,
    Unreadable,
    expand_inputs,
    label_sources,
    open_source,
    read_chunks,
)

__all__ = ["CHUNK_ROWS", "ScoreSummary", "score_chunk", "score_files"]

#: Records per chunk: big enough to amortise a model call and a process round trip, small
#: enough that a chunk in flight costs a few MB.
CHUNK_ROWS = 10_000
_IN_FLIGHT_PER_WORKER = 2  # chunks queued per worker: keeps both busy, memory bounded
#: With ``steady_heap``, workers' blocks from 32 MiB up come from mmap. Their arrays of a
#: few hundred KB to a few MB come and go every chunk: from mmap each would be faulted in
#: page by page again (a 4 MiB threshold cost a 1M-comment run about 2 s of system time).
WORKER_MMAP_THRESHOLD = 32 << 20
#: With ``steady_heap``, chunks between handing the heap's free pages back
#: (:func:`commentqa.heap.release_free_pages`), in each worker and in this process: a
#: worker's token memo fills and restarts every 20 to 30 chunks, and the holes it and the
#: per-chunk arrays leave would otherwise stay resident and slowly multiply.
RELEASE_CHUNKS = 10


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
                f"{self.seconds:.1f}s, {self.posts:,} post{'' if self.posts == 1 else 's'} ("
                + ", ".join(f"{k} {self.labels[k]:,}" for k in LABELS) + ")")
        if self.rows_rejected:
            text += f"; {self.rows_rejected:,} rejected, see {self.outputs.get('rejects.jsonl')}"
        if self.rows_without_post:
            text += f"; {self.rows_without_post:,} without a post id (not in posts)"
        return text


def _reject(source: Source, line: int, reason: str, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, str):
        raw = json.dumps(raw, ensure_ascii=False, default=str)
    # Undecodable bytes and lone surrogates cannot be written as UTF-8: shown, not lost.
    return {"source": valid_unicode(source.name), "line": line,
            "reason": valid_unicode(reason), "raw": valid_unicode(clip(raw))}


#: Columns of a comment that are written out as they are read, and their roles' names.
_ID_ROLES = {"comment_id": "id", "post_id": "post", "parent_id": "parent", "author": "author"}


def _invalid_ids(columns: dict[str, list], source: Source) -> dict[int, str]:
    """Position and reason of each comment whose id, post id, parent id or author is not
    valid Unicode (it could not be written to the outputs)."""
    bad: dict[int, str] = {}
    for column, role in _ID_ROLES.items():
        values = columns[column]
        if is_encodable("".join(v for v in values if v is not None)):
            continue
        name = getattr(source.fields, role) if source.fmt == "flat" else None
        what = f"field {name!r}" if name else column.replace("_", " ")
        for k, value in enumerate(values):
            if value is not None and k not in bad and not is_encodable(value):
                bad[k] = f"{what}: invalid Unicode (undecodable bytes or a lone surrogate)"
    return bad


def _records(chunk: Chunk, rejects: list[dict]) -> tuple[list[int], list[Any], list[Any]]:
    """Line, record and raw item of every parseable record of a chunk, as three lists; the
    rest to ``rejects``."""
    source, lines, items = chunk.source, chunk.lines, chunk.items
    if set(map(type, items)) == {bytes}:  # JSONL lines: most chunks parse whole
        values = parse_lines(items)
        if BadLine not in set(map(type, values)):
            return lines, values, items
    else:
        parsed = iter(parse_lines([item for item in items if type(item) is bytes]))
        values = [next(parsed) if type(item) is bytes else item for item in items]
    keep = []
    for k, (line, item, value) in enumerate(zip(lines, items, values)):
        if type(value) is BadLine:
            rejects.append(_reject(source, line, value.reason, _text_of(item)))
        elif isinstance(value, Unreadable):
            rejects.append(_reject(source, line, value.reason, value.raw))
        else:
            keep.append(k)
    return [lines[k] for k in keep], [values[k] for k in keep], [items[k] for k in keep]


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
    columns, lines = _comment_columns(*_records(chunk, rejects), source, rejects)
    bad = _invalid_ids(columns, source)
    if bad:
        for k, reason in bad.items():
            rejects.append(_reject(source, lines[k], reason, _text_of(chunk.raw(lines[k]))))
        keep = [k for k in range(len(lines)) if k not in bad]
        columns = {name: [values[k] for k in keep] for name, values in columns.items()}
        lines = [lines[k] for k in keep]
    rejects.sort(key=lambda r: r["line"])  # parse and extraction rejects in file order
    ids = columns["comment_id"]
    given = np.fromiter((i is not None for i in ids), dtype=bool, count=len(ids))
    if not given.all():  # a synthetic id: file name, line and part of the record
        name = valid_unicode(source.label or source.path.name)
        for k in np.flatnonzero(~given):
            where = columns["where"][k]
            # "item 3: reply 1.2: " -> ":item3:reply1.2"
            ids[k] = f"{name}:{lines[k]}" + "".join(
                f":{step.replace(' ', '')}" for step in where.split(": ") if step)
    # Plain object columns: cheaper to build and to pickle than pandas' Arrow strings.
    frame = pd.DataFrame({name: pd.Series(values, dtype=object)
                          for name, values in columns.items()})
    frame["line"] = np.asarray(lines, dtype=np.int64)
    scored = score_frame(model, frame)
    scored["id_given"] = given
    # ``categorize=False``: the same hashes without factorising first (ids are mostly
    # distinct, so that step only cost time: 6 ms against 1.4 ms for 10,000 ids).
    scored["id_key"] = pd.util.hash_array(scored["comment_id"].to_numpy(dtype=object),
                                          categorize=False) \
        if len(scored) else np.zeros(0, np.uint64)
    scored["commenter_key"] = commenter_keys(scored["post_id"], scored["author"])
    return ChunkResult(source.name, scored[list(_RESULT_COLUMNS)],
                       PostTally.from_scored(scored), rejects, len(lines) + len(rejects),
                       chunk.blank, chunk.bytes_read)


def _comment_columns(lines: list[int], objects: list[Any], raws: list[Any], source: Source,
                     rejects: list[dict[str, Any]]) -> tuple[dict[str, list], list[int]]:
    """The :class:`Comment` fields of a chunk's records (with their lines and raw items) as
    columns, and each comment's line; records that give no comment go to ``rejects``."""
    plain = source.fmt in ("flat", "reddit") and (
        set(map(type, objects)) <= {dict} or all(isinstance(r, Mapping) for r in objects))
    found = None
    if plain and source.fmt == "flat":
        found = flat_columns(objects, source.fields, source.context)
    elif plain:  # Reddit dumps: one plain comment per line, read as columns too
        found = reddit_columns(objects, source.fields, source.context)
    if found is not None:
        columns, keep, problems = found
        # An API page or media document on a line (saved page after page) holds comments:
        # such chunks take the record-by-record path below, which unwraps them.
        if not any(document_items(objects[k]) is not None for k, _ in problems):
            for k, problem in problems:
                rejects.append(_reject(source, lines[k], problem, _text_of(raws[k])))
            return columns, lines if len(keep) == len(lines) else [lines[k] for k in keep]
    comments: list[Comment] = []
    kept: list[int] = []
    for line, record, raw in zip(lines, objects, raws):
        items = list(_documents(record, source.context))
        for n, (item, context) in enumerate(items, 1):
            # Several comments on one line (a page saved on one line): each is named by its
            # place, in reasons and in the synthetic id of one that has no id.
            at = f"item {n}: " if len(items) > 1 else ""
            for part in extract(item, source.fmt, source.fields, context):
                if isinstance(part, str):
                    rejects.append(_reject(source, line, at + part, _text_of(raw)))
                else:
                    comments.append(part._replace(where=at + part.where) if at else part)
                    kept.append(line)
    if not comments:
        return {name: [] for name in Comment._fields}, kept
    return dict(zip(Comment._fields, map(list, zip(*comments)))), kept


def _documents(record: Any, context: dict[str, Any]) -> Iterator[tuple[Any, dict[str, Any]]]:
    """The records inside an API page or document with what it says about them, one level
    further for a page of posts (``{"data": [post, ...]}`` saved on one line: each post
    holds its comments), as reading a whole document file does. In a file of Facebook posts
    a post without a comments edge holds no comment and gives nothing."""
    items, found = unwrap_document(record)
    posts = context.get("facebook_posts", False)
    if found:  # a post or media document: its items are comments
        context = {**context, **found}
        yield from ((item, context) for item in items)
        return
    for item in items:
        inner = document_items(item) if item is not record else None
        if inner is not None:
            merged = {**context, **inner[1]} if inner[1] else context
            yield from ((leaf, merged) for leaf in inner[0])
        elif not (posts and bare_post(item)):
            yield item, context


#: Posts whose counts are kept in memory (about 350 bytes each) before they are written out
#: as a sorted run; the posts table is then merged from the runs a block at a time.
MEMORY_POSTS = 1 << 17
_RUN_BLOCK = 2_048  # posts per block of a run: the unit read back when merging
_TABLE_POSTS = 16_384  # merged posts turned into one block of the posts table


class _PostAccumulator:
    """Per-post counts and unique commenters, summed over chunks in bounded memory.

    Counts live in memory for up to ``memory_posts`` posts. Past that they are sorted by post
    id and written as a run to an anonymous file in ``spill_dir``; :meth:`tables` merges the
    runs block by block, summing a post's partial counts (unique commenters are counted once
    per (post, author) pair by ``pairs`` whatever the run, so they add up too).
    """

    def __init__(self, spill_dir: str | os.PathLike | None = None,
                 memory_posts: int | None = None) -> None:
        self.memory_posts = MEMORY_POSTS if memory_posts is None else memory_posts
        self._spill_dir = spill_dir
        self._file: IO[bytes] | None = None
        self._runs: list[list[tuple[int, int]]] = []  # per run: (offset, size) of its blocks
        self.pairs = KeySet(spill_dir=spill_dir)
        self._reset()

    def _reset(self) -> None:
        self.index: dict[str, int] = {}
        self.counts = np.zeros((1024, len(TALLY_COLUMNS)), dtype=np.int64)
        self.unique = np.zeros(1024, dtype=np.int64)

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
        if len(index) > self.memory_posts:
            self._spill()

    def _sorted_memory(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = len(self.index)
        ids = np.array(list(self.index), dtype=object)
        order = np.argsort(ids, kind="stable")
        return ids[order], self.counts[:n][order], self.unique[:n][order]

    def _spill(self) -> None:
        if self._file is None:
            # Kept open across calls (closed by close() or garbage collection), as KeySet's.
            self._file = tempfile.TemporaryFile(dir=self._spill_dir)  # noqa: SIM115
        ids, counts, unique = self._sorted_memory()
        blocks = []
        for start in range(0, len(ids), _RUN_BLOCK):
            stop = start + _RUN_BLOCK
            data = pickle.dumps((ids[start:stop].tolist(), counts[start:stop],
                                 unique[start:stop]), protocol=pickle.HIGHEST_PROTOCOL)
            offset = self._file.seek(0, os.SEEK_END)
            self._file.write(data)
            blocks.append((offset, len(data)))
        self._runs.append(blocks)
        self._reset()

    def _run_blocks(self, blocks: list[tuple[int, int]]) -> Iterator[tuple]:
        assert self._file is not None
        for offset, size in blocks:
            self._file.seek(offset)
            ids, counts, unique = pickle.loads(self._file.read(size))  # our own file
            yield np.array(ids, dtype=object), counts, unique

    def tables(self) -> Iterator[pd.DataFrame]:
        """The posts table in blocks, sorted by post id (at least one, maybe empty)."""
        if not self._runs:
            yield self._table(*self._sorted_memory())
            return
        readers = [self._run_blocks(blocks) for blocks in self._runs]
        ids, counts, unique = self._sorted_memory()
        readers.append(iter([(ids, counts, unique)] if len(ids) else []))
        self._reset()
        heads = [next(r, None) for r in readers]
        done: list[pd.DataFrame] = []  # merged posts not yet turned into a table
        pending = 0
        while any(h is not None for h in heads):
            # Every post up to the smallest last id of the current blocks is complete.
            bound = min(h[0][-1] for h in heads if h is not None)
            parts = []
            for k, head in enumerate(heads):
                if head is None:
                    continue
                cut = int(np.searchsorted(head[0], bound, side="right"))
                parts.append(tuple(a[:cut] for a in head))
                if cut == len(head[0]):
                    heads[k] = next(readers[k], None)
                else:
                    heads[k] = tuple(a[cut:] for a in head)
            frame = pd.DataFrame(np.concatenate([p[1] for p in parts]),
                                 columns=list(TALLY_COLUMNS))
            frame["_unique"] = np.concatenate([p[2] for p in parts])
            frame.index = pd.Index(np.concatenate([p[0] for p in parts]), name="post_id",
                                   dtype=object)
            done.append(frame.groupby(level=0, sort=False).sum())
            pending += len(done[-1])
            if pending >= _TABLE_POSTS or all(h is None for h in heads):
                merged = pd.concat(done)  # disjoint post ids, each summed already
                done, pending = [], 0
                yield posts_table(merged[list(TALLY_COLUMNS)], merged["_unique"])

    @staticmethod
    def _table(ids: np.ndarray, counts: np.ndarray, unique: np.ndarray) -> pd.DataFrame:
        index = pd.Index(ids, name="post_id", dtype=object)
        frame = pd.DataFrame(counts, index=index, columns=list(TALLY_COLUMNS))
        return posts_table(frame, pd.Series(unique, index=index))

    def close(self) -> None:
        self.pairs.close()
        if self._file is not None:
            self._file.close()
            self._file = None


_WORKER_MODEL: CommentModel | None = None
_WORKER_CHUNKS = 0  # chunks this worker has scored
_WORKER_RELEASES = False  # whether it hands free heap pages back now and then


def _init_worker(model: CommentModel, mmap_threshold: int | None) -> None:
    global _WORKER_MODEL, _WORKER_RELEASES
    # Ctrl-C reaches the whole process group: the parent alone handles it (one line, and the
    # pool is terminated), so a worker never prints a KeyboardInterrupt traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER_MODEL = model
    if mmap_threshold is not None:
        _WORKER_RELEASES = fix_mmap_threshold(mmap_threshold)


def _work(chunk: Chunk) -> ChunkResult:
    global _WORKER_CHUNKS
    assert _WORKER_MODEL is not None
    result = score_chunk(chunk, _WORKER_MODEL)
    _WORKER_CHUNKS += 1
    if _WORKER_RELEASES and _WORKER_CHUNKS % RELEASE_CHUNKS == 0:
        release_free_pages()
    return result


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
    # The model's lookup tables are built here, once, for the workers to share. The objects
    # that exist now (the model's among them) move to the collector's permanent generation:
    # collections then never write to them, so the forked workers go on sharing their pages
    # with this process instead of each copying them as the run goes on.
    if method == "fork":
        model.prepare()
    gc.freeze()
    try:
        with ctx.Pool(jobs, initializer=_init_worker,
                      initargs=(model, worker_threshold)) as pool:
            releases = steady_heap and fix_mmap_threshold()  # workers are started: here only
            for n, chunk in enumerate(chunks, 1):
                pending.append((chunk, pool.apply_async(_work, (chunk,))))
                if len(pending) >= jobs * _IN_FLIGHT_PER_WORKER:
                    done, result = pending.pop(0)
                    yield done, result.get()
                if releases and n % RELEASE_CHUNKS == 0:
                    release_free_pages()
            while pending:
                done, result = pending.pop(0)
                yield done, result.get()
    finally:
        gc.unfreeze()


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
    (:mod:`commentqa.heap`) and gives pyarrow the system allocator
    (:func:`~commentqa.outputs.use_system_memory_pool`): process-wide settings, so the
    command line sets them, not the default. Raises
    :class:`~commentqa.io.InputError` for a missing or unreadable input, an unknown format
    or an unwritable output folder.
    """
    start = time.perf_counter()
    if out_format not in OUTPUT_FORMATS:
        raise InputError(f"unknown output format {out_format!r}; choose one of "
                         f"{', '.join(OUTPUT_FORMATS)}")
    sources = [open_source(p, fmt, fields) for p in expand_inputs(inputs, exclude=out_dir)]
    label_sources(sources)
    model = model if model is not None else load_model(model_path)
    folder = OutputFolder(out_dir)
    # More workers than cores only contend (and each holds a model): at most one a core.
    cores = os.cpu_count() or 1
    jobs = max(1, min(jobs, cores) if jobs is not None else cores)
    if steady_heap:
        use_system_memory_pool()
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
    for other in OUTPUT_FORMATS:  # an earlier run's tables in another format would mislead
        if other != out_format:
            for name in ("comments", "posts"):
                with contextlib.suppress(FileNotFoundError):
                    (Path(out_dir) / f"{name}.{other}").unlink()
    return summary


def _run(sources: list[Source], model: CommentModel, folder: OutputFolder, out_format: str,
         jobs: int, chunk_rows: int, summary: ScoreSummary,
         progress: Callable[[int, int], None] | None, steady_heap: bool) -> None:
    comments = TableWriter(folder.path(f"comments.{out_format}"), out_format, COMMENT_TYPES,
                           dictionary=("post_id", "parent_id", "label"))
    post_writer = TableWriter(folder.path(f"posts.{out_format}"), out_format)
    rejects_path = folder.path("rejects.jsonl")
    # Seen comment ids and (post, author) pairs: kept on disk past a few MB (see KeySet).
    ids = KeySet(spill_dir=folder.folder)
    posts = _PostAccumulator(spill_dir=folder.folder)
    bytes_read = 0

    def chunks() -> Iterator[Chunk]:
        for source in sources:
            yield from read_chunks(source, chunk_rows)

    try:
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
        posts.pairs.close()  # every pair is counted: the merge needs only the counts
        for table in posts.tables():
            post_writer.write(table)
            summary.posts += len(table)
        post_writer.close()
    finally:  # files close now, not at garbage collection, also when a run aborts
        comments.release()
        post_writer.release()
        ids.close()
        posts.close()
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
        "inputs": [{"path": valid_unicode(s.name), "container": s.container, "format": s.fmt,
                    "fields": {k: v for k, v in s.fields.roles().items() if v}
                    if s.fmt in FIELD_FORMATS else None} for s in sources],
        "python": sys.version.split()[0],
    }

