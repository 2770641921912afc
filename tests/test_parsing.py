"""JSON lines and flat records are read the same whichever fast path runs."""

from __future__ import annotations

import json
import random

import pytest

from commentqa import jsonparse
from commentqa.batch import score_files
from commentqa.formats import FieldMap, extract, flat_columns
from commentqa.io import read_records
from commentqa.jsonparse import BadLine, parse_lines

TRICKY_LINES = [
    b'{"id": "a", "text": "plain"}',
    b'{"id": 123456789012345678901234567890, "text": "an id past 64 bits"}',
    b'{"id": -9223372036854775809, "text": "below int64"}',
    b'{"id": 18446744073709551615, "text": "the largest uint64"}',
    b'{"likes": NaN, "text": "json accepts NaN"}',
    b'{"likes": Infinity, "text": "and Infinity"}',
    b'{"likes": 1e400, "text": "a float that overflows"}',
    b'{"text": "\\ud83d a lone surrogate escape"}',
    b'{"text": "\\ud83d\\ude00 a pair"}',
    b'{"text": "dup", "text": "last key wins"}',
    b'{"text": "\xff\xfe not UTF-8"}',
    b'\xef\xbb\xbf{"text": "a BOM"}',
    b'{"text": "trailing"} junk',
    b'{"text": "carriage return"}\r',
    b"[" * 5000,
    b'"just a string"',
    b"  ",
    b'{"text": "\\u0000 a NUL"}',
    b'{"a": 0.1, "b": -0.0, "c": 1.7976931348623157e308, "d": 5e-324, "text": "floats"}',
]


def _exact(line: bytes):
    return jsonparse._parse_exactly(line)


def _same(a, b) -> bool:
    if type(a) is BadLine or type(b) is BadLine:
        return a == b
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True) and repr(a) == repr(b)


def test_fast_parsing_gives_the_json_modules_values_and_reasons():
    fast = parse_lines(TRICKY_LINES)
    for line, got in zip(TRICKY_LINES, fast):
        assert _same(got, _exact(line)), line[:60]
    assert parse_lines(TRICKY_LINES[1:2])[0]["id"] == 123456789012345678901234567890
    assert parse_lines([b"[" * 5000])[0] == BadLine("invalid JSON: nested too deeply to parse")


def test_parsing_without_orjson_is_the_same(monkeypatch):
    fast = parse_lines(TRICKY_LINES)
    monkeypatch.setattr(jsonparse, "orjson", None)
    assert all(_same(a, b) for a, b in zip(fast, parse_lines(TRICKY_LINES)))


def test_deeply_nested_input_is_rejected_not_a_traceback(tmp_path, model):
    deep = b"[" * 5000
    good = b'{"id": "ok", "post_id": "p", "text": "where is it from?"}'
    cases = {"lines.jsonl": deep + b"\n" + good + b"\n",
             "first_good.jsonl": good + b"\n" + deep + b"\n",
             "array.json": b"[" + good + b", " + deep + b"]"}
    for name, data in cases.items():
        src = tmp_path / name
        src.write_bytes(data)
        out = tmp_path / f"out_{name}"
        score_files([str(src)], out, model=model, out_format="jsonl", jobs=1)
        summary = json.loads((out / "summary.json").read_text())
        assert summary["rows_scored"] == 1, name
        assert summary["rows_read"] == summary["rows_scored"] + summary["rows_rejected"] == 2
        lines = (out / "rejects.jsonl").read_text().splitlines()
        reasons = [json.loads(x)["reason"] for x in lines]
        assert len(reasons) == 1 and "nested too deeply" in reasons[0], (name, reasons)


# -- flat records, column by column ---------------------------------------------------------

_VALUES = [None, "", "x", "post 1", "u1", 7, 7.0, 7.5, True, False, "yes", "0", [1], {"a": 1},
           float("nan")]
_TEXTS = ["hello", "", "  ", "emoji 😍🔥", "nul \x00 here", "lone \ud83d surrogate", None, 42,
          "x" * 100_001, ["list"], "ok?"]


def _random_record(rng: random.Random) -> dict:
    record = {}
    for key in ("text", "id", "post_id", "parent_id", "author", "is_creator", "owner"):
        if rng.random() < 0.8:
            record[key] = rng.choice(_TEXTS if key == "text" else _VALUES)
    if rng.random() < 0.3:
        record["meta"] = {"body": rng.choice(_TEXTS), "who": rng.choice(_VALUES)}
    return record


def _as_rows(columns: dict, n: int) -> list[tuple]:
    return [tuple(columns[name][k] for name in columns) for k in range(n)]


@pytest.mark.parametrize("fields, context", [
    (FieldMap(text="text", id="id", post="post_id", parent="parent_id", author="author"), {}),
    (FieldMap(text="text", id="id", post="post_id", author="author", creator="is_creator"),
     {}),
    (FieldMap(text="meta.body", id="id", author="meta.who", owner="owner"), {}),
    (FieldMap(text="text", author="author"), {"post_id": "P9", "owner": "u1"}),
    (FieldMap(), {}),
])
@pytest.mark.parametrize("clean", [True, False])
def test_flat_columns_equal_extract_record_by_record(fields, context, clean):
    rng = random.Random(hash((fields, clean)) & 0xFFFF)
    records = [_random_record(rng) for _ in range(400)]
    if clean:  # the fast path: every text a valid string
        for r in records:
            text = rng.choice(["hello", "", "emoji 😍🔥", "ok?", "ça va"])
            if fields.text == "meta.body":
                r["meta"] = {**r.get("meta", {}), "body": text}
            else:
                r["text"] = text
    columns, keep, problems = flat_columns(records, fields, context)
    expected_rows, expected_keep, expected_problems = [], [], []
    for k, record in enumerate(records):
        (part,) = extract(record, "flat", fields, context)
        if isinstance(part, str):
            expected_problems.append((k, part))
        else:
            expected_rows.append(tuple(part))
            expected_keep.append(k)
    assert problems == expected_problems
    assert keep == expected_keep
    got = _as_rows(columns, len(keep))
    assert [repr(r) for r in got] == [repr(r) for r in expected_rows]
    if clean:
        assert not problems


def test_classify_reader_rejects_deep_nesting_with_its_line(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"text": "fine"}\n' + b"[" * 5000 + b"\n")
    records = list(read_records(src))
    assert [r.error for r in records] == [None, "invalid JSON: nested too deeply to parse"]
    assert records[1].line == 2
