"""The batch scorer: formats, field mapping, bad input, chunk merging, atomic output."""

from __future__ import annotations

import gc
import gzip
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import FIXTURES

from commentqa import batch
from commentqa.batch import score_files
from commentqa.formats import FieldMap
from commentqa.io import InputError
from commentqa.keyset import KeySet
from commentqa.scoring import POST_COLUMNS, PostTally, merge_tallies, score_frame

EXPORTS = FIXTURES / "exports"


def read(out, name="comments", fmt="jsonl") -> pd.DataFrame:
    path = out / f"{name}.{fmt}"
    if fmt == "jsonl":
        return pd.read_json(path, lines=True, dtype={"comment_id": str, "post_id": str,
                                                     "parent_id": str})
    if fmt == "csv":
        return pd.read_csv(path, dtype={"comment_id": str, "post_id": str, "parent_id": str})
    return pd.read_parquet(path)


def summary(out) -> dict:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def rejects(out) -> list[dict]:
    text = (out / "rejects.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


# -- formats -------------------------------------------------------------------------


def test_instagram_graph_media_document(tmp_path, model):
    score_files([str(EXPORTS / "instagram_graph_media.json")], tmp_path, model=model,
                out_format="jsonl", jobs=1)
    s = summary(tmp_path)
    assert s["inputs"][0]["format"] == "instagram"
    assert s["rows_read"] == s["rows_scored"] == 9  # 7 comments + 2 nested replies
    comments = read(tmp_path).set_index("comment_id")
    assert set(comments["post_id"]) == {"17986042117301558"}
    assert comments.loc["18045529317092301", "parent_id"] == "18045529317092242"
    assert comments.loc["18045529317092301", "is_creator"] == True  # noqa: E712
    assert comments.loc["18045529317092241", "is_creator"] == False  # noqa: E712
    post = read(tmp_path, "posts").iloc[0]
    assert post["creator_comments"] == 1 and post["creator_replies"] == 1
    assert post["replies"] == 2 and post["top_level"] == 7
    assert post["unique_commenters"] == 7  # kitchen_kavya commented twice; creator not counted


def test_youtube_comment_threads(tmp_path, model):
    score_files([str(EXPORTS / "youtube_comment_threads.json")], tmp_path, model=model,
                out_format="csv", jobs=1)
    assert summary(tmp_path)["inputs"][0]["format"] == "youtube"
    comments = read(tmp_path, fmt="csv").set_index("comment_id")
    assert len(comments) == 5
    assert (comments["post_id"] == "dQ4rTbench1").all()
    reply = "UgzT3mK1pQ0rVd8xYk54AaABAg.A1b2C3d4E5f"
    assert comments.loc[reply, "parent_id"] == "UgzT3mK1pQ0rVd8xYk54AaABAg"
    assert comments.loc["UgyP1qR3sT5uV7wX9yZ1AaABAg", "label"] == "spam"
    post = read(tmp_path, "posts", "csv").iloc[0]
    assert post["creator_replies"] == 1 and post["replies"] == 2


def test_scraper_json_array_and_csv(tmp_path, model):
    score_files([str(EXPORTS / "tiktok_scraper.json"), str(EXPORTS / "instagram_scraper.csv")],
                tmp_path, model=model, out_format="parquet", jobs=1)
    s = summary(tmp_path)
    assert [i["container"] for i in s["inputs"]] == ["json-array", "csv"]
    assert s["inputs"][0]["fields"] == {"text": "text", "id": "cid", "post": "videoWebUrl",
                                        "parent": "repliesToId", "author": "uniqueId",
                                        "owner": "videoAuthor"}
    assert s["rows_scored"] == 16 and s["posts"] == 4
    posts = read(tmp_path, "posts", "parquet").set_index("post_id")
    tiktok = posts.loc["https://www.tiktok.com/@glowbyfarah/video/7422998800112233445"]
    assert tiktok["creator_replies"] == 1 and tiktok["creator_comments"] == 1
    assert list(posts.reset_index().columns) == ["post_id", *POST_COLUMNS]


def test_folder_glob_and_gzip_inputs(tmp_path, model):
    gz = tmp_path / "in" / "dump.jsonl.gz"
    gz.parent.mkdir()
    gz.write_bytes(gzip.compress((FIXTURES / "comments.jsonl").read_bytes()))
    (tmp_path / "in" / "notes.txt").write_text("not an input")
    out1, out2 = tmp_path / "a", tmp_path / "b"
    score_files([str(tmp_path / "in")], out1, model=model, out_format="jsonl", jobs=1)
    score_files([str(tmp_path / "in" / "*.gz")], out2, model=model, out_format="jsonl", jobs=1)
    assert summary(out1)["rows_scored"] == summary(out2)["rows_scored"] == 32
    pd.testing.assert_frame_equal(read(out1), read(out2))



def _damaged_gzips(tmp_path) -> list:
    """A gzipped dump cut short, and one with flipped bytes in its middle."""
    data = gzip.compress((FIXTURES / "comments.jsonl").read_bytes() * 1000)  # 6 MB
    cut, flipped = tmp_path / "cut.jsonl.gz", tmp_path / "flipped.jsonl.gz"
    cut.write_bytes(data[: len(data) * 2 // 3])
    middle = len(data) // 2
    flipped.write_bytes(data[:middle] + bytes(b ^ 0xFF for b in data[middle:middle + 8])
                        + data[middle + 8:])
    return [cut, flipped]


@pytest.mark.parametrize("jobs", [1, 2])
def test_damaged_gzip_is_a_clear_error_and_writes_nothing(tmp_path, model, jobs):
    scored = []
    for damaged in _damaged_gzips(tmp_path):
        out = tmp_path / f"out-{damaged.stem}"
        scored.clear()
        with pytest.raises(InputError, match=f"{damaged.name}: the gzip data is truncated or "
                                             "corrupt"):
            score_files([str(damaged)], out, model=model, jobs=jobs, chunk_rows=2000,
                        progress=lambda rows, _: scored.append(rows))
        assert scored  # met mid-run, after chunks were scored
        assert not out.exists()  # the folder the run made is gone with its temporary files
        assert gc.get_freeze_count() == 0  # what the workers' run froze is collectable again

def test_field_mapping(tmp_path, model):
    src = tmp_path / "odd.csv"
    src.write_text("cid,msg,video,who,reply_of\n"
                   "1,where did you get that lamp?,v1,ann,\n"
                   "2,@ann IKEA last spring,v1,bo,1\n", encoding="utf-8")
    fields = FieldMap(text="msg", id="cid", post="video", author="who", parent="reply_of")
    score_files([str(src)], tmp_path / "o", model=model, fields=fields, out_format="jsonl",
                jobs=1)
    comments = read(tmp_path / "o")
    assert comments["comment_id"].tolist() == ["1", "2"]
    assert comments["parent_id"].tolist()[1] == "1"
    post = read(tmp_path / "o", "posts").iloc[0]
    assert post["replies"] == 1 and post["unique_commenters"] == 2


def test_nested_dotted_field(tmp_path, model):
    src = tmp_path / "nested.jsonl"
    src.write_text(json.dumps({"c": {"body": "link pls"}, "p": {"id": 7}}) + "\n")
    score_files([str(src)], tmp_path / "o", model=model, out_format="jsonl", jobs=1,
                fields=FieldMap(text="c.body", post="p.id"))
    row = read(tmp_path / "o").iloc[0]
    assert row["post_id"] == "7" and row["label"] == "question"


# -- bad input -----------------------------------------------------------------------

BAD_LINES = [
    (b'{"id": "a1", "post_id": "p", "text": "love it"}', None),
    (b'{"id": "a2", "post_id": "p", "text": "broken', "invalid JSON"),
    (b'{"id": "a3", "post_id": "p"}', "field 'text': missing"),
    (b'{"id": "a4", "post_id": "p", "text": null}', "field 'text': null"),
    (b'{"id": "a5", "post_id": "p", "text": 42}', "expected a string, got int"),
    (b'{"id": "a6", "post_id": "p", "text": "bad \xff\xfe bytes"}', "invalid UTF-8"),
    (b'{"id": "a7", "post_id": "p", "text": "nul \\u0000 here"}', "contains NUL"),
    (b'{"id": "a1", "post_id": "p", "text": "again"}', "duplicate comment id 'a1'"),
    (b'{"id": "a8", "text": "no post id, still a comment"}', None),
    (b"", None),  # blank line: skipped, not a row
    (b"   ", None),
    (b'["an", "array"]', "expected a JSON object, got array"),
    (b'{"id": "a9", "post_id": "p", "text": ""}', None),  # an empty comment is a comment
    (b'{"id": "a10", "post_id": "p", "text": "' + b"x" * 200_001 + b'"}', "over the 100,000"),
    (b'{"id": "a11", "post_id": "p", "text": "\\ud83d lone surrogate"}', "invalid Unicode"),
]


def test_malformed_jsonl_loses_nothing(tmp_path, model):
    src = tmp_path / "bad.jsonl"
    src.write_bytes(b"\n".join(line for line, _ in BAD_LINES) + b"\n")
    score_files([str(src)], tmp_path / "o", model=model, out_format="jsonl", jobs=1)
    s = summary(tmp_path / "o")
    expected_bad = {n: why for n, (_, why) in enumerate(BAD_LINES, 1) if why}
    assert s["rows_rejected"] == len(expected_bad)
    assert s["rows_read"] == s["rows_scored"] + s["rows_rejected"] == len(BAD_LINES) - 2
    assert s["blank_lines_skipped"] == 2 and s["rows_without_post"] == 1
    got = {r["line"]: r for r in rejects(tmp_path / "o")}
    assert set(got) == set(expected_bad)
    for line, why in expected_bad.items():
        assert why in got[line]["reason"], (line, got[line]["reason"])
        assert got[line]["source"] == str(src)
        assert len(got[line]["raw"]) < 2_100  # huge rows are clipped
    comments = read(tmp_path / "o")
    assert comments["comment_id"].tolist() == ["a1", "a8", "a9"]


def test_malformed_csv_and_json_array(tmp_path, model):
    csv_path = tmp_path / "bad.csv"
    csv_path.write_bytes(b"id,text,post_id\n1,fine,p\n2,too,many,cells\n3,\xff\xfe,p\n"
                         b'4,"multi\nline comment",p\n')
    arr = tmp_path / "bad.json"
    arr.write_text('[{"text": "ok 1"}, {"text": 5}, {"text": "ok 2"}, {"text": "oops}',
                   encoding="utf-8")
    score_files([str(csv_path), str(arr)], tmp_path / "o", model=model, out_format="jsonl",
                jobs=1)
    s = summary(tmp_path / "o")
    assert s["rows_read"] == s["rows_scored"] + s["rows_rejected"]
    reasons = {(r["source"].rsplit("/", 1)[-1], r["line"]): r["reason"]
               for r in rejects(tmp_path / "o")}
    assert "4 cells, the header has 3" in reasons[("bad.csv", 3)]
    assert "invalid UTF-8" in reasons[("bad.csv", 4)]
    assert "expected a string, got int" in reasons[("bad.json", 2)]
    assert "invalid JSON in array item 4" in reasons[("bad.json", 4)]
    assert s["rows_scored"] == 4  # csv rows 1 and 4 (multi-line), array items 1 and 3


def test_input_errors_name_the_file(tmp_path, model):
    with pytest.raises(InputError, match="no such file"):
        score_files([str(tmp_path / "missing.jsonl")], tmp_path / "o", model=model)
    with pytest.raises(InputError, match="no file matches"):
        score_files([str(tmp_path / "*.parquet")], tmp_path / "o", model=model)
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01binary")
    with pytest.raises(InputError, match=r"junk\.bin: unknown format"):
        score_files([str(junk)], tmp_path / "o", model=model)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        score_files([str(FIXTURES / "comments.jsonl")], blocker, model=model)


def test_a_text_field_no_record_has_is_one_error_not_a_reject_per_row(tmp_path, model):
    table = tmp_path / "t.csv"
    table.write_text("msg,id\nhello,1\nwhere from?,2\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"t\.csv: no column 'text' .*\(columns: msg, id\)"):
        score_files([str(table)], tmp_path / "o", model=model)
    lines = tmp_path / "d.jsonl"
    lines.write_text('{"msg": "hi", "id": 1}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"no field 'body\.text'.*--text-field"):
        score_files([str(lines)], tmp_path / "o", model=model, fields=FieldMap(text="body.text"))
    assert not (tmp_path / "o" / "comments.parquet").exists()
    # A field some records lack is a per-row matter: those rows are rejected, the rest scored.
    lines.write_text('{"id": 1}\n{"text": "where from?", "id": 2}\n', encoding="utf-8")
    done = score_files([str(lines)], tmp_path / "o", model=model, jobs=1)
    assert (done.rows_scored, done.rows_rejected) == (1, 1)


# -- merging and engines ---------------------------------------------------------------


def _frame_of_fixture() -> pd.DataFrame:
    rows = [json.loads(line) for line in
            (FIXTURES / "comments.jsonl").read_text(encoding="utf-8").splitlines()]
    frame = pd.DataFrame(rows)
    frame["author"] = [f"user{i % 5}" if i % 7 else None for i in range(len(frame))]
    frame["parent_id"] = [None if i % 4 else "c01" for i in range(len(frame))]
    frame["is_creator"] = [i % 9 == 0 for i in range(len(frame))]
    return frame


def test_merged_chunk_tallies_equal_the_whole(model):
    scored = score_frame(model, _frame_of_fixture())
    whole = PostTally.from_scored(scored).posts()
    for parts in (2, 3, 7):
        chunks = np.array_split(np.arange(len(scored)), parts)
        merged = merge_tallies(PostTally.from_scored(scored.iloc[c]) for c in chunks).posts()
        pd.testing.assert_frame_equal(merged, whole)


@pytest.mark.parametrize("memory_posts, run_block", [(batch.MEMORY_POSTS, 8_192), (50, 16),
                                                     (7, 3), (399, 1)])
def test_post_accumulator_equals_one_tally_of_everything(tmp_path, monkeypatch, memory_posts,
                                                         run_block):
    """Chunks that share posts and commenters, in any order, sum to the single tally, also
    when the counts spill to sorted runs on disk and are merged back block by block."""
    monkeypatch.setattr(batch, "_RUN_BLOCK", run_block)
    rng = np.random.default_rng(0)
    n = 3_000
    labels = np.array(["reaction", "question", "conversation", "spam"])
    scored = pd.DataFrame({
        "post_id": pd.Series([f"p{k}" for k in rng.integers(0, 400, n)], dtype=object),
        "author": pd.Series([f"u{k}" if k else None for k in rng.integers(0, 300, n)],
                            dtype=object),
        "label": pd.Categorical(labels[rng.integers(0, 4, n)], categories=list(labels)),
        "parent_id": pd.Series([None if r else "c0" for r in rng.integers(0, 5, n)],
                               dtype=object),
        "is_creator": rng.random(n) < 0.05,
    })
    whole = PostTally.from_scored(scored).posts()
    acc = batch._PostAccumulator(spill_dir=tmp_path, memory_posts=memory_posts)
    for rows in np.array_split(rng.permutation(n), 9):
        acc.add(PostTally.from_scored(scored.iloc[np.sort(rows)]))
    assert bool(acc._runs) == (memory_posts < 400)
    blocks = list(acc.tables())
    ids = [i for block in blocks for i in block["post_id"]]
    assert ids == sorted(ids) and len(ids) == len(set(ids))  # sorted, each post once
    pd.testing.assert_frame_equal(pd.concat(blocks, ignore_index=True), whole)
    acc.close()


def test_posts_spilled_to_disk_give_the_same_outputs(tmp_path, model, monkeypatch):
    src = tmp_path / "dump.jsonl"
    frame = _frame_of_fixture()
    src.write_text(frame.to_json(orient="records", lines=True), encoding="utf-8")
    core = PostTally.from_scored(score_frame(model, frame)).posts()
    monkeypatch.setattr(batch, "MEMORY_POSTS", 2)
    monkeypatch.setattr(batch, "_RUN_BLOCK", 2)
    for fmt in ("parquet", "csv"):
        done = score_files([str(src)], tmp_path / fmt, model=model, jobs=1, chunk_rows=4,
                           out_format=fmt)
        assert done.posts == len(core)
        pd.testing.assert_frame_equal(read(tmp_path / fmt, "posts", fmt), core,
                                      check_dtype=False)


def test_cli_engine_matches_core_whatever_the_chunking(tmp_path, model):
    src = tmp_path / "dump.jsonl"
    frame = _frame_of_fixture()
    src.write_text(frame.to_json(orient="records", lines=True), encoding="utf-8")
    core = PostTally.from_scored(score_frame(model, frame)).posts()
    for jobs, chunk_rows in ((1, 10_000), (1, 3), (2, 5)):
        out = tmp_path / f"o{jobs}{chunk_rows}"
        score_files([str(src)], out, model=model, jobs=jobs, chunk_rows=chunk_rows)
        posts = read(out, "posts", "parquet")
        pd.testing.assert_frame_equal(posts, core, check_dtype=False)
        assert read(out, "comments", "parquet")["comment_id"].tolist() == frame["id"].tolist()


def test_interrupted_run_leaves_no_partial_output(tmp_path, model, monkeypatch):
    out = tmp_path / "o"
    score_files([str(FIXTURES / "comments.jsonl")], out, model=model, jobs=1)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(batch.PostTally, "from_scored", boom)
    with pytest.raises(KeyboardInterrupt):
        score_files([str(FIXTURES / "comments.jsonl")], out, model=model, jobs=1)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no temp file left




@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_aborted_run_closes_its_files(tmp_path, model, monkeypatch):
    src = tmp_path / "dump.jsonl"
    src.write_text(_frame_of_fixture().to_json(orient="records", lines=True), encoding="utf-8")
    monkeypatch.setattr(batch, "MEMORY_POSTS", 2)  # posts spill from the first chunks on

    def open_under(folder: Path) -> list[str]:
        links = (os.readlink(fd) for fd in Path("/proc/self/fd").iterdir() if fd.is_symlink())
        return [link for link in links if link.startswith(str(folder))]

    calls = []

    def stop_at_third_chunk(rows_read, bytes_read):
        calls.append(rows_read)
        if len(calls) == 3:
            assert open_under(tmp_path / "o")  # the spill file exists mid-run
            raise KeyboardInterrupt

    # The traceback keeps the run's frames alive, as a notebook's last error does.
    with pytest.raises(KeyboardInterrupt) as stopped:
        score_files([str(src)], tmp_path / "o", model=model, jobs=1, chunk_rows=3,
                    progress=stop_at_third_chunk)
    assert stopped.traceback and open_under(tmp_path / "o") == []
def test_keyset_reports_first_sightings():
    ks = KeySet()
    assert ks.add_new(np.array([5, 3, 5], dtype=np.uint64)).tolist() == [True, True, False]
    seen = ks.add_new(np.arange(10, dtype=np.uint64))
    assert seen.tolist() == [True, True, True, False, True, False] + [True] * 4
    for start in range(0, 5000, 100):  # many levels, merged
        ks.add_new(np.arange(start, start + 150, dtype=np.uint64))
    assert len(ks) == 5050
    assert not ks.add_new(np.arange(5050, dtype=np.uint64)).any()


@pytest.mark.parametrize("memory_keys", [1, 7, 300, 1 << 18])
def test_keyset_matches_a_python_set_when_it_spills_to_disk(tmp_path, memory_keys):
    rng = np.random.default_rng(memory_keys)
    ks = KeySet(memory_keys=memory_keys, bloom_bits=1 << 10, spill_dir=tmp_path)
    seen: set[int] = set()
    for size in rng.integers(1, 400, 60):
        # many repeats, across and within batches, and keys at both ends of the range
        keys = rng.choice(np.array([0, 2**64 - 1, *range(1, 3000)], dtype=np.uint64), size)
        want = []
        for k in keys.tolist():
            want.append(k not in seen)
            seen.add(k)
        assert ks.add_new(keys).tolist() == want
    assert len(ks) == len(seen)
    if memory_keys < 3000:
        assert ks._runs and ks.nbytes < 8 * len(seen)  # most keys live on disk
    ks.close()
    assert len(ks) == 0 and list(tmp_path.iterdir()) == []


def test_keyset_filters_every_key_of_a_run_longer_than_a_hashing_slice(tmp_path):
    from commentqa import keyset

    keys = np.random.default_rng(3).choice(2**62, 50_000, replace=False).astype(np.uint64)
    ks = KeySet(memory_keys=3 * keyset._BLOOM_SLICE, spill_dir=tmp_path)
    for part in np.array_split(keys, 5):
        assert ks.add_new(part).all()
    assert [length for _, length, _ in ks._runs] == [50_000] and not ks._levels
    assert ks._bloom_has(keys).all()  # no key of any slice is missing from the filter
    assert not ks.add_new(keys).any()
    assert ks.add_new(keys + np.uint64(2**63)).all()
    ks.close()


@pytest.mark.parametrize("block", [7, 64, 1 << 20])
@pytest.mark.parametrize("chunk_rows", [1, 2, 10_000])
def test_jsonl_lines_across_blocks_and_overlong_lines(tmp_path, monkeypatch, block, chunk_rows):
    from commentqa import sources

    monkeypatch.setattr(sources, "_BLOCK", block)
    monkeypatch.setattr(sources, "MAX_LINE_BYTES", 40)
    rows = [b'{"text": "a"}', b"", b'{"text": "' + b"y" * 100 + b'"}', b'{"text": "b"}',
            b" \r", b'{"text": "' + b"z" * 41 + b'"}', b'{"text": "last, no newline"}']
    path = tmp_path / "d.jsonl"
    path.write_bytes(b"\n".join(rows))
    source = sources.Source(path, "jsonl")
    chunks = list(sources.read_chunks(source, chunk_rows))
    got = [c.expanded() for c in chunks]
    lines = [n for c in got for n in c.lines]
    items = [i for c in got for i in c.items]
    assert lines == [1, 3, 4, 6, 7]
    assert [i if isinstance(i, bytes) else "overlong" for i in items] == [
        rows[0], "overlong", rows[3], "overlong", rows[6]]
    assert "over the 40-byte limit" in items[1].reason
    assert sum(c.blank for c in got) == 2
    assert all(len(c.items) <= chunk_rows for c in got)
    assert sum(c.bytes_read for c in chunks) == path.stat().st_size
    block_chunks = [c for c in chunks if c.kind == "block"]
    assert block_chunks[0].raw(1) == rows[0]


def test_jsonl_chunks_are_capped_in_bytes(tmp_path, monkeypatch):
    from commentqa import sources

    monkeypatch.setattr(sources, "CHUNK_BYTES", 100)
    path = tmp_path / "d.jsonl"
    path.write_bytes(b"".join(b'{"text": "%d"}\n' % i for i in range(50)))
    chunks = list(sources.read_chunks(sources.Source(path, "jsonl"), 10_000))
    assert len(chunks) > 1 and all(c.bytes_read <= 100 for c in chunks)
    assert [n for c in chunks for n in c.expanded().lines] == list(range(1, 51))


def test_parquet_schema_is_fixed_before_the_first_chunk(tmp_path, model):
    src = tmp_path / "d.jsonl"
    rows = [{"id": "1", "post_id": "p", "text": "wow"}, {"id": "2", "post_id": "p", "text": "ok"},
            {"id": "3", "post_id": "p", "text": "thanks!", "parent_id": "1", "is_creator": True}]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    score_files([str(src)], tmp_path / "o", model=model, jobs=1, chunk_rows=2)
    comments = read(tmp_path / "o", fmt="parquet")
    assert comments["parent_id"].tolist()[2] == "1"
    assert comments["is_creator"].tolist() == [None, None, True]
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    score_files([str(empty)], tmp_path / "e", model=model, jobs=1)
    assert list(read(tmp_path / "e", fmt="parquet").columns) == list(
        pd.read_parquet(tmp_path / "o" / "comments.parquet").columns)


def test_parquet_dictionary_encodes_only_the_columns_with_few_values(tmp_path, model):
    import pyarrow.parquet as pq

    score_files([str(EXPORTS / "tiktok_scraper.json")], tmp_path / "o", model=model, jobs=1)
    meta = pq.ParquetFile(tmp_path / "o" / "comments.parquet").metadata.row_group(0)
    encoded = {meta.column(i).path_in_schema: "RLE_DICTIONARY" in meta.column(i).encodings
               for i in range(meta.num_columns)}
    assert {c for c, yes in encoded.items() if yes} == {"post_id", "parent_id", "label"}
    posts = pq.ParquetFile(tmp_path / "o" / "posts.parquet").metadata.row_group(0)
    assert not any("RLE_DICTIONARY" in posts.column(i).encodings
                   for i in range(posts.num_columns))


def test_parquet_row_groups_gather_small_chunks_and_keep_row_order(tmp_path):
    import pyarrow.parquet as pq

    from commentqa.outputs import TableWriter

    path = tmp_path / "t.parquet"
    writer = TableWriter(path, "parquet", {"n": "int64", "s": "string"}, row_group_rows=25)
    for start in range(0, 70, 10):
        writer.write(pd.DataFrame({"n": range(start, start + 10),
                                   "s": [f"x{i}" for i in range(start, start + 10)]}))
    writer.close()
    meta = pq.ParquetFile(path).metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [30, 30, 10]
    assert pq.read_table(path).to_pandas()["n"].tolist() == list(range(70))
    # An aborted run's writer drops what it gathered: nothing half-done is flushed later.
    aborted = TableWriter(tmp_path / "a.parquet", "parquet", row_group_rows=25)
    aborted.write(pd.DataFrame({"n": range(10)}))
    aborted.release()
    assert aborted._waiting == [] and aborted._parquet is None


def test_a_batch_run_writes_comments_in_row_groups_not_one_per_chunk(tmp_path, model):
    import pyarrow.parquet as pq

    score_files([str(FIXTURES / "comments.jsonl")], tmp_path / "o", model=model, jobs=1,
                chunk_rows=3)
    meta = pq.ParquetFile(tmp_path / "o" / "comments.parquet").metadata
    assert meta.num_row_groups == 1 and meta.num_rows > 3


def test_progress_line_only_on_a_terminal():
    import io

    from commentqa.progress import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    pipe, tty = io.StringIO(), Terminal()
    for stream in (pipe, tty):
        bar = Progress(total_bytes=1000, stream=stream, interval=0)
        bar(500, 500)
        bar.close()
    assert pipe.getvalue() == ""
    shown = tty.getvalue()
    assert shown.startswith("\rcommentqa: 500 comments") and "50% of input" in shown
    assert shown.endswith("\n")


def test_parquet_input_with_bad_rows(tmp_path, model):
    src = tmp_path / "dump.parquet"
    pd.DataFrame({"comment_id": ["a", "b", "c"], "post_id": ["p", "p", None],
                  "comment": ["where to buy?", None, "so good"]}).to_parquet(src)
    score_files([str(src)], tmp_path / "o", model=model, out_format="jsonl", jobs=1)
    s = summary(tmp_path / "o")
    assert (s["rows_read"], s["rows_scored"], s["rows_rejected"]) == (3, 2, 1)
    assert s["inputs"][0]["container"] == "parquet"
    assert rejects(tmp_path / "o")[0]["line"] == 2
    assert "field 'comment': null" in rejects(tmp_path / "o")[0]["reason"]
    assert read(tmp_path / "o")["label"].tolist()[0] == "question"


def test_mmap_threshold_is_fixed_on_glibc():
    import platform
    import subprocess
    import sys

    code = "from commentqa.heap import fix_mmap_threshold; print(fix_mmap_threshold())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    glibc = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    assert out == str(glibc)


def test_a_steady_heap_run_gives_pyarrow_the_system_allocator(tmp_path):
    import subprocess
    import sys

    code = f"""if True:
        import pyarrow as pa
        from commentqa.batch import score_files
        score_files([{str(EXPORTS / 'tiktok_scraper.json')!r}], {str(tmp_path / 'o')!r},
                    jobs=1, steady_heap=True)
        print(pa.default_memory_pool().backend_name)
    """
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env).stdout.split()
    assert out[-1] == "system"


def test_free_heap_pages_go_back_to_the_system_on_glibc():
    import platform
    import subprocess
    import sys

    if not (platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"):
        pytest.skip("malloc_trim is glibc's")
    # 64 blocks of 1 MiB from the heap (the threshold keeps them out of mmap), freed below a
    # block still in use: a hole the trim threshold alone never hands back.
    code = """if True:
        from commentqa.heap import fix_mmap_threshold, release_free_pages
        def anon():
            for line in open("/proc/self/status"):
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) >> 10
        fix_mmap_threshold(32 << 20)
        blocks = [bytes([k]) * (1 << 20) for k in range(64)]
        pin = bytes(1) * (1 << 20)
        del blocks
        before = anon()
        print(release_free_pages(), before - anon())
    """
    released, mib = subprocess.run([sys.executable, "-c", code], capture_output=True,
                                   text=True, check=True).stdout.split()
    assert released == "True" and int(mib) >= 48


def test_semicolon_csv_is_read_as_excel_writes_it(tmp_path, model):
    src = tmp_path / "excel.csv"
    src.write_bytes("\ufefftext;post_id;author\n\"hola; qué tal\";p1;ana\n"
                    "where is this from?;p1;bo\n".encode())
    out = tmp_path / "o"
    score_files([str(src)], out, model=model, jobs=1, out_format="jsonl")
    assert summary(out)["rows_scored"] == 2
    assert read(out, "posts", "jsonl")["unique_commenters"].tolist() == [2]


@pytest.mark.parametrize("export", ["instagram_graph_media.json", "youtube_comment_threads.json",
                                    "facebook_graph_post.json"])
def test_api_documents_saved_one_per_line_are_unwrapped(tmp_path, model, export):
    """Pages saved as ``curl`` writes them (one line) or appended page after page (JSONL)
    give the comments of the same document pretty-printed."""
    doc = json.loads((EXPORTS / export).read_text(encoding="utf-8"))
    line = json.dumps(doc, ensure_ascii=False)
    one_line = tmp_path / "page.json"
    one_line.write_text(line + "\n", encoding="utf-8")
    whole = tmp_path / "whole"
    score_files([str(EXPORTS / export)], whole, model=model, jobs=1, out_format="jsonl")
    expected = read(whole)
    got = tmp_path / "line"
    score_files([str(one_line)], got, model=model, jobs=1, out_format="jsonl")
    assert summary(got)["rows_rejected"] == summary(whole)["rows_rejected"]
    pd.testing.assert_frame_equal(read(got), expected)
    assert read(got, "posts").equals(read(whole, "posts"))

    pages = tmp_path / "pages.jsonl"  # the same document twice: its ids are then duplicates
    pages.write_text(line + "\n" + line + "\n", encoding="utf-8")
    done = score_files([str(pages)], tmp_path / "pages", model=model, jobs=1)
    assert done.rows_scored == len(expected)
    assert done.rows_read == done.rows_scored + done.rows_rejected
    rejects = [json.loads(x) for x in
               (tmp_path / "pages" / "rejects.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["line"] for r in rejects if "duplicate comment id" in r["reason"]} == {2}


def test_a_named_field_no_record_has_is_one_clear_error(tmp_path, model):
    src = FIXTURES / "comments.jsonl"
    for role in ("post", "id", "parent", "author"):
        fields = FieldMap(**{role: "nope"})
        with pytest.raises(InputError, match=rf"no field 'nope' in its first \d+ records "
                                             rf"\(fields: .*\); choose one with --{role}-field"):
            score_files([str(src)], tmp_path / role, model=model, fields=fields, jobs=1)
    # A named field that some records lack is fine: those rows just have no value for it.
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text('{"text": "wow", "vid": "v1"}\n{"text": "link pls"}\n', encoding="utf-8")
    done = score_files([str(mixed)], tmp_path / "mixed", model=model,
                       fields=FieldMap(post="vid"), jobs=1)
    assert done.rows_scored == 2 and done.posts == 1
