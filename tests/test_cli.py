"""``commentqa classify`` end to end, through the installed console script."""

from __future__ import annotations

import csv
import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES

# The console script installed beside this interpreter (the venv need not be activated).
_BESIDE = Path(sys.executable).parent / "commentqa"
COMMAND = str(_BESIDE) if _BESIDE.exists() else shutil.which("commentqa")
pytestmark = pytest.mark.skipif(COMMAND is None, reason="commentqa console script not installed")
LABELS = ("reaction", "question", "conversation", "spam")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([COMMAND, *args], capture_output=True, text=True, timeout=300)


def test_jsonl_in_jsonl_out(tmp_path):
    out = tmp_path / "labeled.jsonl"
    result = run("classify", str(FIXTURES / "comments.jsonl"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    rows_in = (FIXTURES / "comments.jsonl").read_text(encoding="utf-8").splitlines()
    rows_out = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows_out) == len(rows_in)
    for src, row in zip(map(json.loads, rows_in), rows_out):
        assert {k: row[k] for k in src} == src
        assert row["label"] in LABELS
        assert sum(row[f"p_{label}"] for label in LABELS) == pytest.approx(1.0, abs=1e-4)
    assert "32 of 32 rows classified" in result.stderr
    assert not (tmp_path / "labeled.jsonl.rejects.jsonl").exists()


def test_csv_with_text_field_to_stdout():
    result = run("classify", str(FIXTURES / "comments.csv"), "--text-field", "comment")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["comment_id"] for r in rows] == [str(i) for i in range(1, 9)]
    assert rows[1]["label"] == "question"


def test_csv_out(tmp_path):
    out = tmp_path / "labeled.csv"
    assert run("classify", str(FIXTURES / "comments.csv"), "--text-field", "comment",
               "--out", str(out)).returncode == 0
    with open(out, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 8
    assert list(rows[0])[-5:] == ["label", *(f"p_{label}" for label in LABELS)]


def test_bad_rows_go_to_rejects_and_counts_add_up(tmp_path):
    src = tmp_path / "messy.jsonl.gz"
    lines = [
        b'{"text": "where is this from?"}',
        b"{not json",
        b'{"body": "no text field"}',
        b'{"text": null}',
        b'{"text": 42}',
        b"",
        b'{"text": "bad \xff\xfe bytes"}',
        b'{"text": ""}',
        b'["a list"]',
        b'{"text": "nul \\u0000 inside"}',
    ]
    src.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    out = tmp_path / "out.jsonl"
    result = run("classify", str(src), "--out", str(out))
    assert result.returncode == 0, result.stderr
    scored = out.read_text(encoding="utf-8").splitlines()
    rejects = [json.loads(x) for x in
               (tmp_path / "out.jsonl.rejects.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(scored) == 2  # the question and the empty comment
    assert [r["line"] for r in rejects] == [2, 3, 4, 5, 7, 9, 10]
    reasons = " | ".join(r["reason"] for r in rejects)
    for phrase in ("invalid JSON", "'text': missing", "'text': null", "expected a string",
                   "invalid UTF-8", "expected a JSON object", "NUL"):
        assert phrase in reasons
    assert all(r["source"] == str(src) for r in rejects)
    assert "2 of 9 rows classified" in result.stderr and "7 rejected" in result.stderr
    assert run("classify", str(src), "--out", str(out), "--strict").returncode == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["classify", "missing.jsonl"], "missing.jsonl: no such file"),
        (["classify", "README"], "unknown format"),
        (["classify", "{fixtures}/comments.csv"], "no column 'text'"),
        (["classify", "{fixtures}/comments.jsonl", "--text-field", "body"],
         "no field 'body' in its first 20 records (fields: id, post_id, platform, text"),
        (["classify", "{fixtures}/comments.jsonl", "--out", "/nonexistent/dir/o.jsonl"],
         "output folder does not exist"),
        (["classify", "{fixtures}/comments.jsonl", "--model", "/nonexistent"], "not found"),
    ],
)
def test_user_mistakes_are_one_line_errors(args, message, tmp_path):
    args = [a.format(fixtures=FIXTURES) for a in args]
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_version_and_help():
    assert run("--version").stdout.startswith("commentqa ")
    shown = run("--help").stdout
    assert all(command in shown for command in ("classify", "score", "evaluate", "train"))
    # Written for users: what the tool does, not the module's docstring for developers.
    assert "resonance" in shown and "``" not in shown


