"""The batch scorer on inputs that broke it once: odd encodings, late fields, odd layouts."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest
from test_batch import read, rejects, summary

from commentqa.batch import score_files
from commentqa.io import InputError


def _score(tmp_path: Path, model, *inputs: Path, out: str = "out", **options) -> Path:
    options.setdefault("out_format", "jsonl")
    options.setdefault("jobs", 1)
    score_files([str(p) for p in inputs], tmp_path / out, model=model, **options)
    return tmp_path / out


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("field", ["id", "post_id", "parent_id", "author"])
def test_lone_surrogate_in_an_id_field_is_a_reject_naming_the_field(tmp_path, model, field):
    src = tmp_path / "s.jsonl"
    bad = {"id": "c1", "post_id": "p", "parent_id": "c0", "author": "ana", "text": "fine"}
    bad[field] = "x\ud800"  # json.dumps writes it as the escape "\ud800"
    _jsonl(src, [bad, {"id": "c2", "post_id": "p", "parent_id": "c0", "author": "bo",
                       "text": "where is it from?"}])
    out = _score(tmp_path, model, src, out_format="parquet")
    s = summary(out)
    assert (s["rows_read"], s["rows_scored"], s["rows_rejected"]) == (2, 1, 1)
    [reject] = rejects(out)
    assert reject["line"] == 1
    assert reject["reason"] == (f"field {field!r}: invalid Unicode (undecodable bytes or a lone "
                                "surrogate)")
    assert "\\ud800" in reject["raw"]


def test_undecodable_bytes_in_a_json_array_are_rejects_not_a_crash(tmp_path, model):
    src = tmp_path / "a.json"
    src.write_bytes(b'[{"id":"a","post_id":"p","text":"ok"},'
                    b'{"id":"c","post_id":"p","text":"caf\xe9"},'
                    b'{"id":"d\xe9","post_id":"p","text":"x"}]')
    out = _score(tmp_path, model, src)
    assert summary(out)["rows_scored"] == 1
    got = {r["line"]: r for r in rejects(out)}
    assert set(got) == {2, 3}
    assert got[2]["reason"].startswith("field 'text': invalid Unicode")
    assert got[3]["reason"].startswith("field 'id': invalid Unicode")
    assert "caf\ufffd" in got[2]["raw"]  # the byte is shown as U+FFFD, the row kept


def test_fields_first_seen_after_the_sampled_records_are_used(tmp_path, model):
    # Exports omit null keys: 25 top-level comments with no parent or post, then replies.
    rows = [{"id": f"t{i}", "text": "love it"} for i in range(25)]
    rows += [{"id": f"r{i}", "text": "where from?", "parent_id": "t0", "post_id": "p9",
              "username": "ana", "is_creator": i == 0} for i in range(5)]
    src = _jsonl(tmp_path / "late.jsonl", rows)
    out = _score(tmp_path, model, src, chunk_rows=7)
    comments = read(out).set_index("comment_id")
    assert comments.loc["r3", "parent_id"] == "t0" and comments.loc["r3", "post_id"] == "p9"
    assert comments["post_id"].isna().sum() == 25
    post = read(out, "posts").set_index("post_id").loc["p9"]
    assert post["replies"] == 5 and post["creator_comments"] == 1
    assert post["unique_commenters"] == 1
    # The same comments whatever the chunk size.
    again = read(_score(tmp_path, model, src, out="whole", chunk_rows=1000))
    assert again.equals(read(out))


def test_a_bom_at_the_start_of_a_jsonl_file_is_dropped(tmp_path, model):
    src = tmp_path / "bom.jsonl"
    src.write_bytes(b'\xef\xbb\xbf{"id":"a","post_id":"p","text":"first"}\r\n'
                    b'{"id":"b","post_id":"p","text":"second"}\r\n')
    out = _score(tmp_path, model, src)
    assert summary(out)["rows_scored"] == 2 and not rejects(out)


def test_a_jsonl_file_holding_a_json_array_or_document_is_read_as_such(tmp_path, model):
    rows = [{"id": "a", "post_id": "p", "text": "first"}, {"id": "b", "post_id": "p",
                                                             "text": "second"}]
    array = tmp_path / "array.jsonl"
    array.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    one_line = tmp_path / "one_line.jsonl"
    one_line.write_text(json.dumps(rows) + "\n", encoding="utf-8")
    page = tmp_path / "page.jsonl"
    page.write_text(json.dumps({"data": rows}, indent=2), encoding="utf-8")
    for src in (array, one_line, page):
        out = _score(tmp_path, model, src, out=src.stem)
        assert summary(out)["rows_scored"] == 2 and not rejects(out)


def test_instagram_comments_page_without_a_fields_parameter(tmp_path, model):
    """``GET /{media-id}/comments`` gives ``id``, ``text`` and ``timestamp`` only."""
    src = tmp_path / "page.json"
    src.write_text(json.dumps({
        "data": [{"timestamp": "2026-01-01T00:00:00+0000", "text": "where is this?",
                  "id": "1787"}, {"timestamp": "2026-01-01T00:01:00+0000",
                                  "text": "so pretty", "id": "1788"}],
        "paging": {"cursors": {"before": "a", "after": "b"}}}), encoding="utf-8")
    out = _score(tmp_path, model, src)
    assert summary(out)["rows_scored"] == 2
    assert list(read(out)["comment_id"]) == ["1787", "1788"]


def test_forced_format_that_matches_no_record_is_one_error(tmp_path, model):
    src = _jsonl(tmp_path / "flat.jsonl", [{"id": "a", "text": "hi"}])
    with pytest.raises(InputError, match=r"flat\.jsonl: --format youtube, but its records "
                                         r"look like flat comment records"):
        _score(tmp_path, model, src, fmt="youtube")
    assert not (tmp_path / "out").exists()


def test_output_folder_inside_the_input_folder_is_not_read_back(tmp_path, model):
    dump = tmp_path / "dump"
    dump.mkdir()
    _jsonl(dump / "c.jsonl", [{"id": "a", "post_id": "p", "text": "nice"}])
    for _ in range(2):
        score_files([str(dump)], dump / "out", model=model, out_format="jsonl", jobs=1)
        assert summary(dump / "out")["rows_read"] == 1


def test_synthetic_ids_stay_distinct_across_files_of_the_same_name(tmp_path, model):
    for folder in ("d1", "d2"):
        (tmp_path / folder).mkdir()
        _jsonl(tmp_path / folder / "c.jsonl", [{"post_id": "p", "text": "nice"}])
    _jsonl(tmp_path / "other.jsonl", [{"post_id": "p", "text": "nice"}])
    out = _score(tmp_path, model, tmp_path / "d1" / "c.jsonl", tmp_path / "d2" / "c.jsonl",
                 tmp_path / "other.jsonl")
    ids = list(read(out)["comment_id"])
    assert ids == [f"{tmp_path / 'd1' / 'c.jsonl'}:1", f"{tmp_path / 'd2' / 'c.jsonl'}:1",
                   "other.jsonl:1"]


def test_unterminated_quote_in_a_csv_is_a_reject_not_a_swallowed_tail(tmp_path, model):
    src = tmp_path / "u.csv"
    src.write_text('id,post_id,text\n1,p1,ok\n2,p1,"never closed\n3,p1,next\n4,p1,fine\n',
                   encoding="utf-8")
    out = _score(tmp_path, model, src)
    s = summary(out)
    assert (s["rows_read"], s["rows_scored"], s["rows_rejected"]) == (2, 1, 1)
    [reject] = rejects(out)
    assert reject["line"] == 3
    assert reject["reason"].startswith("unterminated quoted cell: a '\"' opened on line 3 is "
                                       "never closed, so lines 3-5 were read as one row")
    # A quoted cell that spans lines and is closed, last in the file, is fine.
    closed = tmp_path / "closed.csv"
    closed.write_text('id,post_id,text\n1,p1,"two\nlines"', encoding="utf-8")
    assert summary(_score(tmp_path, model, closed, out="c"))["rows_scored"] == 1


def test_csv_header_that_is_nearly_right_gets_a_hint(tmp_path, model):
    src = tmp_path / "h.csv"
    src.write_text("id, post_id, Text\n1,p1,ok\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"no column 'text' .*did you mean ' Text'\?"):
        _score(tmp_path, model, src)


def test_overlong_line_keeps_its_beginning_as_raw(tmp_path, model, monkeypatch):
    from commentqa import sources

    monkeypatch.setattr(sources, "MAX_LINE_BYTES", 4096)
    src = tmp_path / "long.jsonl"
    long_text = "x" * 10_000
    _jsonl(src, [{"id": "a", "post_id": "p", "text": "ok"},
                 {"id": "b", "post_id": "p", "text": long_text}])
    out = _score(tmp_path, model, src)
    [reject] = rejects(out)
    assert reject["reason"].startswith("line is 10,")
    assert reject["raw"].startswith('{"id": "b"') and len(reject["raw"]) == 2_000


@pytest.mark.parametrize(("value", "expected"), [(True, "true"), (float("nan"), None),
                                                 (12.0, "12"), ("x", "x")])
def test_odd_post_id_values(tmp_path, model, value, expected):
    src = tmp_path / "odd.jsonl"
    src.write_text(json.dumps({"id": "a", "post_id": value, "text": "ok"}) + "\n",
                   encoding="utf-8")
    out = _score(tmp_path, model, src)
    got = read(out)["post_id"].iloc[0]
    assert (got is None or got != got) if expected is None else got == expected


def test_failed_run_leaves_no_folder_it_made(tmp_path, model):
    rows = "".join(json.dumps({"id": f"c{i}", "post_id": "p", "text": f"nice {i}"}) + "\n"
                   for i in range(20_000)).encode()
    data = bytearray(gzip.compress(rows))
    data[len(data) // 2] ^= 0xFF  # damage met in the middle of the run
    src = tmp_path / "bad.jsonl.gz"
    src.write_bytes(bytes(data))
    with pytest.raises(InputError, match="gzip data is truncated or corrupt"):
        _score(tmp_path, model, src, chunk_rows=1000)
    assert not (tmp_path / "out").exists()
    kept = tmp_path / "kept"
    kept.mkdir()
    with pytest.raises(InputError):
        _score(tmp_path, model, src, out="kept", chunk_rows=1000)
    assert kept.is_dir() and not any(kept.iterdir())  # a folder the user made stays


def test_empty_json_file_holds_no_rows(tmp_path, model):
    (tmp_path / "empty.json").write_text("\n", encoding="utf-8")
    s = summary(_score(tmp_path, model, tmp_path / "empty.json"))
    assert (s["rows_read"], s["rows_rejected"]) == (0, 0)


def test_blank_csv_lines_are_counted_apart(tmp_path, model):
    src = tmp_path / "b.csv"
    src.write_text("id,post_id,text\n1,p,ok\n\n2,p,fine\n\n\n", encoding="utf-8")
    s = summary(_score(tmp_path, model, src, chunk_rows=1))
    assert (s["rows_read"], s["rows_scored"], s["blank_lines_skipped"]) == (2, 2, 3)


def test_a_pipe_or_fifo_input_is_one_error(tmp_path, model):
    fifo = tmp_path / "ff.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"ff\.jsonl: not a regular file"):
        _score(tmp_path, model, fifo)
    assert not (tmp_path / "out").exists()


def test_a_new_run_leaves_one_run_in_the_folder(tmp_path, model):
    src = _jsonl(tmp_path / "c.jsonl", [{"id": "a", "post_id": "p", "text": "nice"}])
    out = _score(tmp_path, model, src, out_format="parquet")
    _score(tmp_path, model, src, out_format="csv")
    assert sorted(p.name for p in out.iterdir()) == [
        "comments.csv", "posts.csv", "rejects.jsonl", "summary.json"]


def test_posts_parquet_keeps_string_post_ids_when_no_row_is_scored(tmp_path, model):
    import pyarrow.parquet as pq

    bad = _jsonl(tmp_path / "bad.jsonl", [{"id": "a", "post_id": "p", "text": None}])
    good = _jsonl(tmp_path / "good.jsonl", [{"id": "a", "post_id": "p", "text": "nice"}])
    for src in (bad, good):
        out = _score(tmp_path, model, src, out=src.stem, out_format="parquet")
        assert str(pq.read_schema(out / "posts.parquet").field("post_id").type) == "string"


def test_more_jobs_than_cores_start_one_worker_a_core(tmp_path, model, monkeypatch):
    from commentqa import batch

    started = []
    real = batch._results
    monkeypatch.setattr(batch, "_results", lambda chunks, model, jobs, *a: (
        started.append(jobs) or real(chunks, model, jobs, *a)))
    src = _jsonl(tmp_path / "c.jsonl", [{"id": "a", "post_id": "p", "text": "nice"}])
    _score(tmp_path, model, src, jobs=500)
    assert started == [os.cpu_count() or 1]


def test_parquet_text_stored_as_binary_is_read_as_utf8(tmp_path, model):
    """Impala, older Hive and some Spark jobs write strings as plain BINARY columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = tmp_path / "binary.parquet"
    pq.write_table(pa.table({
        "text": pa.array(["where is this from? 😍".encode(), b"caf\xe9 au lait", b"wow"],
                         type=pa.binary()),
        "post_id": pa.array([b"p1", b"p1", b"p2"], type=pa.large_binary()),
    }), src)
    out = _score(tmp_path, model, src)
    assert (summary(out)["rows_scored"], summary(out)["rows_rejected"]) == (2, 1)
    comments = read(out)
    assert list(comments["post_id"]) == ["p1", "p2"]
    assert comments["label"].iloc[0] == "question"
    [reject] = rejects(out)
    assert reject["line"] == 2 and reject["reason"] == (
        "field 'text': invalid Unicode (undecodable bytes or a lone surrogate)")
