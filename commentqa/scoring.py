"""The engine-agnostic scoring core: pandas in, pandas out.

- :func:`score_frame` labels the comments of a frame.
- :meth:`PostTally.from_scored` tallies scored comments per post; tallies of chunks,
  processes or machines merge exactly with :func:`merge_tallies` (counts are summed,
  commenter keys are united).
- :meth:`PostTally.posts` turns a (merged) tally into the posts table, with the
  resonance figures of :mod:`commentqa.resonance` computed from the merged counts.

The batch command (:mod:`commentqa.batch`) and any other engine (Dask, Spark) apply the
same functions per partition.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .formats import as_flag
from .labels import LABELS
from .model import CommentModel
from .resonance import post_scores

__all__ = [
    "COMMENT_COLUMNS",
    "COMMENT_TYPES",
    "POST_COLUMNS",
    "PROBA_COLUMNS",
    "TALLY_COLUMNS",
    "PostTally",
    "commenter_keys",
    "label_codes",
    "merge_tallies",
    "posts_table",
    "score_frame",
]

#: One probability column per label, in :data:`~commentqa.labels.LABELS` order.
PROBA_COLUMNS: tuple[str, ...] = tuple(f"p_{label}" for label in LABELS)
#: Columns of the per-comment output and their types (``is_creator`` is empty when the
#: export does not say who the creator is).
COMMENT_TYPES: dict[str, str] = {
    "comment_id": "string", "post_id": "string", "parent_id": "string", "is_creator": "bool",
    "label": "string", **dict.fromkeys(PROBA_COLUMNS, "float64"),
}
COMMENT_COLUMNS: tuple[str, ...] = tuple(COMMENT_TYPES)
#: Per-post counts; every one is a sum over comments, so tallies merge by addition.
#: Label columns count the audience's comments (the creator's own are ``creator_comments``).
TALLY_COLUMNS: tuple[str, ...] = (
    "comments",          # every scored comment of the post, the creator's included
    *LABELS,             # audience comments per label
    "creator_comments",  # comments written by the post's creator
    "top_level",         # audience comments that are not replies
    "replies",           # replies, whoever wrote them
    "creator_replies",   # replies written by the creator
    "with_author",       # audience comments whose author is known
)
#: Decimals kept in probabilities and post scores: far below any meaningful difference.
SCORE_DECIMALS = 6
#: Columns of the posts output, after ``post_id``.
POST_COLUMNS: tuple[str, ...] = (
    *TALLY_COLUMNS[:-1],
    "unique_commenters",
    "resonance",
    "resonance_low",
    "resonance_high",
    "question_share",
    "conversation_share",
    "spam_share",
    "reply_depth",
    "creator_reply_rate",
)


def score_frame(model: CommentModel, frame: pd.DataFrame, text_column: str = "text",
                decimals: int | None = SCORE_DECIMALS) -> pd.DataFrame:
    """A copy of ``frame`` with ``label`` and one ``p_<label>`` column per class."""
    texts = frame[text_column].tolist()
    proba = model.predict_proba(texts) if texts else np.zeros((0, len(LABELS)))
    if decimals is not None:
        proba = np.round(proba, decimals)
    out = frame.copy()
    out["label"] = pd.Categorical.from_codes(proba.argmax(axis=1), categories=list(LABELS))
    for j, column in enumerate(PROBA_COLUMNS):
        out[column] = proba[:, j]
    return out


def commenter_keys(post_ids: pd.Series, authors: pd.Series) -> np.ndarray:
    """Deterministic 64-bit keys of (post, author) pairs; 0 where the author is unknown."""
    known = authors.notna().to_numpy() & post_ids.notna().to_numpy()
    keys = np.zeros(len(authors), dtype=np.uint64)
    if known.any():
        pairs = [f"{p}\x1f{a}" for p, a in zip(post_ids.to_numpy(dtype=object)[known],
                                                authors.to_numpy(dtype=object)[known])]
        # Pairs are mostly distinct: hashing them directly beats factorising them first.
        keys[known] = pd.util.hash_array(np.asarray(pairs, dtype=object), categorize=False)
        keys[known & (keys == 0)] = 1  # 0 is reserved for "no author"
    return keys


def label_codes(labels: pd.Series) -> np.ndarray:
    """Label positions in :data:`LABELS` (categorical codes when the order matches)."""
    if isinstance(labels.dtype, pd.CategoricalDtype) and list(labels.cat.categories) == list(
        LABELS
    ):
        return labels.cat.codes.to_numpy()
    return pd.Categorical(labels.astype(object), categories=list(LABELS)).codes


def _flags(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A yes/no column as booleans (missing: no). Text such as ``"false"`` is read as the
    batch scorer reads it, not as a non-empty string: Dask turns object columns into
    strings, and CSV readers give text."""
    if column not in frame:
        return np.zeros(len(frame), dtype=bool)
    values = frame[column]
    if values.dtype == bool:
        return values.to_numpy()
    items = values.tolist()
    if set(map(type, items)) <= {bool, type(None)}:
        return np.fromiter((v is True for v in items), dtype=bool, count=len(items))
    return np.fromiter((as_flag(v) is True for v in items), dtype=bool, count=len(items))