def test_output_is_not_left_half_written_on_failure(tmp_path):
    out = tmp_path / "o.jsonl"
    out.write_text("previous run\n")
    result = run("classify", str(FIXTURES / "comments.jsonl"), "--out", str(out),
                 "--model", str(tmp_path))
    assert result.returncode == 2
    assert out.read_text() == "previous run\n"
    assert [p.name for p in tmp_path.iterdir()] == ["o.jsonl"]


def test_truncated_gzip_is_one_line_error_for_every_command(tmp_path):
    data = gzip.compress((FIXTURES / "comments.jsonl").read_bytes() * 200)
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(data[: len(data) // 2])
    out = tmp_path / "labeled.jsonl"
    for args in (("classify", str(cut), "--out", str(out)), ("evaluate", str(cut)),
                 ("score", str(cut), "--out", str(tmp_path / "scored"))):
        result = run(*args)
        assert result.returncode == 2, args
        assert result.stderr.splitlines() == [
            f"commentqa: error: {cut}: the gzip data is truncated or corrupt (Compressed "
            "file ended before the end-of-stream marker was reached); repair or recompress "
            "the file"], args
    assert not out.exists() and not (tmp_path / "scored").exists()  # met before any output


def test_semicolon_csv_and_a_folder_given_as_output_file(tmp_path):
    src = tmp_path / "excel.csv.gz"
    src.write_bytes(gzip.compress(b"id;text\n1;where is this from?\n2;\"so pretty; wow\"\n"))
    result = run("classify", str(src))
    assert result.returncode == 0, result.stderr
    assert [json.loads(x)["id"] for x in result.stdout.splitlines()] == ["1", "2"]
    folder = tmp_path / "out.jsonl"
    folder.mkdir()
    for args in (("classify", str(src), "--out", str(folder)),
                 ("evaluate", str(FIXTURES / "labeled_comments.jsonl"), "--json", str(folder))):
        result = run(*args)
        assert result.returncode == 2
        assert result.stderr.strip() == f"commentqa: error: {folder}: is a folder, expected a " \
                                        "file name"


def test_classify_reads_csv_as_score_does(tmp_path):
    """One CSV reader for every command: long fields, wrong cell counts, invalid UTF-8."""
    src = tmp_path / "odd.csv"
    src.write_bytes(b"id,text\n1," + b"y" * 200_000 + b"\n2\n3,\"bad \xff byte\"\n\n4,ok\n")
    out = tmp_path / "labeled.jsonl"
    result = run("classify", str(src), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert [json.loads(x)["id"] for x in out.read_text(encoding="utf-8").splitlines()] == \
        ["1", "4"]
    rejects = [json.loads(x) for x in
               Path(f"{out}.rejects.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(r["line"], r["reason"]) for r in rejects] == [
        (3, "row has 1 cells, the header has 2"), (4, "invalid UTF-8 in row (byte 0xff)")]
    scored = tmp_path / "scored"
    assert run("score", str(src), "--out", str(scored), "--quiet").returncode == 0
    score_rejects = [json.loads(x) for x in
                     (scored / "rejects.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(r["line"], r["reason"]) for r in score_rejects][1:] == \
        [(r["line"], r["reason"]) for r in rejects]  # score also caps one comment's length


@pytest.mark.parametrize(("given", "expected"), [(None, "system"), ("jemalloc", "jemalloc")])
def test_executable_gives_arrow_the_system_allocator_unless_told_otherwise(given, expected):
    import os

    import pyarrow as pa

    if expected not in pa.supported_memory_backends():
        pytest.skip(f"this pyarrow has no {expected} allocator")
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    if given is not None:
        env["ARROW_DEFAULT_MEMORY_POOL"] = given
    code = ("import sys; sys.argv = ['commentqa', '--version']\n"
            "from commentqa.console import main\n"
            "try:\n    main()\nexcept SystemExit as done:\n    assert done.code == 0\n"
            "import pyarrow as pa; print(pa.default_memory_pool().backend_name)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == expected


def test_classify_keeps_gold_labels_and_rejects_unwritable_text(tmp_path):
    src = tmp_path / "gold.jsonl"
    src.write_text('{"text": "fine", "note": "x\\ud800"}\n'
                   '{"text": "where is this from?", "label": "spam", "p_spam": 1}\n',
                   encoding="utf-8")
    out = tmp_path / "labeled.jsonl.gz"
    result = run("classify", str(src), "--out", str(out))
    assert result.returncode == 0, result.stderr
    [row] = [json.loads(line) for line in gzip.decompress(out.read_bytes()).splitlines()]
    assert (row["input_label"], row["input_p_spam"], row["label"]) == ("spam", 1, "question")
    assert list(row)[:3] == ["text", "input_label", "input_p_spam"]
    [reject] = [json.loads(x) for x in Path(f"{out}.rejects.jsonl").read_text().splitlines()]
    assert reject["line"] == 1 and reject["reason"] == (
        "field 'note': invalid Unicode (undecodable bytes or a lone surrogate)")
    mask = os.umask(0o022)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask  # not mkstemp's 0600


def test_classify_reads_json_arrays_and_a_bom(tmp_path):
    array = tmp_path / "a.json"
    array.write_text(json.dumps([{"text": "price?"}, {"text": "wow"}, [1]]), encoding="utf-8")
    result = run("classify", str(array))
    assert result.returncode == 0, result.stderr
    assert [json.loads(x)["text"] for x in result.stdout.splitlines()] == ["price?", "wow"]
    assert "a.json:3: expected a JSON object, got array" in result.stderr
    bom = tmp_path / "b.jsonl"
    bom.write_bytes(b'\xef\xbb\xbf{"text": "first"}\n')
    result = run("classify", str(bom))
    assert result.returncode == 0 and json.loads(result.stdout)["text"] == "first"


def test_classify_to_csv_keeps_fields_that_first_appear_late(tmp_path, model):
    from commentqa.annotate import classify_file

    src = tmp_path / "late.jsonl"
    rows = [{"text": "so pretty", "id": i} for i in range(20)]
    rows.append({"text": "where is it from?", "id": 20, "gold": "question"})
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "labeled.csv"
    classify_file(src, out, model, chunk_rows=7)  # the new field arrives in the third chunk
    with out.open(encoding="utf-8", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert list(table[0])[:3] == ["text", "id", "label"] and "gold" in table[0]
    assert [r["gold"] for r in table] == [""] * 20 + ["question"]


def test_classify_never_writes_over_its_input(tmp_path):
    src = tmp_path / "gold.jsonl"
    src.write_text('{"text": "wow", "label": "reaction"}\n', encoding="utf-8")
    before = src.read_bytes()
    result = run("classify", str(src), "--out", str(src))
    assert result.returncode == 2
    assert result.stderr.strip() == (f"commentqa: error: {src}: is the input file; write the "
                                     "output elsewhere (the input would be overwritten)")
    assert src.read_bytes() == before


def test_classifying_a_classified_file_keeps_its_first_gold_column(tmp_path, model):
    from commentqa.annotate import classify_file

    src = tmp_path / "twice.jsonl"
    src.write_text('{"text": "where is this from?", "input_label": "question", '
                   '"label": "spam"}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    classify_file(src, out, model)
    row = json.loads(out.read_text(encoding="utf-8"))
    assert (row["input_label"], row["input_input_label"], row["label"]) == (
        "question", "spam", "question")
