"""Facebook Graph API and Reddit exports: detection, threads, creators, deleted comments."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import FIXTURES

from commentqa.batch import score_files
from commentqa.formats import FieldMap, detect_format, extract
from commentqa.io import InputError
from commentqa.scoring import PostTally, score_frame

EXPORTS = FIXTURES / "exports"
POST = "104857362910475_912345678901234"
PAGE = "104857362910475"
THREAD = "t3_1h2x9qk"


def _score(tmp_path, model, *inputs, **options):
    out = tmp_path / "out"
    done = score_files([str(i) for i in inputs], out, model=model, out_format="jsonl", jobs=1,
                       **options)
    assert done.rows_read == done.rows_scored + done.rows_rejected
    return out, done


def _read(out, name="comments") -> pd.DataFrame:
    return pd.read_json(out / f"{name}.jsonl", lines=True,
                        dtype={"comment_id": str, "post_id": str, "parent_id": str})


def _rejects(out) -> list[dict]:
    return [json.loads(x) for x in (out / "rejects.jsonl").read_text("utf-8").splitlines()]


def _jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


# -- Facebook ------------------------------------------------------------------------


def test_facebook_post_object_with_comments_and_page_replies(tmp_path, model):
    out, done = _score(tmp_path, model, EXPORTS / "facebook_graph_post.json")
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["inputs"][0]["format"] == "facebook"
    assert done.rows_read == done.rows_scored == 10  # 8 comments + 2 replies by the page
    comments = _read(out).set_index("comment_id")
    assert set(comments["post_id"]) == {POST}
    reply = "912345678901234_1203951190447735"
    assert comments.loc[reply, "parent_id"] == "912345678901234_1203948576221904"
    assert comments.loc[reply, "is_creator"] == True  # noqa: E712  (the page's from.id)
    assert comments.loc["912345678901234_1203962287104452", "is_creator"] == False  # noqa: E712
    # A photo alone is a comment with no words: scored, not lost.
    assert "912345678901234_1203964478850126" in comments.index
    assert comments.loc["912345678901234_1203975500912376", "label"] == "spam"
    post = _read(out, "posts").iloc[0]
    assert (post["top_level"], post["replies"], post["creator_replies"]) == (8, 2, 2)
    assert post["unique_commenters"] == 8


def test_facebook_comments_page_with_nested_replies_and_parent_fields(tmp_path, model):
    """``GET /{post-id}/comments``: a comment holding its replies in ``comments.data`` is a
    comment (it has ``like_count``), not a post; ``parent.id`` links a reply."""
    page = {"data": [
        {"id": "9_1", "message": "does this come in size 8?", "created_time": "2026-01-01",
         "from": {"id": "u1", "name": "Ana"}, "like_count": 0,
         "comments": {"data": [{"id": "9_2", "message": "yes, all sizes 5-11 ❤️",
                                "from": {"id": "u2", "name": "Shop"}}]}},
        {"id": "9_3", "message": "love it", "created_time": "2026-01-01",
         "parent": {"id": "9_1"}, "from": {"id": "u3", "name": "Bo"}},
        {"id": "9_4", "created_time": "2026-01-01", "from": {"id": "u4", "name": "Cy"}},
    ], "paging": {"cursors": {"before": "a", "after": "b"}}}
    src = tmp_path / "page.json"
    src.write_text(json.dumps(page), encoding="utf-8")
    out, done = _score(tmp_path, model, src)
    assert (done.rows_scored, done.rows_rejected) == (3, 1)
    comments = _read(out).set_index("comment_id")
    assert comments.loc["9_2", "parent_id"] == "9_1"
    assert comments.loc["9_3", "parent_id"] == "9_1"
    assert pd.isna(comments.loc["9_1", "parent_id"])
    assert [r["reason"] for r in _rejects(out)] == [
        "item 3: comment '9_4': field 'message': missing"]


def test_facebook_post_with_comments_fetched_without_comment_fields_is_a_post():
    """With neither a comment's own fields nor ``parent``, a record holding ``comments.data``
    is read as a post, as an Instagram media object is."""
    post = {"id": "p1", "message": "caption", "from": {"id": "page", "name": "Page"},
            "comments": {"data": [{"id": "c1", "message": "nice", "from": {"id": "u"}}]}}
    assert detect_format([post]) == "facebook"
    parts = extract(post["comments"]["data"][0], "facebook", FieldMap(),
                    {"post_id": "p1", "owner": "page"})
    assert [(c.comment_id, c.post_id, c.is_creator) for c in parts] == [("c1", "p1", False)]


# -- Reddit --------------------------------------------------------------------------


def test_reddit_thread_json(tmp_path, model):
    """A thread as ``/comments/<id>.json`` gives it: the post's listing, then the comments'
    with nested replies, a ``more`` stub and a removed comment that has a reply."""
    out, done = _score(tmp_path, model, EXPORTS / "reddit_thread.json")
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["inputs"][0]["format"] == "reddit"
    assert (done.rows_read, done.rows_scored, done.rows_rejected) == (11, 10, 1)
    [reject] = _rejects(out)
    assert reject["line"] == 2
    assert reject["reason"] == ("item 3: comment 'm0q3e31': field 'body': '[removed]', what "
                                "Reddit shows of a deleted or removed comment")
    comments = _read(out).set_index("comment_id")
    assert set(comments["post_id"]) == {THREAD}
    assert comments.loc["m0q1c15", "parent_id"] == "m0q1b07"  # t1_ dropped: joins comment_id
    assert comments.loc["m0q3f40", "parent_id"] == "m0q3e31"  # the reply outlives its parent
    assert pd.isna(comments.loc["m0q1a01", "parent_id"])  # t3_: a reply to the post
    assert comments["is_creator"].sum() == 2  # the OP's is_submitter replies
    assert comments.loc["m0q7k54", "label"] == "spam"
    post = _read(out, "posts").iloc[0]
    assert (post["top_level"], post["replies"], post["creator_replies"]) == (6, 4, 2)


def _dump_rows() -> list[dict]:
    """Comments as Pushshift-style monthly dumps write them: one flat object per line."""
    base = {"subreddit": "Coffee", "link_id": "t3_x1", "score": 1}
    return [
        {**base, "id": "a1", "body": "what grinder do you use for this?", "author": "kim",
         "parent_id": "t3_x1", "is_submitter": False},
        {**base, "id": "a2", "body": "a Comandante, 22 clicks", "author": "op",
         "parent_id": "t1_a1", "is_submitter": True},
        {**base, "id": "a3", "body": "[deleted]", "author": "[deleted]", "parent_id": "t3_x1"},
        {**base, "id": "a4", "body": "this is the way", "author": "lee", "parent_id": "t3_x1",
         "is_submitter": False},
    ]


def test_reddit_dump_lines_and_the_same_records_read_flat(tmp_path, model):
    src = _jsonl(tmp_path / "RC_2026-11.jsonl", _dump_rows())
    out, done = _score(tmp_path, model, src)
    assert (done.rows_scored, done.rows_rejected) == (3, 1)
    post = _read(out, "posts").iloc[0]
    assert (post["post_id"], post["top_level"], post["replies"], post["creator_replies"]) == (
        "t3_x1", 2, 1, 1)
    # Read as flat records (link_id, is_submitter are common names), a parent that is the
    # post itself still makes a top-level comment; "[deleted]" is then scored as text.
    flat = tmp_path / "flat"
    done = score_files([str(src)], flat, model=model, out_format="jsonl", jobs=1, fmt="flat")
    assert done.rows_scored == 4
    post = _read(flat, "posts").iloc[0]
    assert (post["top_level"], post["replies"], post["creator_replies"]) == (3, 1, 1)


def test_a_parent_that_is_the_post_is_no_reply_in_the_core(model):
    frame = pd.DataFrame({"text": ["nice", "where from?", "thanks"],
                          "post_id": ["p", "p", "p"], "parent_id": ["p", None, "c1"]})
    scored = score_frame(model, frame)
    counts = PostTally.from_scored(scored).counts.loc["p"]
    assert (counts["top_level"], counts["replies"]) == (2, 1)


def test_deep_reddit_threads_are_read_without_recursion():
    reply: dict | str = ""
    for depth in range(300, 0, -1):  # 300 levels: more than a recursive reader would take
        reply = {"kind": "Listing", "data": {"children": [{"kind": "t1", "data": {
            "id": f"r{depth}", "body": f"level {depth}", "link_id": "t3_p",
            "parent_id": f"t1_r{depth - 1}" if depth > 1 else "t1_r0", "replies": reply}}]}}
    top = {"id": "r0", "body": "top", "link_id": "t3_p", "parent_id": "t3_p", "replies": reply}
    parts = extract(top, "reddit", FieldMap())
    assert len(parts) == 301 and all(not isinstance(p, str) for p in parts)
    assert [p.parent_id for p in parts[:3]] == [None, "r0", "r1"]
    assert parts[2].where == "reply 1.1: "


def test_a_listing_child_that_is_not_a_comment_is_a_reject_not_a_loss():
    record = {"id": "c", "body": "ok", "link_id": "t3_p", "parent_id": "t3_p",
              "replies": {"kind": "Listing", "data": {"children": [
                  {"kind": "t2", "data": {"name": "someone"}}, 7,
                  {"kind": "more", "data": {"children": ["x"]}}]}}}
    parts = extract(record, "reddit", FieldMap())
    assert parts[1:] == ["reply 1: a Reddit 't2' thing, not a comment ('t1')",
                         "reply 2: expected a JSON object, got number"]


# -- --format ------------------------------------------------------------------------


@pytest.mark.parametrize("forced, records, detected", [
    ("facebook", _dump_rows(), "Reddit comments"),
    ("reddit", [{"id": "1", "message": "hi", "created_time": "2026"}],
     "Facebook Graph API comments"),
    ("reddit", [{"id": "1", "text": "hi"}], "flat comment records"),
])
def test_forced_format_that_would_reject_every_record_is_one_error(tmp_path, model, forced,
                                                                     records, detected):
    src = _jsonl(tmp_path / "in.jsonl", records)
    with pytest.raises(InputError, match=rf"in\.jsonl: --format {forced}, but its records "
                                         rf"look like {detected}"):
        _score(tmp_path, model, src, fmt=forced)


def test_forced_format_with_a_text_field_reads_flat_records(tmp_path, model):
    src = _jsonl(tmp_path / "in.jsonl", [{"id": "1", "text": "where is it from?",
                                          "link_id": "t3_p", "parent_id": "t3_p"}])
    out, done = _score(tmp_path, model, src, fmt="reddit", fields=FieldMap(text="text"))
    assert done.rows_scored == 1
    assert _read(out, "posts").iloc[0]["top_level"] == 1


def test_reddit_csv_export_with_its_own_column_names(tmp_path, model):
    """A Reddit CSV (``body`` beside ``subreddit``) is read as Reddit comments, and the
    field options name its other columns."""
    src = tmp_path / "reddit.csv"
    src.write_text("comment_id,body,subreddit,thread,reply_to,user,is_submitter\n"
                   "k1,does the 250g bag fit the hopper?,Coffee,t3_q,t3_q,ana,false\n"
                   "k2,yes with room to spare,Coffee,t3_q,t1_k1,op,true\n", encoding="utf-8")
    out, done = _score(tmp_path, model, src, fields=FieldMap(
        id="comment_id", post="thread", parent="reply_to", author="user"))
    assert done.rows_scored == 2
    comments = _read(out).set_index("comment_id")
    assert comments.loc["k2", "parent_id"] == "k1" and comments.loc["k2", "is_creator"]
    post = _read(out, "posts").iloc[0]
    assert (post["post_id"], post["top_level"], post["replies"], post["creator_replies"],
            post["unique_commenters"]) == ("t3_q", 1, 1, 1, 1)


# -- shapes from a review of real exports ---------------------------------------------


def test_facebook_comments_with_an_empty_replies_edge_are_comments(tmp_path, model):
    """``fields=comments.summary(true)`` gives every comment a ``comments`` edge, empty or
    not: such a comment must not be taken for a post (it would vanish)."""
    edge = {"data": [], "summary": {"order": "chronological", "total_count": 0}}
    rows = [{"id": "222_1", "message": "vegan options?", "created_time": "2024",
             "from": {"name": "Ann", "id": "9"}, "comments": edge},
            {"id": "222_3", "message": "love this place", "created_time": "2024",
             "from": {"name": "Bob", "id": "8"},
             "comments": {"data": [{"id": "222_4", "message": "same!",
                                    "from": {"name": "Cy", "id": "7"}}]}}]
    out, done = _score(tmp_path, model, _jsonl(tmp_path / "c.jsonl", rows))
    assert done.rows_scored == 3
    assert _read(out).set_index("comment_id").loc["222_4", "parent_id"] == "222_3"


def test_a_page_of_posts_on_one_line_gives_their_comments(tmp_path, model):
    page = {"data": [
        {"id": "111_222", "created_time": "2024", "from": {"name": "Cafe", "id": "111"},
         "comments": {"data": [{"id": "222_1", "message": "open on sundays?",
                                "from": {"name": "Ann", "id": "9"}},
                               {"id": "222_2", "message": "yes from 9!",
                                "from": {"name": "Cafe", "id": "111"}}]}},
        {"id": "111_555", "story": "Cafe updated their cover photo.", "created_time": "2024",
         "from": {"name": "Cafe", "id": "111"}}]}
    src = tmp_path / "posts.json"
    src.write_text(json.dumps(page) + "\n", encoding="utf-8")  # one line: read as JSONL
    out, done = _score(tmp_path, model, src)
    assert (done.rows_read, done.rows_scored) == (2, 2)
    post = _read(out, "posts").iloc[0]
    assert (post["post_id"], post["creator_comments"]) == ("111_222", 1)


def test_a_facebook_file_opening_with_a_sticker_is_still_facebook(tmp_path, model):
    rows = [{"id": "5_1", "created_time": "2024", "from": {"name": "Ann", "id": "9"},
             "attachment": {"type": "sticker"}},
            {"id": "5_2", "message": None, "created_time": "2024",
             "from": {"name": "Bo", "id": "8"}, "attachment": {"type": "photo"}},
            {"id": "5_3", "message": "where is this?", "created_time": "2024",
             "from": {"name": "Cy", "id": "7"}}]
    out, done = _score(tmp_path, model, _jsonl(tmp_path / "c.jsonl", rows))
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["inputs"][0]["format"] == "facebook"
    assert (done.rows_scored, done.rows_rejected) == (3, 0)


@pytest.mark.parametrize("header, fmt", [
    ("comment_id,post_id,parent_id,author,message,created_time,is_creator", "facebook"),
    ("comment_id,post_id,parent_id,author,subreddit,body,is_creator", "reddit"),
])
def test_flat_columns_keep_their_roles_beside_a_platform_text_column(tmp_path, model, header,
                                                                      fmt):
    """A CSV whose text column is ``message`` or ``body`` is read with the platform's rules,
    and its id, post, parent, author and creator columns are still found by name."""
    src = tmp_path / "export.csv"
    cells = {"comment_id": ["c1", "c2"], "post_id": ["p", "p"], "parent_id": ["", "c1"],
             "author": ["ann", "bo"], "message": ["where from?", "thanks!"],
             "body": ["where from?", "thanks!"], "created_time": ["2024", "2024"],
             "subreddit": ["x", "x"], "is_creator": ["false", "true"]}
    names = header.split(",")
    src.write_text(header + "\n" + "".join(",".join(cells[n][k] for n in names) + "\n"
                                            for k in range(2)), encoding="utf-8")
    out, _done = _score(tmp_path, model, src)
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["inputs"][0]["format"] == fmt
    assert summary["inputs"][0]["fields"]["id"] == "comment_id"
    comments = _read(out).set_index("comment_id")
    assert list(comments.index) == ["c1", "c2"]
    assert comments.loc["c2", "parent_id"] == "c1" and comments.loc["c2", "is_creator"]
    post = _read(out, "posts").iloc[0]
    assert (post["post_id"], post["replies"], post["creator_replies"]) == ("p", 1, 1)


def test_reddit_threads_and_things_saved_one_per_line(tmp_path, model):
    thread = json.loads((EXPORTS / "reddit_thread.json").read_text("utf-8"))
    lines = tmp_path / "threads.jsonl"  # two thread responses, each an array on its line
    lines.write_text((json.dumps(thread) + "\n") * 2, encoding="utf-8")
    done = score_files([str(lines)], tmp_path / "a", model=model, jobs=1)
    assert (done.rows_scored, done.rows_rejected) == (10, 12)  # the second copy: duplicates
    things = tmp_path / "things.jsonl"  # jq -c '.[].data.children[]': t3, t1s, more
    things.write_text("".join(json.dumps(c) + "\n" for listing in thread
                              for c in listing["data"]["children"]), encoding="utf-8")
    done = score_files([str(things)], tmp_path / "b", model=model, jobs=1)
    assert (done.rows_read, done.rows_scored, done.rows_rejected) == (11, 10, 1)


def test_reddit_removal_marker_and_a_mistyped_field(tmp_path, model):
    rows = [{**r, "body": "[ Removed by Reddit ]"} if r["id"] == "a4" else r
            for r in _dump_rows()]
    src = _jsonl(tmp_path / "rc.jsonl", rows)
    _out, done = _score(tmp_path, model, src)
    assert (done.rows_scored, done.rows_rejected) == (2, 2)
    with pytest.raises(InputError, match="no field 'lnk_id' in its first 4 records"):
        score_files([str(src)], tmp_path / "x", model=model, jobs=1,
                    fields=FieldMap(post="lnk_id"))


# -- a second review ---------------------------------------------------------------------

_FB = {"created_time": "2024"}


@pytest.mark.parametrize("doc, posts, scored", [
    # Page Public Content Access withholds comment ids: the post is a post by its own id,
    # "{page-id}_{post-id}" beside its author's from.id.
    ({"id": "111_222", "message": "New menu", "from": {"id": "111"}, **_FB,
      "comments": {"data": [{"message": "vegan options?", **_FB},
                            {"message": "looks great", **_FB}]}}, {"111_222": 2}, 2),
    # A comment naming its post, with plain ids, holds its reply.
    ({"id": "5001", "post_id": "111_222", "message": "where is this?", **_FB,
      "comments": {"data": [{"id": "5002", "message": "the old mill", **_FB}]}},
     {"111_222": 2}, 2),
    # A comment fetched without its message holds its reply (ids share the post's prefix).
    ({"id": "222_3", "from": {"name": "Zed", "id": "9"}, **_FB, "message": "nice",
      "comments": {"data": [{"id": "222_4", "message": "thanks!", **_FB}]}}, {}, 2),
    # A post whose comments hold replies: threads are two deep.
    ({"id": "9_9", "message": "caption", **_FB, "comments": {"data": [
        {"id": "x1", "message": "first", "comments": {"data": [{"id": "x2",
                                                                 "message": "reply"}]}}]}},
     {"9_9": 2}, 2),
])
def test_facebook_posts_and_comments_told_apart(tmp_path, model, doc, posts, scored):
    out, done = _score(tmp_path, model, _jsonl(tmp_path / "fb.jsonl", [doc]))
    assert (done.rows_scored, done.rows_rejected) == (scored, 0)
    table = _read(out, "posts") if (out / "posts.jsonl").stat().st_size else None
    assert (dict(zip(table["post_id"], table["comments"])) if posts else table) == (
        posts or None)


def test_one_line_pages_of_media_and_comments_with_few_fields(tmp_path, model):
    media = {"data": [{"id": "m1", "username": "cafe", "comments": {"data": [
        {"id": "c1", "text": "yum", "username": "ann",
         "replies": {"data": [{"id": "c2", "text": "@ann right?", "username": "cafe"}]}}]}}]}
    out, done = _score(tmp_path, model, _jsonl(tmp_path / "ig.jsonl", [media]))
    assert done.rows_scored == 2 and _read(out, "posts").iloc[0]["creator_replies"] == 1
    page = {"data": [{"id": "222_1", "message": "which size?",
                      "comments": {"data": [{"id": "222_2", "message": "M fits"}]}}]}
    done = score_files([str(_jsonl(tmp_path / "fb.jsonl", [page]))], tmp_path / "fb", model=model,
                       jobs=1)
    assert done.rows_scored == 2


def test_flat_roles_of_reddit_and_facebook_records_found_later_or_by_owner(tmp_path, model):
    rows = [{"id": f"c{k}", "post_id": "p", "message": "nice", "created_time": "2024",
             "author": f"u{k}", "post_owner": "u0"} for k in range(21)]
    rows.append({**rows[1], "id": "c21", "parent_id": "c0", "author": "u0"})
    out, _ = _score(tmp_path, model, _jsonl(tmp_path / "fb.jsonl", rows))
    post = _read(out, "posts").iloc[0]
    assert (post["replies"], post["creator_comments"], post["creator_replies"]) == (1, 2, 1)
    named = tmp_path / "named"
    score_files([str(tmp_path / "fb.jsonl")], named, model=model, jobs=1, out_format="jsonl",
                fields=FieldMap(author="post_owner"))  # a named field beats from.id
    assert _read(named, "posts").iloc[0]["unique_commenters"] == 1


def test_reddit_things_after_many_posts_and_replies_as_a_list(tmp_path, model):
    lines = [{"kind": "t3", "data": {"id": f"p{k}", "title": "t"}} for k in range(25)]
    lines.append({"kind": "t1", "data": {"id": "a", "body": "great tips", "link_id": "t3_p",
                                         "parent_id": "t3_p", "replies": [
                                             {"id": "b", "body": "agreed", "parent_id": "t1_",
                                              "link_id": "t3_p"}]}})
    out, done = _score(tmp_path, model, _jsonl(tmp_path / "things.jsonl", lines))
    assert (done.rows_read, done.rows_scored) == (2, 2)
    comments = _read(out).set_index("comment_id")
    assert comments.loc["b", "parent_id"] == "a"  # "t1_" names no comment: the enclosing one


def _reddit_variety() -> list[dict]:
    """Dump lines covering every branch of the Reddit reader."""
    rows = []
    for k, (body, parent, author, submitter) in enumerate([
        ("good tips", "t3_p1", "ann", False), ("which one?", "t1_c0", "op", True),
        ("[deleted]", "t3_p1", "[deleted]", None), ("  [removed] ", "t1_c1", "bo", False),
        ("[ Removed by Reddit ]", "t3_p2", "cy", None), ("thanks", "t1_", "[deleted]", None),
        ("same here", "t3_p2", None, None), ("x" * 10, "p1", "dee", "yes"),
        (None, "t3_p1", "eve", False), (5, "t3_p1", "fay", False), ("", "t3_p1", "gus", True),
        ("a\\x00b", "t3_p1", "hal", False), ("fine", None, "ivy", False),
    ]):
        row = {"id": f"c{k}", "body": body, "link_id": "t3_p1" if k % 4 else "p1",
               "parent_id": parent, "author": author, "subreddit": "x"}
        if submitter is not None:
            row["is_submitter"] = submitter
        rows.append(row)
    rows.append({"name": "t1_zz", "body": "no id but a fullname", "link_id": "t3_p1",
                 "parent_id": "t3_p1", "author": "jo", "post_owner": "jo"})
    rows.append({"id": 77, "body": "numeric id", "link_id": "t3_p1", "parent_id": "t1_77"})
    rows.append({"id": "c99", "text_missing": True, "link_id": "t3_p1"})
    return rows


@pytest.mark.parametrize("fields", [FieldMap(), FieldMap(owner="post_owner")])
def test_reddit_dump_lines_read_as_columns_equal_the_record_reader(fields):
    from commentqa.formats import reddit_columns, resolve_fields

    rows = _reddit_variety()
    fields = resolve_fields(rows[:20], fields)
    context = {"owner": None}
    columns, keep, problems = reddit_columns(rows, fields, context)
    expected, reasons = [], []
    for k, row in enumerate(rows):
        for part in extract(row, "reddit", fields, context):
            if isinstance(part, str):
                reasons.append((k, part))
            else:
                expected.append((k, part))
    assert problems == reasons
    assert keep == [k for k, _ in expected]
    got = list(zip(*(columns[name] for name in expected[0][1]._fields)))
    assert got == [tuple(c) for _, c in expected]
    # A chunk holding a nested reply is read record by record.
    nested = [*rows, {"id": "n", "body": "top", "link_id": "t3_p1", "parent_id": "t3_p1",
                      "replies": [{"id": "m", "body": "below"}]}]
    assert reddit_columns(nested, fields, context) is None


def _posts_page() -> dict:
    cafe = {"name": "Cafe", "id": "111"}
    return {"data": [
        {"id": "111_222", "message": "New menu!", "created_time": "2024", "from": cafe,
         "comments": {"data": [{"id": "222_1", "message": "vegan options?", "from": {"id": "9"}},
                               {"id": "222_2", "message": "yes, three", "from": cafe}]}},
        {"id": "111_444", "message": "WIN a year of coffee: like and share to enter",
         "created_time": "2024", "from": cafe},  # nobody commented: no comments edge
    ], "paging": {"cursors": {"before": "x", "after": "y"}}}


@pytest.mark.parametrize("layout", ["document", "one line", "array", "lines"])
def test_a_post_nobody_commented_on_gives_no_comment(tmp_path, model, layout):
    page = _posts_page()
    src = tmp_path / ("posts.jsonl" if layout == "lines" else "posts.json")
    text = {"document": json.dumps(page, indent=1), "one line": json.dumps(page),
            "array": json.dumps(page["data"], indent=1),
            "lines": "".join(json.dumps(p) + "\n" for p in page["data"])}[layout]
    src.write_text(text + "\n", encoding="utf-8")
    out, done = _score(tmp_path, model, src)
    assert (done.rows_read, done.rows_scored) == (2, 2)
    assert sorted(_read(out)["comment_id"]) == ["222_1", "222_2"]


def test_in_a_file_of_comments_a_comment_without_replies_is_kept(tmp_path, model):
    rows = [{"id": "222_1", "message": "vegan options?", "created_time": "2024",
             "from": {"id": "9"}, "like_count": 1,
             "comments": {"data": [{"id": "222_2", "message": "yes", "from": {"id": "111"}}]}},
            {"id": "222_3", "message": "love it", "created_time": "2024", "from": {"id": "8"}}]
    _, done = _score(tmp_path, model, _jsonl(tmp_path / "c.jsonl", rows))
    assert done.rows_scored == 3


def test_comments_without_ids_on_one_page_line_stay_distinct(tmp_path, model):
    """Page Public Content Access withholds comment ids; a page saved on one line then holds
    several comments with neither an id nor a line of their own."""
    page = {"data": [{"message": "vegan options?", "created_time": "2024"},
                     {"message": "love it", "created_time": "2024",
                      "comments": {"data": [{"message": "same"}]}},
                     {"created_time": "2024", "from": {"name": "Bo", "id": "8"}}]}
    out, done = _score(tmp_path, model, _jsonl(tmp_path / "p.jsonl", [page]))
    assert (done.rows_scored, done.rows_rejected) == (3, 1)
    assert sorted(_read(out)["comment_id"]) == ["p.jsonl:1:item1", "p.jsonl:1:item2",
                                                "p.jsonl:1:item2:reply1"]
    assert [r["reason"] for r in _rejects(out)] == ["item 3: field 'message': missing"]


def test_reddit_named_fields_fall_back_to_reddits_own_per_record(tmp_path, model):
    rows = [{"id": "a", "body": "hi", "link_id": "t3_p1", "parent_id": "t3_p1",
             "author": "ann", "subreddit": "x", "thread": "T1"},
            {"id": "b", "body": "yo", "link_id": "t3_p1", "parent_id": "t1_a",
             "author": "bob", "subreddit": "x"},
            {"kind": "t5", "data": {"display_name": "x"}}]
    out, _done = _score(tmp_path, model, _jsonl(tmp_path / "in.jsonl", rows),
                       fields=FieldMap(post="thread"))
    comments = _read(out).set_index("comment_id")
    assert (comments.loc["a", "post_id"], comments.loc["b", "post_id"]) == ("T1", "t3_p1")
    assert [r["reason"] for r in _rejects(out)] == ["a Reddit 't5' thing, not a comment ('t1')"]


@pytest.mark.parametrize("reply_id, edge", [("222_5", {"data": []}), ("1_5", None)])
def test_a_file_of_facebook_comments_keeps_comments_without_replies(tmp_path, model, reply_id,
                                                                     edge):
    reply = {"id": reply_id, "message": "agreed", **({"comments": edge} if edge else {})}
    rows = [{"id": "222_1", "message": "great", "created_time": "2024",
             "from": {"name": "Ann", "id": "9"}, "comments": {"data": [reply]}},
            {"id": "222_3", "message": "love it", "created_time": "2024",
             "from": {"name": "Cy", "id": "7"}}]
    out, done = _score(tmp_path, model, _jsonl(tmp_path / "c.jsonl", rows))
    assert (done.rows_read, done.rows_scored) == (3, 3)
    assert sorted(_read(out)["comment_id"]) == sorted(["222_1", "222_3", reply_id])