def _replies(parents: np.ndarray, posts: np.ndarray) -> np.ndarray:
    """Which comments are replies: those with a parent id other than their post's own id
    (Reddit and Facebook exports give a top-level comment the post as its parent)."""
    reply = pd.notna(parents)
    if reply.any():
        reply[reply] = parents[reply] != posts[reply]
    return reply


@dataclass
class PostTally:
    """Per-post counts (index ``post_id``, :data:`TALLY_COLUMNS`) and commenter keys."""

    counts: pd.DataFrame
    commenters: pd.DataFrame  # columns post_id, key: one row per (post, audience author)

    @classmethod
    def from_scored(cls, scored: pd.DataFrame) -> PostTally:
        """Tally a scored frame with ``post_id``, ``label`` and optionally ``parent_id``,
        ``is_creator`` and ``author`` (or its :func:`commenter_keys`, ``commenter_key``)
        columns. Rows without a post id are not tallied."""
        frame = scored[scored["post_id"].notna()]
        post_ids = frame["post_id"].to_numpy(dtype=object)
        codes, posts = pd.factorize(post_ids)
        creator = _flags(frame, "is_creator")
        reply = (_replies(frame["parent_id"].to_numpy(dtype=object), post_ids)
                 if "parent_id" in frame else np.zeros(len(frame), dtype=bool))
        audience = ~creator
        if "commenter_key" in frame:
            keys = frame["commenter_key"].to_numpy(dtype=np.uint64)
        else:
            author = (frame["author"] if "author" in frame
                      else pd.Series(None, index=frame.index, dtype=object))
            keys = commenter_keys(pd.Series(post_ids, dtype=object),
                                  author.reset_index(drop=True))
        label = label_codes(frame["label"])

        def count(mask: np.ndarray | None = None) -> np.ndarray:
            picked = codes if mask is None else codes[mask]
            return np.bincount(picked, minlength=len(posts)).astype(np.int64)

        columns = {"comments": count()}
        for j, name in enumerate(LABELS):
            columns[name] = count((label == j) & audience)
        columns["creator_comments"] = count(creator)
        columns["top_level"] = count(~reply & audience)
        columns["replies"] = count(reply)
        columns["creator_replies"] = count(reply & creator)
        columns["with_author"] = count((keys != 0) & audience)
        counts = pd.DataFrame(columns, index=pd.Index(posts, name="post_id", dtype=object))
        take = np.flatnonzero((keys != 0) & audience)
        take = take[_first_of_each(keys[take])]
        commenters = pd.DataFrame({"post_id": pd.Series(post_ids[take], dtype=object),
                                   "key": keys[take]})
        return cls(counts, commenters)

    def posts(self) -> pd.DataFrame:
        """The posts table: counts, unique commenters and resonance figures."""
        unique = self.commenters.groupby("post_id", sort=False).size()
        return posts_table(self.counts, unique)


def merge_tallies(tallies: Iterable[PostTally]) -> PostTally:
    """Combine tallies of disjoint sets of comments into the tally of their union."""
    tallies = list(tallies)
    if not tallies:
        empty = pd.DataFrame({c: pd.Series(dtype=np.int64) for c in TALLY_COLUMNS})
        empty.index.name = "post_id"
        return PostTally(empty, pd.DataFrame({"post_id": [], "key": np.zeros(0, np.uint64)}))
    counts = pd.concat([t.counts for t in tallies]).groupby(level=0, sort=False).sum()
    commenters = pd.concat([t.commenters for t in tallies], ignore_index=True)
    keep = _first_of_each(commenters["key"].to_numpy(dtype=np.uint64))
    return PostTally(counts, commenters.iloc[keep].reset_index(drop=True))


def _first_of_each(keys: np.ndarray) -> np.ndarray:
    """Positions of the first occurrence of each distinct key, in order. A commenter key
    stands for its (post, author) pair, so this drops repeated pairs (``drop_duplicates``
    on both columns, without hashing the post ids again)."""
    return np.sort(np.unique(keys, return_index=True)[1])


def posts_table(counts: pd.DataFrame, unique_commenters: pd.Series) -> pd.DataFrame:
    """Posts output from merged counts; ``unique_commenters`` is indexed by post id.

    Rows are sorted by ``post_id`` so that every engine yields the same table.
    """
    counts = counts.sort_index()
    table = counts[list(TALLY_COLUMNS[:-1])].astype(np.int64)
    unique = unique_commenters.reindex(counts.index).fillna(0).astype(np.int64)
    # Unknown, not zero, when no audience comment of the post named its author.
    table["unique_commenters"] = unique.where(counts["with_author"] > 0).astype("Int64")
    table = pd.concat([table, post_scores(counts).round(SCORE_DECIMALS)], axis=1)
    table.index.name = "post_id"
    return table.reset_index()[["post_id", *POST_COLUMNS]]
