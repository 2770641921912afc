"""Platform export formats: which fields hold a comment's text, id, post, parent and author.

Five record formats are understood, detected from the records themselves:

- ``instagram``: Instagram Graph API comment objects (``id``, ``text``, ``timestamp``,
  ``username``, ``like_count``, ``from``, ``parent_id``, ``media.id``, nested
  ``replies.data``), bare, in a ``{"data": [...]}`` page, or inside a media object
  (``{"id", "username", "comments": {"data": [...]}}``) that gives the post id and the
  creator's username.
- ``youtube``: YouTube Data API ``commentThreads`` (``snippet.topLevelComment.snippet``
  with ``textOriginal`` / ``textDisplay``, ``replies.comments``), bare or in a
  ``{"items": [...]}`` list response. A comment by the video's channel is the creator's.
- ``facebook``: Facebook Graph API comment objects (``id``, ``message``, ``created_time``,
  ``from``, ``parent.id``, nested replies in ``comments.data``), bare, in a ``{"data": [...]}``
  page, or inside a post object (``{"id", "from", "comments": {"data": [...]}}``) that gives
  the post id and the creator (the post's ``from.id``).
- ``reddit``: Reddit comments as the API, PRAW and Pushshift-style dumps write them
  (``id``, ``body``, ``author``, ``link_id``, ``parent_id`` with its ``t1_`` / ``t3_`` prefix,
  ``is_submitter``), bare, as ``t1`` things, or in a thread's ``Listing`` with nested
  ``replies``.
- ``flat``: one comment per record, as CSV/Parquet exports and TikTok/Instagram scrapers
  write them; each field is found under its common names (:data:`FLAT_ALIASES`) or named
  by the user (``--text-field`` ...). Dotted names reach into nested objects.

:func:`extract` turns one record into :class:`Comment` objects (a thread gives several)
or the reason it cannot be used.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

__all__ = [
    "FLAT_ALIASES",
    "FORMATS",
    "MAX_TEXT_CHARS",
    "Comment",
    "FieldMap",
    "as_flag",
    "bare_post",
    "detect_format",
    "document_items",
    "extract",
    "facebook_posts",
    "flat_columns",
    "has_field",
    "is_encodable",
    "json_type",
    "leaf_records",
    "reddit_columns",
    "resolve_fields",
    "unwrap_document",
]

FORMATS: tuple[str, ...] = ("flat", "instagram", "youtube", "facebook", "reddit")
#: Longer texts are rejected: platforms cap comments at about 10,000 characters, so a
#: bigger field is a broken export, and it would cost the scorer for nothing.
MAX_TEXT_CHARS = 100_000

#: Field names tried, in order, for each role of a flat record.
FLAT_ALIASES: dict[str, tuple[str, ...]] = {
    "text": ("text", "comment", "comment_text", "commentText", "body", "message", "content",
             "textOriginal", "textDisplay"),
    "id": ("comment_id", "commentId", "cid", "id"),
    "post": ("post_id", "postId", "media_id", "video_id", "videoId", "aweme_id", "link_id",
             "post_url", "postUrl", "videoWebUrl", "video_url", "facebookUrl", "inputUrl",
             "source_url", "url"),
    "parent": ("parent_id", "parentId", "parent_comment_id", "repliesToId", "reply_to",
               "in_reply_to"),
    "author": ("author", "username", "ownerUsername", "uniqueId", "author_username",
               "authorDisplayName", "profileName", "user", "user_name"),
    "creator": ("is_creator", "isCreator", "author_is_creator", "by_creator", "is_owner",
                "isAuthor", "is_submitter"),
    # The post's creator: a comment whose author is this is the creator's own.
    "owner": ("post_owner", "postOwner", "videoAuthor", "post_author", "creator_username",
              "owner_username"),
}

_TRUE = frozenset({"true", "1", "yes", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "f", ""})
_TAG = re.compile(r"<(?!br\b)[^>]{0,500}>", re.I)  # textDisplay markup; <br> is handled later


class Comment(NamedTuple):
    """One comment, ready to score. ``where`` says which part of the record it came from."""

    comment_id: str | None
    post_id: str | None
    parent_id: str | None
    author: str | None
    is_creator: bool | None
    text: str
    where: str = ""


@dataclass(frozen=True)
class FieldMap:
    """Field names of a flat record; ``None`` means the role is absent."""

    text: str | None = None
    id: str | None = None
    post: str | None = None
    parent: str | None = None
    author: str | None = None
    creator: str | None = None
    owner: str | None = None

    def roles(self) -> dict[str, str | None]:
        return {r: getattr(self, r) for r in FLAT_ALIASES}


def _lookup(record: Mapping[str, Any], name: str) -> tuple[bool, Any]:
    if name in record:
        return True, record[name]
    node: Any = record
    for part in name.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def has_field(record: Mapping[str, Any], name: str) -> bool:
    """Whether ``record`` has the field ``name`` (a dotted name reaches into nested objects)."""
    return _lookup(record, name)[0]


def resolve_fields(sample: Iterable[Mapping[str, Any]], given: FieldMap) -> FieldMap:
    """Fill the roles ``given`` leaves open from :data:`FLAT_ALIASES`, using sample records."""
    keys: dict[str, None] = {}
    for record in sample:
        if isinstance(record, Mapping):
            keys.update(dict.fromkeys(record))
    chosen = given.roles()
    for role, aliases in FLAT_ALIASES.items():
        if chosen[role] is None:
            chosen[role] = next((a for a in aliases if a in keys and a not in chosen.values()),
                                None)
    return FieldMap(**chosen)


def detect_format(sample: Iterable[Any]) -> str:
    """A format of :data:`FORMATS` from the first object records of a file: the first of
    their comments (inside pages and documents, two levels deep) that looks like a platform's,
    else ``flat``."""
    seen = 0
    for record in sample:
        if _is_reddit_thing(record) or (isinstance(record, list) and record
                                        and all(_is_reddit_thing(x) for x in record)):
            return "reddit"  # a Listing, thread or thing, even one holding no comment
        for item in leaf_records(record):
            if not isinstance(item, Mapping):
                continue
            fmt = _record_format(item)
            if fmt != "flat":
                return fmt
            seen += 1
            if seen >= _DETECT_ITEMS:
                return "flat"
    return "flat"


#: Comments looked at to detect a file's format.
_DETECT_ITEMS = 20


def leaf_records(record: Any) -> list:
    """The records inside a page or document, and inside the documents a page holds (a
    page of posts holds posts that hold comments); ``[record]`` for a plain record."""
    return [leaf for item in unwrap_document(record)[0] for leaf in unwrap_document(item)[0]]


def _is_reddit_thing(value: Any) -> bool:
    return (isinstance(value, Mapping) and isinstance(value.get("data"), Mapping)
            and value.get("kind") in ("Listing", "t1", *_REDDIT_NOT_COMMENTS))


def _record_format(record: Mapping[str, Any]) -> str:
    kind = str(record.get("kind", ""))
    if kind.startswith("youtube#") or "topLevelComment" in (record.get("snippet") or {}):
        return "youtube"
    if _is_reddit(record):
        return "reddit"
    if _is_facebook(record):
        return "facebook"
    replies = record.get("replies")
    if (isinstance(replies, Mapping) and "data" in replies) or (
        "like_count" in record and "username" in record and "text" in record
    ) or isinstance(record.get("from"), Mapping):
        return "instagram"
    return "flat"


def _is_reddit(record: Mapping[str, Any]) -> bool:
    """A Reddit comment: a ``body`` beside a field only Reddit writes."""
    if "body" not in record or "text" in record:
        return False
    parent = record.get("parent_id")
    return ("link_id" in record or "subreddit" in record or "is_submitter" in record
            or (type(parent) is str and parent.startswith(("t1_", "t3_"))))


def _is_facebook(record: Mapping[str, Any]) -> bool:
    """A Facebook comment: a ``message`` (or a photo alone) and a Graph API field beside it.
    Instagram's ``from`` names a ``username``, Facebook's a ``name``."""
    if "text" in record:
        return False
    who = record.get("from")
    if isinstance(who, Mapping) and "username" not in who:
        return "message" in record or "attachment" in record or "name" in who
    if "attachment" in record and "created_time" in record:
        return True  # a photo or sticker alone
    return "message" in record and ("created_time" in record or isinstance(who, Mapping)
                                    or isinstance(record.get("comments"), Mapping))


#: Fields a Facebook comment object has and a post object has not (Graph API ``Comment``):
#: a record holding ``comments.data`` with one of them is a comment with its replies.
_FACEBOOK_COMMENT_FIELDS = frozenset({
    "parent", "like_count", "comment_count", "attachment", "user_likes", "can_like",
    "can_remove", "object",
})
#: Fields only a Facebook post has (``Post`` / ``PagePost``); nested ones are objects there.
_FACEBOOK_POST_FIELDS = frozenset({"story", "full_picture", "status_type", "is_published"})
_FACEBOOK_POST_OBJECTS = frozenset({"attachments", "shares", "privacy"})
#: Reddit things that are not comments: a thread's post (``t3``) and the stub of replies the
#: export did not load (``more``). A listing's other children are comments or rejects.
_REDDIT_NOT_COMMENTS = frozenset({"t3", "more"})
#: What Reddit leaves in ``body`` (and ``author``) of a deleted or removed comment.
_REDDIT_GONE = frozenset({"[deleted]", "[removed]", "[ Removed by Reddit ]"})


def _is_listing(value: Any) -> bool:
    return (isinstance(value, Mapping) and value.get("kind") == "Listing"
            and isinstance(value.get("data"), Mapping)
            and isinstance(value["data"].get("children"), list))


def _listing_items(listing: Mapping[str, Any]) -> list | None:
    """The comments of a Reddit ``Listing`` (a ``t1`` thing's ``data``), or None when
    ``listing`` is not one."""
    return _things(listing["data"]["children"]) if _is_listing(listing) else None


def _things(children: list) -> list:
    """Reddit things as comments: a ``t1``'s ``data``; ``t3`` and ``more`` left out; anything
    else as it is (a plain comment object, or a reject to be)."""
    items = []
    for child in children:
        kind = child.get("kind") if isinstance(child, Mapping) else None
        if kind in _REDDIT_NOT_COMMENTS:
            continue
        items.append(child["data"] if kind == "t1" and isinstance(child.get("data"), Mapping)
                     else child)
    return items


def _facebook_like(record: Mapping[str, Any]) -> bool:
    """A Facebook object (post or comment), as opposed to an Instagram media object."""
    who = record.get("from")
    return ("message" in record or "attachment" in record or "created_time" in record
            or (isinstance(who, Mapping) and "username" not in who))


def _facebook_post(record: Mapping[str, Any], comments: list | None) -> bool:
    """Whether a Facebook-looking ``record`` (holding ``comments``, or None) is a post rather
    than a comment; the two share their fields. In turn: a field only one of them has; the
    depth (a comment's replies hold no replies); a post always has an id, and a comment may
    name its post; a page's post id is ``{page-id}_{post-id}`` with the page as ``from``; a
    post ``A_B`` holds comments ``B_...`` where a comment ``B_C`` holds replies ``B_...``; a
    record with no text is a post fetched for its comments. Otherwise a comment, so that no
    comment is dropped for want of a sign."""
    if _post_fields(record):
        return True
    if comments is None or _FACEBOOK_COMMENT_FIELDS.intersection(record):
        return False
    if any(_holds_replies(c) for c in comments):
        return True
    if record.get("id") is None or any(a in record for a in FLAT_ALIASES["post"]):
        return False
    if _page_post_id(record):
        return True
    first, _, second = str(record["id"]).partition("_")
    kids = [str(c["id"]) for c in comments if isinstance(c, Mapping) and c.get("id")]
    if second and kids:
        # Graph object ids are long numbers: a short part is no sign of a post.
        if len(second) >= _GRAPH_ID_DIGITS and all(k.startswith(f"{second}_") for k in kids):
            return True
        if all(k.startswith(f"{first}_") for k in kids):
            return False
    return "message" not in record and "attachment" not in record


#: Digits a Graph API object id part has at the least (real ones have 15 or more).
_GRAPH_ID_DIGITS = 6


def _holds_replies(comment: Any) -> bool:
    """Whether an entry of a ``comments`` edge holds replies itself (then it is a comment
    and the record holding it a post: Facebook threads are two deep)."""
    edge = comment.get("comments") if isinstance(comment, Mapping) else None
    data = edge.get("data") if isinstance(edge, Mapping) else None
    return isinstance(data, list) and bool(data)


def _surely_post(record: Mapping[str, Any]) -> bool:
    """A Facebook post by a sign no comment can give: a post-only field, entries holding
    replies, or the ``{page-id}_{post-id}`` id beside the page's ``from.id``."""
    edge = record.get("comments")
    data = edge.get("data") if isinstance(edge, Mapping) else None
    return (_post_fields(record) or _page_post_id(record)
            or (isinstance(data, list) and any(_holds_replies(c) for c in data)))


def _post_fields(record: Mapping[str, Any]) -> bool:
    """Whether a Facebook record has a field only posts have."""
    return bool(_FACEBOOK_POST_FIELDS.intersection(record)) or any(
        isinstance(record.get(name), Mapping) for name in _FACEBOOK_POST_OBJECTS)


def _page_post_id(record: Mapping[str, Any]) -> bool:
    """Whether the id is ``{page-id}_{post-id}`` beside the page's ``from.id``."""
    first, _, second = str(record.get("id") or "").partition("_")
    who = record.get("from")
    return bool(second) and isinstance(who, Mapping) and str(who.get("id")) == first


def bare_post(record: Any) -> bool:
    """A Facebook object with no comments edge: in a file of posts, a post nobody
    commented on (the Graph API leaves the edge out)."""
    return (isinstance(record, Mapping) and "text" not in record and _facebook_like(record)
            and not isinstance(record.get("comments"), Mapping))


def facebook_posts(sample: Iterable[Any]) -> bool:
    """Whether a file's top-level Facebook objects (or its pages' items) are posts: one of
    them is surely a post (:func:`_surely_post`: a weaker sign could make a file of comments
    drop its comments), and none has a field only comments have."""
    tops = [item for record in sample
            for item in (unwrap_document(record)[0]
                         if isinstance(record, Mapping) and "data" in record else [record])
            if isinstance(item, Mapping)]
    if any(_FACEBOOK_COMMENT_FIELDS.intersection(item) for item in tops):
        return False
    return any(_facebook_like(item) and _surely_post(item) for item in tops)


def _document_items(record: Mapping[str, Any]) -> tuple[list, dict[str, Any]] | None:
    """Items and context of a page/document record, or None for a plain record."""
    if isinstance(record.get("items"), list) and str(record.get("kind", "")).startswith(
        "youtube#"
    ):
        return record["items"], {}
    listing = _listing_items(record)
    if listing is not None:
        return listing, {}
    kind = record.get("kind")
    if isinstance(record.get("data"), Mapping) and kind in ("t1", *_REDDIT_NOT_COMMENTS):
        return ([record["data"]] if kind == "t1" else []), {}  # a thing saved on its own
    comments = record.get("comments")
    data = comments.get("data") if isinstance(comments, Mapping) else None
    if isinstance(data, list) and "text" not in record and not (
            _facebook_like(record) and not _facebook_post(record, data)):
        return data, {"post_id": _as_id(record.get("id")), "owner": _owner(record)}
    if (data is None and "text" not in record and isinstance(record.get("from"), Mapping)
            and _facebook_post(record, None)):
        return [], {}  # a Facebook post nobody commented on: the edge is left out
    if isinstance(record.get("data"), list) and "text" not in record:
        return record["data"], {}
    return None


def _owner(post: Mapping[str, Any]) -> str | None:
    """Who made a media or post object: its Instagram ``username`` (or ``owner.username``),
    or its Facebook ``from.id``."""
    owner, author = post.get("owner"), post.get("from")
    name = post.get("username") or (owner.get("username") if isinstance(owner, Mapping)
                                     else None)
    if not name and isinstance(author, Mapping):
        name = author.get("id") or author.get("name")
    return _as_id(name)


def document_items(record: Any) -> tuple[list, dict[str, Any]] | None:
    """The records inside ``record`` and what it says about them, if it is an API page or
    media document (or a Reddit thread: an array of listings); None for anything else."""
    if isinstance(record, list):
        if record and all(_is_listing(x) for x in record):
            return [item for x in record for item in _listing_items(x)], {}
        return None
    return _document_items(record) if isinstance(record, Mapping) else None


def unwrap_document(record: Any) -> tuple[list, dict[str, Any]]:
    """The records inside an API page or media document, and what it says about them
    (``post_id``, ``owner``). A plain record is returned as a list of one."""
    return document_items(record) or ([record], {})


def _as_id(value: Any) -> str | None:
    if type(value) is str:
        return value or None
    if value is None or isinstance(value, (dict, list)) or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"  # as JSON spells it
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None  # NaN (pandas' missing value) or infinity: no id
        if value.is_integer():
            value = int(value)
    return str(value)


def as_flag(value: Any) -> bool | None:
    """A yes/no field as exports write it (``True``, ``1``, ``"true"``, ``"yes"``, ``"f"``,
    ``"0"``...); None when it says neither."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0 if value == value else None
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return None if text == "" else False
    return None


def text_problem(value: Any, found: bool, field: str) -> str | None:
    """Why ``value`` cannot be scored as a comment text, or None when it can."""
    if not found:
        return f"field {field!r}: missing"
    if value is None:
        return f"field {field!r}: null"
    if not isinstance(value, str):
        return f"field {field!r}: expected a string, got {type(value).__name__}"
    if "\x00" in value:
        return f"field {field!r}: contains NUL bytes"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return f"field {field!r}: invalid Unicode (undecodable bytes or a lone surrogate)"
    if len(value) > MAX_TEXT_CHARS:
        return (f"field {field!r}: {len(value):,} characters, over the "
                f"{MAX_TEXT_CHARS:,} limit for one comment")
    return None


Extracted = list  # of Comment, or str: the reason a part was rejected


_MISSING = object()


@lru_cache(maxsize=256)  # a file's FieldMap is fixed: once per role, not once per record
def _late_names(role: str, fields: FieldMap) -> tuple[str, ...]:
    """Aliases of a ``role`` the file-level field map left open (none of the sampled
    records had one), minus the names other roles use: looked for in every record."""
    if getattr(fields, role) is not None or role == "text":
        return ()
    taken = set(fields.roles().values())
    return tuple(a for a in FLAT_ALIASES[role] if a not in taken)


def _get(record: Mapping[str, Any], name: str | None, role: str | None = None,
         fields: FieldMap | None = None) -> Any:
    if name is None:
        # A role absent from the sampled records may appear later (exports omit null
        # keys: replies' parent ids come after the top-level comments).
        if role is not None and fields is not None:
            for alias in _late_names(role, fields):
                if alias in record:
                    return record[alias]
        return None
    value = record.get(name, _MISSING)
    if value is _MISSING:
        return _lookup(record, name)[1] if "." in name else None
    return value


def _flat(record: Mapping[str, Any], fields: FieldMap, context: dict[str, Any]) -> Extracted:
    text_field = fields.text or "text"
    text = record.get(text_field, _MISSING)
    if not (type(text) is str and text.isascii() and len(text) <= MAX_TEXT_CHARS
            and "\x00" not in text):  # the common case skips the detailed checks
        found, text = _lookup(record, text_field)
        problem = text_problem(text, found, text_field)
        if problem:
            return [problem]
    author = _as_id(_get(record, fields.author, "author", fields))
    return [Comment(_as_id(_get(record, fields.id, "id", fields)),
                    _as_id(_get(record, fields.post, "post", fields)) or context.get("post_id"),
                    _as_id(_get(record, fields.parent, "parent", fields)), author,
                    _creator(record, fields, context, author), text)]


def _values(records: list[dict], name: str | None, late: tuple[str, ...] = ()) -> list[Any]:
    """``_get(record, name)`` of every record; with no ``name``, the first of the ``late``
    aliases each record has (see :func:`_late_names`)."""
    if name is None:
        if late:
            return [next((r[a] for a in late if a in r), None) for r in records]
        return [None] * len(records)
    if "." not in name:  # a plain name: _get gives None for a record without it
        return [r.get(name) for r in records]
    values = [r.get(name, _MISSING) for r in records]
    if any(v is _MISSING for v in values):
        values = [_get(r, name) if v is _MISSING else v for r, v in zip(records, values)]
    return values


def _ids(values: list[Any]) -> list[str | None]:
    """``_as_id`` of every value; a list of non-empty strings is returned as it is."""
    if all(type(v) is str and v for v in values):
        return values
    return [v if type(v) is str and v else None if v is None else _as_id(v) for v in values]


def flat_columns(records: list[dict], fields: FieldMap, context: dict[str, Any]
                 ) -> tuple[dict[str, list], list[int], list[tuple[int, str]]]:
    """What :func:`extract` makes of flat ``records``, one column at a time.

    Returns the :class:`Comment` fields as columns, the positions of the records they come
    from, and ``(position, reason)`` of each record rejected. Equal to calling
    :func:`extract` record by record, several times faster on a chunk.
    """
    text_field = fields.text or "text"
    texts = [r.get(text_field, _MISSING) for r in records]
    strings = [t for t in texts if type(t) is str]
    joined = "".join(strings)
    if (len(strings) < len(texts) or "\x00" in joined
            or max(map(len, strings), default=0) > MAX_TEXT_CHARS or not is_encodable(joined)):
        texts = list(texts)  # the detailed checks, record by record, as _flat makes them
        problems: dict[int, str] = {}
        for k, (record, text) in enumerate(zip(records, texts)):
            if not (type(text) is str and len(text) <= MAX_TEXT_CHARS and "\x00" not in text
                    and is_encodable(text)):
                found, texts[k] = _lookup(record, text_field)
                problem = text_problem(texts[k], found, text_field)
                if problem:
                    problems[k] = problem
        if problems:
            keep = [k for k in range(len(records)) if k not in problems]
            records, texts = [records[k] for k in keep], [texts[k] for k in keep]
        else:
            keep = list(range(len(records)))
    else:
        problems, keep = {}, list(range(len(records)))
    # Roles the sampled records lacked, looked for in this chunk's records (one pass over
    # their keys, then per record only where some record has one).
    late: dict[str, tuple[str, ...]] = {}
    open_roles = {role: _late_names(role, fields) for role in FLAT_ALIASES}
    if any(open_roles.values()) and records:
        keys = set().union(*records)
        late = {role: tuple(a for a in names if a in keys)
                for role, names in open_roles.items()}
    authors = _ids(_values(records, fields.author, late.get("author", ())))
    posts = _ids(_values(records, fields.post, late.get("post", ())))
    if context.get("post_id") is not None:
        posts = [p or context["post_id"] for p in posts]
    creators = _values(records, fields.creator, late.get("creator", ()))
    if not all(c is None or type(c) is bool for c in creators):
        creators = [as_flag(c) for c in creators]
    owner_late = late.get("owner", ())
    if fields.owner is not None or owner_late or context.get("owner"):  # as in _creator
        default = context.get("owner")
        owners = [_as_id(o) or default for o in _values(records, fields.owner, owner_late)]
        creators = [a == o if c is None and a is not None and o else c
                    for c, a, o in zip(creators, authors, owners)]
    columns = {
        "comment_id": _ids(_values(records, fields.id, late.get("id", ()))),
        "post_id": posts,
        "parent_id": _ids(_values(records, fields.parent, late.get("parent", ()))),
        "author": authors,
        "is_creator": creators,
        "text": texts,
        "where": [""] * len(records),
    }
    return columns, keep, sorted(problems.items())


def reddit_columns(records: list[dict], fields: FieldMap, context: dict[str, Any]
                   ) -> tuple[dict[str, list], list[int], list[tuple[int, str]]] | None:
    """What :func:`extract` makes of Reddit comment records in the ``reddit`` format, one
    column at a time as :func:`flat_columns` does, when every record is one plain comment
    (as dumps hold them: no things, listings or nested replies); None otherwise."""
    natives = {"id": "id", "post": "link_id", "parent": "parent_id", "author": "author"}
    if any(getattr(fields, role) not in (None, name) for role, name in natives.items()):
        return None  # another field named for a role: Reddit's own is the fallback per record
    if any((isinstance(r.get("data"), Mapping) and isinstance(r.get("kind"), str))
           or _replies(r.get("replies")) for r in records):
        return None  # things, listings and nested replies: the record reader
    columns, keep, problems = flat_columns(records, fields, context)
    name = fields.text or "body"
    texts, authors = columns["text"], columns["author"]
    removed = {j: reason for j, t in enumerate(texts)
               if (reason := _reddit_removed(name, t)) is not None}
    if removed:
        problems = sorted(problems + [(keep[j], reason) for j, reason in removed.items()])
        dropped = set(removed)
        rows = [j for j in range(len(keep)) if j not in dropped]
        columns = {col: [values[j] for j in rows] for col, values in columns.items()}
        keep = [keep[j] for j in rows]
        texts, authors = columns["text"], columns["author"]
    # As _thread names them: a reject inside a file of comments names the comment.
    problems = [(k, _named_reason(records[k], reason)) for k, reason in problems]
    posts, parents, ids = columns["post_id"], columns["parent_id"], columns["comment_id"]
    for j, above in enumerate(parents):
        if above is not None:
            parents[j] = _reddit_parent(above, posts[j], None)
    for j, author in enumerate(authors):
        if author in _REDDIT_GONE:
            authors[j] = None
            columns["is_creator"][j] = _creator(records[keep[j]], fields, context, None)
    for j, comment_id in enumerate(ids):
        if comment_id is None:
            ids[j] = _fullname_id(records[keep[j]])
    return columns, keep, problems


def _reddit_removed(name: str, text: str) -> str | None:
    """The reject reason of a text that is Reddit's mark of a deleted or removed comment."""
    mark = text.strip()
    if mark in _REDDIT_GONE:
        return f"field {name!r}: {mark!r}, what Reddit shows of a deleted or removed comment"
    return None


def _reddit_parent(above: str | None, post: str | None, enclosing: str | None) -> str | None:
    """A Reddit parent id: ``t3_...`` (or the post's own id) is the post itself, so a
    top-level comment; ``t1_<id>`` is the comment ``<id>`` (the enclosing one if empty)."""
    if above is None:
        return enclosing
    if above.startswith("t3_") or above == post:
        return None
    return (above[3:] or enclosing) if above.startswith("t1_") else above


def _fullname_id(record: Mapping[str, Any]) -> str | None:
    """The comment id in a Reddit fullname (``name``: ``t1_<id>``)."""
    fullname = record.get("name")
    return _as_id(fullname[3:]) if isinstance(fullname, str) and fullname.startswith(
        "t1_") else None


def _named_reason(record: Mapping[str, Any], reason: str) -> str:
    own = _as_id(record.get("id"))
    return reason if own is None else f"comment {own!r}: {reason}"


def is_encodable(text: str) -> bool:
    """Whether ``text`` is valid Unicode (no lone surrogates)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _creator(record: Mapping[str, Any], fields: FieldMap, context: dict[str, Any],
             author: str | None) -> bool | None:
    creator = as_flag(_get(record, fields.creator, "creator", fields))
    if creator is None and author is not None:
        owner = _as_id(_get(record, fields.owner, "owner", fields)) or context.get("owner")
        if owner:
            creator = author == owner
    return creator


def _instagram(record: Mapping[str, Any], fields: FieldMap, context: dict[str, Any]) -> Extracted:
    owner = context.get("owner")
    post = _as_id((record.get("media") or {}).get("id")) or context.get("post_id")
    if fields.post:
        post = _as_id(_lookup(record, fields.post)[1]) or post

    def one(obj: Any, parent: str | None, where: str) -> Comment | str:
        if not isinstance(obj, Mapping):
            return f"{where}expected a JSON object, got {type(obj).__name__}"
        found, text = _lookup(obj, fields.text or "text")
        problem = text_problem(text, found, fields.text or "text")
        if problem:
            return where + problem
        author = obj.get("username") or (obj.get("from") or {}).get("username")
        author = _as_id(author)
        creator = (author == owner) if (owner and author is not None) else None
        return Comment(_as_id(obj.get("id")), post, _as_id(obj.get("parent_id")) or parent,
                       author, creator, text, where)

    out: Extracted = [one(record, None, "")]
    replies = (record.get("replies") or {}).get("data") if isinstance(
        record.get("replies"), Mapping) else None
    parent = _as_id(record.get("id"))
    for k, reply in enumerate(replies or (), 1):
        out.append(one(reply, parent, f"reply {k}: "))
    return out


def _youtube(record: Mapping[str, Any], fields: FieldMap, context: dict[str, Any]) -> Extracted:
    thread = record.get("snippet") or {}
    top = thread.get("topLevelComment") if isinstance(thread, Mapping) else None
    if not isinstance(top, Mapping):
        return ["field 'snippet.topLevelComment': missing (not a YouTube commentThread)"]
    channel = thread.get("channelId")
    video = _as_id(thread.get("videoId"))

    def one(obj: Any, parent: str | None, where: str) -> Comment | str:
        snippet = obj.get("snippet") if isinstance(obj, Mapping) else None
        if not isinstance(snippet, Mapping):
            return f"{where}field 'snippet': missing"
        if fields.text:
            found, text = _lookup(snippet, fields.text)
            name = fields.text
        elif "textOriginal" in snippet:
            found, text, name = True, snippet["textOriginal"], "textOriginal"
        else:
            found, name = "textDisplay" in snippet, "textDisplay"
            text = snippet.get("textDisplay")
            if isinstance(text, str) and "<" in text:
                text = _TAG.sub("", text)
        problem = text_problem(text, found, f"snippet.{name}")
        if problem:
            return where + problem
        author_channel = (snippet.get("authorChannelId") or {}).get("value")
        author = _as_id(author_channel or snippet.get("authorDisplayName"))
        creator = (author_channel == channel) if (channel and author_channel) else None
        return Comment(_as_id(obj.get("id")), _as_id(snippet.get("videoId")) or video,
                       _as_id(snippet.get("parentId")) or parent, author, creator, text, where)

    out: Extracted = [one(top, None, "")]
    replies = record.get("replies")
    comments = replies.get("comments") if isinstance(replies, Mapping) else None
    for k, reply in enumerate(comments or (), 1):
        out.append(one(reply, _as_id(top.get("id")), f"reply {k}: "))
    return out


def _thread(record: Any, one: Callable[[Mapping[str, Any], str | None, str], Comment | str],
            replies_of: Callable[[Mapping[str, Any]], list | None]) -> Extracted:
    """A comment and its replies to any depth, depth first: ``one(obj, parent, where)`` makes
    a comment or says why it cannot, ``replies_of(obj)`` lists an object's replies. A reply's
    ``where`` is its path (``reply 2.1: `` is the first reply to the second reply); a reason
    also names the comment's id, since a page or thread holds many on one line."""
    out: Extracted = []
    stack: list[tuple[Any, str | None, str]] = [(record, None, "")]
    while stack:
        obj, parent, path = stack.pop()
        where = f"reply {path}: " if path else ""
        if not isinstance(obj, Mapping):
            out.append(f"{where}expected a JSON object, got {json_type(obj)}")
            continue
        part = one(obj, parent, where)
        if isinstance(part, str):
            part = where + _named_reason(obj, part)
            own_id = _as_id(obj.get("id"))
        else:
            own_id = part.comment_id
        out.append(part)
        children = replies_of(obj) or ()
        for k in range(len(children), 0, -1):
            stack.append((children[k - 1], own_id, f"{path}.{k}" if path else str(k)))
    return out


def _role(obj: Mapping[str, Any], fields: FieldMap, role: str, native: Any = None) -> Any:
    """A role's value in a Reddit or Facebook record: the field map's field (named by the
    user or found by its common name, in this record or, for a role the file's first
    records lacked, under its common names here), else what the platform's API writes
    (``native``: ``from.id``, ``parent.id``...)."""
    value = _get(obj, getattr(fields, role), role, fields)
    return native if value is None else value


def _replies(value: Any) -> list | None:
    """Replies as an API writes them: a Reddit ``Listing`` (or ``""``), a Facebook
    ``{"data": [...]}`` edge, or a plain list."""
    if isinstance(value, list):
        return _things(value)
    if not isinstance(value, Mapping):
        return None
    data = value.get("data")
    if isinstance(data, list):
        return data
    children = data.get("children") if isinstance(data, Mapping) else None
    return _things(children) if isinstance(children, list) else None


def _facebook(record: Mapping[str, Any], fields: FieldMap, context: dict[str, Any]
              ) -> Extracted:
    name = fields.text or "message"
    # A bare comment's replies rarely repeat its post id: they take the comment's.
    thread_post = _as_id(_role(record, fields, "post")) or context.get("post_id")

    def one(obj: Mapping[str, Any], parent: str | None, where: str) -> Comment | str:
        found, text = _lookup(obj, name)
        if text is None and "attachment" in obj and name == "message":
            found, text = True, ""  # a photo or sticker alone: a comment with no words
        problem = text_problem(text, found, name)
        if problem:
            return problem
        who = obj.get("from")
        native = ((who.get("id") or who.get("name")) if isinstance(who, Mapping)
                  else obj.get("from.id") or obj.get("from.name"))  # or Facepager's columns
        author = _as_id(_role(obj, fields, "author", native))
        above = obj.get("parent")
        native = above.get("id") if isinstance(above, Mapping) else obj.get("parent.id")
        parent = _as_id(_role(obj, fields, "parent", native)) or parent
        post = _as_id(_role(obj, fields, "post")) or thread_post
        return Comment(_as_id(_role(obj, fields, "id", obj.get("id"))), post, parent, author,
                       _creator(obj, fields, context, author), text, where)

    return _thread(record, one, lambda obj: _replies(obj.get("comments")))


def _reddit(record: Mapping[str, Any], fields: FieldMap, context: dict[str, Any]) -> Extracted:
    name = fields.text or "body"

    def one(obj: Mapping[str, Any], parent: str | None, where: str) -> Comment | str:
        kind = obj.get("kind")
        if isinstance(obj.get("data"), Mapping) and isinstance(kind, str):
            return f"a Reddit {kind!r} thing, not a comment ('t1')"
        found, text = _lookup(obj, name)
        problem = text_problem(text, found, name)
        if problem:
            return problem
        removed = _reddit_removed(name, text)
        if removed:
            return removed
        post = _as_id(_role(obj, fields, "post", obj.get("link_id"))) or context.get("post_id")
        parent = _reddit_parent(_as_id(_role(obj, fields, "parent", obj.get("parent_id"))),
                                post, parent)
        author = _as_id(_role(obj, fields, "author", obj.get("author")))
        author = None if author in _REDDIT_GONE else author
        comment_id = _as_id(_role(obj, fields, "id", obj.get("id"))) or _fullname_id(obj)
        return Comment(comment_id, post, parent, author, _creator(obj, fields, context, author),
                       text, where)

    return _thread(record, one, lambda obj: _replies(obj.get("replies")))


_EXTRACTORS: dict[str, Callable[[Mapping[str, Any], FieldMap, dict[str, Any]], Extracted]] = {
    "flat": _flat,
    "instagram": _instagram,
    "youtube": _youtube,
    "facebook": _facebook,
    "reddit": _reddit,
}


def extract(record: Any, fmt: str, fields: FieldMap,
            context: dict[str, Any] | None = None) -> Extracted:
    """Comments of one record, each a :class:`Comment` or the reason it was rejected."""
    if not isinstance(record, Mapping):
        return [f"expected a JSON object, got {json_type(record)}"]
    return _EXTRACTORS[fmt](record, fields, context or {})


def json_type(value: Any) -> str:
    return {list: "array", str: "string", int: "number", float: "number", bool: "boolean",
            type(None): "null"}.get(type(value), type(value).__name__)
