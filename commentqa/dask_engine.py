"""Score comments on Dask: a thin adapter over :mod:`commentqa.scoring`.

For dumps too big for one machine, or already in a Dask cluster's storage::

    import dask
    import dask.dataframe as dd
    from commentqa.dask_engine import score_comments, score_posts

    comments = dd.read_parquet("s3://bucket/comments/")      # text, post_id, author, ...
    scored = score_comments(comments)                         # + label, p_<label>, reject_reason
    posts = score_posts(scored)                               # one row per post, resonance
    dask.compute(scored.to_parquet("out/comments/", compute=False),   # one pass: each
                 posts.to_parquet("out/posts/", compute=False))       # row scored once

Each partition is scored by :func:`~commentqa.scoring.score_frame`; posts are tallied per
partition (:meth:`~commentqa.scoring.PostTally.from_scored`), the counts summed and the
(post, author) pairs de-duplicated with Dask's own groupby and shuffle, and the posts table is
computed from the merged counts by :func:`~commentqa.scoring.posts_table`: the same figures
as ``commentqa score`` on one machine, however the rows are partitioned.

Needs ``dask[dataframe]`` (``pip install "commentqa[dask]"``). Column names follow the batch
scorer's output: ``post_id``, and optionally ``author``, ``parent_id`` and ``is_creator``;
rename yours first. Duplicate comment ids are not dropped here (``drop_duplicates`` on your id
column does it).
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .batch import CHUNK_ROWS
from .formats import text_problem
from .labels import LABELS
from .model import CommentModel
from .persistence import ModelLoadError, load_model
from .scoring import PROBA_COLUMNS, TALLY_COLUMNS, PostTally, posts_table, score_frame

if TYPE_CHECKING:
    import dask.dataframe as dd

__all__ = ["REJECT_COLUMN", "post_counts", "score_comments", "score_posts"]

#: Column that says why a row was not scored (null for scored rows). The rules are
#: ``commentqa score``'s: a text that is null or not a string, holds NUL bytes or lone
#: surrogates or is over ``MAX_TEXT_CHARS`` is rejected; an empty string is a comment.
REJECT_COLUMN = "reject_reason"
_UNIQUE = "unique_commenters"
#: Rows scored at a time within a partition (the batch scorer's chunk size).
SLICE_ROWS = CHUNK_ROWS


def _require(frame_columns, needed: list[str], what: str) -> None:
    missing = [c for c in needed if c not in frame_columns]
    if missing:
        raise ValueError(f"{what} needs column(s) {', '.join(map(repr, missing))}; the frame "
                         f"has {', '.join(map(repr, frame_columns))}")


#: Models this process has received or loaded, by key: a task that brings a model already
#: here costs a few bytes (a reference) or the pickle's bytes, never another unpickling.
_RECEIVED: dict[str, CommentModel] = {}
_RECEIVED_MAX = 4


class _Shipped:
    """A model as the graph carries it: the model's pickle, or a reference to a model folder
    that each worker loads itself (verified against the client's SHA-256); either way each
    worker process unpickles it once."""

    def __init__(self, model: CommentModel, folder: str | None = None,
                 by_reference: bool = False) -> None:
        self.model = model
        self._folder = folder
        self._by_reference = by_reference
        self._payload: bytes | None = None

    def __reduce__(self):
        if self._by_reference:
            return _load_reference, (self._folder, self.model.meta["model_sha256"])
        if self._payload is None:
            self._payload = pickle.dumps(self.model, protocol=pickle.HIGHEST_PROTOCOL)
        return _receive, (hashlib.sha256(self._payload).hexdigest(), self._payload)


def _remember(key: str, model: CommentModel) -> None:
    if len(_RECEIVED) >= _RECEIVED_MAX:
        _RECEIVED.pop(next(iter(_RECEIVED)))
    _RECEIVED[key] = model


def _receive(key: str, payload: bytes) -> _Shipped:
    model = _RECEIVED.get(key)
    if model is None:
        model = pickle.loads(payload)  # bytes this process's own graph sent: our pickle
        _remember(key, model)
    return _Shipped(model)


def _load_reference(folder: str | None, sha: str) -> _Shipped:
    key = f"{folder}:{sha}"
    model = _RECEIVED.get(key)
    if model is None:
        model = load_model(folder)  # checks the file against its meta.json
        if model.meta.get("model_sha256") != sha:
            where = folder or "the shipped model"
            raise ModelLoadError(
                f"{where} on this worker has SHA-256 {model.meta.get('model_sha256', '?')[:16]}"
                f"..., the client's {sha[:16]}...: install the same commentqa (or model) on "
                "every worker, or pass the loaded model to ship it with the graph")
        _remember(key, model)
    return _Shipped(model, folder, by_reference=True)


def _problems(texts: pd.Series, text_column: str) -> list[str | None]:
    """Why each text cannot be scored (None where it can): the batch scorer's rules."""
    return [text_problem(None if t is pd.NA or (isinstance(t, float) and t != t) else t,
                         True, text_column) for t in texts.tolist()]


def _score_partition(part: pd.DataFrame, shipped: _Shipped, text_column: str) -> pd.DataFrame:
    model = shipped.model
    problems = _problems(part[text_column], text_column)
    ok = np.fromiter((p is None for p in problems), dtype=bool, count=len(problems))
    texts = part[[text_column]][ok]
    # In slices, as the batch scorer's chunks: a worker's memory does not grow with the
    # partition size the user picked.
    scored = pd.concat([score_frame(model, texts.iloc[i:i + SLICE_ROWS], text_column)
                        for i in range(0, max(len(texts), 1), SLICE_ROWS)])
    out = part.copy()
    codes = np.full(len(part), -1, dtype=np.int8)
    codes[ok] = scored["label"].cat.codes.to_numpy()
    out["label"] = pd.Categorical.from_codes(codes, categories=list(LABELS))
    for column in PROBA_COLUMNS:
        values = np.full(len(part), np.nan)
        values[ok] = scored[column].to_numpy()
        out[column] = values
    out[REJECT_COLUMN] = pd.array(problems, dtype="string")
    return out


def score_comments(comments: dd.DataFrame,
                   model: CommentModel | str | os.PathLike | None = None, *,
                   text_column: str = "text") -> dd.DataFrame:
    """``comments`` with ``label``, one ``p_<label>`` column per class and
    :data:`REJECT_COLUMN` added; lazy, like every Dask frame.

    ``model``: None for the shipped model, or a model folder's path, which every worker loads
    itself (a path they all see, such as shared storage); the graph carries only the path and
    the model's SHA-256, checked on each worker. A loaded :class:`CommentModel` travels inside
    the graph instead (about 26 MB for the shipped model, once per worker). The model is
    loaded and verified here first, so a bad path fails now, not on the cluster. Rows that
    cannot be scored keep a null label and say why in :data:`REJECT_COLUMN`: every input row
    is in the output.
    """
    import dask

    _require(comments.columns, [text_column], "score_comments")
    if isinstance(model, CommentModel):
        shipped = _Shipped(model)
    else:
        folder = None if model is None else str(Path(model).resolve())
        shipped = _Shipped(load_model(folder), folder, by_reference=True)
    model = shipped.model
    meta = comments._meta.copy()
    meta["label"] = pd.Categorical([], categories=list(LABELS))
    for column in PROBA_COLUMNS:
        meta[column] = pd.Series(dtype="float64")
    meta[REJECT_COLUMN] = pd.Series(dtype="string")
    sha = model.meta.get("model_sha256") or "unversioned"
    shared = dask.delayed(shipped, name=f"commentqa-model-{sha[:16]}-{id(model):x}",
                          traverse=False)
    return comments.map_partitions(_score_partition, shared, text_column, meta=meta)


def _scored_rows(part: pd.DataFrame) -> pd.DataFrame:
    return part[part[REJECT_COLUMN].isna()] if REJECT_COLUMN in part else part


_PAIR = "_pair"  # True on a (post, commenter) row, False on a post's counts


def _partition_tally(part: pd.DataFrame) -> pd.DataFrame:
    """One partition's tally as one frame, so that it is computed once: a row of counts per
    post, then a row per (post, commenter) pair (counts 0 there)."""
    tally = PostTally.from_scored(_scored_rows(part))
    counts = tally.counts.reset_index()
    counts["key"], counts[_PAIR] = np.uint64(0), False
    pairs = tally.commenters.assign(**{c: np.int64(0) for c in TALLY_COLUMNS}, **{_PAIR: True})
    return pd.concat([counts, pairs[counts.columns]], ignore_index=True)


def post_counts(scored: dd.DataFrame, *, split_out: int | None = None) -> dd.DataFrame:
    """Per-post sums of :data:`~commentqa.scoring.TALLY_COLUMNS` and unique commenters,
    indexed by ``post_id``: the mergeable tally behind :func:`score_posts`."""
    _require(scored.columns, ["post_id", "label"], "post_counts")
    split_out = split_out or max(1, scored.npartitions // 16)
    meta = pd.DataFrame({"post_id": pd.Series(dtype=object),
                         **{c: pd.Series(dtype=np.int64) for c in TALLY_COLUMNS},
                         "key": pd.Series(dtype=np.uint64), _PAIR: pd.Series(dtype=bool)})
    tallies = scored.map_partitions(_partition_tally, meta=meta)
    counts = (tallies[~tallies[_PAIR]][["post_id", *TALLY_COLUMNS]]
              .groupby("post_id").sum(split_out=split_out))
    unique = (tallies[tallies[_PAIR]][["post_id", "key"]]
              .drop_duplicates(split_out=split_out)
              .groupby("post_id").size(split_out=split_out).rename(_UNIQUE))
    return counts.join(unique.to_frame(), how="left")


def _posts_partition(part: pd.DataFrame) -> pd.DataFrame:
    unique = part[_UNIQUE].fillna(0).astype(np.int64)
    table = posts_table(part[list(TALLY_COLUMNS)], unique)
    table["post_id"] = table["post_id"].astype("string")  # typed, for Parquet and Arrow
    return table


def score_posts(scored: dd.DataFrame, *, split_out: int | None = None) -> dd.DataFrame:
    """One row per post (``post_id`` and :data:`~commentqa.scoring.POST_COLUMNS`), from
    the output of :func:`score_comments`; rows without a post id are not counted.

    Rows are sorted by ``post_id`` within each partition, not across partitions.
    """
    counts = post_counts(scored, split_out=split_out)
    return counts.map_partitions(_posts_partition, meta=_posts_partition(counts._meta))
