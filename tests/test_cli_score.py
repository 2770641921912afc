"""``commentqa score`` through the installed console script."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import FIXTURES
from test_cli import COMMAND, pytestmark, run  # noqa: F401 - same console script and skip rule


def test_score_fixture_dump_default_parquet(tmp_path):
    out = tmp_path / "out"
    result = run("score", str(FIXTURES / "comments.jsonl"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "comments.parquet", "posts.parquet", "rejects.jsonl", "summary.json"]
    comments = pd.read_parquet(out / "comments.parquet")
    assert len(comments) == 32 and comments["label"].notna().all()
    posts = pd.read_parquet(out / "posts.parquet")
    assert posts["comments"].sum() == 32
    assert posts["resonance"].between(0, 1).all()
    assert (posts["resonance_low"] <= posts["resonance"]).all()
    assert (posts["resonance"] <= posts["resonance_high"]).all()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"]["id"].startswith("commentqa-multi-v")
    # Not a terminal: one summary line, no progress bar.
    assert result.stderr.count("\n") == 1 and "\r" not in result.stderr
    assert "32 of 32 comments scored" in result.stderr


def test_score_mapping_flags_and_strict(tmp_path):
    src = tmp_path / "dump.csv"
    src.write_text("key,body,video\n1,price?,v\n2,,v\n1,dup,v\n", encoding="utf-8")
    out = tmp_path / "o"
    args = ("score", str(src), "--out", str(out), "--format-out", "csv", "--text-field",
            "body", "--id-field", "key", "--post-field", "video", "--jobs", "2")
    result = run(*args)
    assert result.returncode == 0, result.stderr
    comments = pd.read_csv(out / "comments.csv")
    assert comments["comment_id"].tolist() == [1, 2]
    assert "1 rejected" in result.stderr
    assert run(*args, "--strict", "--quiet").returncode == 1


def test_score_user_errors_are_one_line(tmp_path):
    missing = run("score", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "o"))
    assert missing.returncode == 2
    assert missing.stderr.strip().count("\n") == 0
    assert "nope.jsonl: no such file" in missing.stderr and "Traceback" not in missing.stderr
    blocker = tmp_path / "f"
    blocker.write_text("")
    unwritable = run("score", str(FIXTURES / "comments.jsonl"), "--out", str(blocker / "x"))
    assert unwritable.returncode == 2 and "Traceback" not in unwritable.stderr
    bad_model = run("score", str(FIXTURES / "comments.jsonl"), "--out", str(tmp_path / "o"),
                    "--model", str(tmp_path))
    assert bad_model.returncode == 2 and "Traceback" not in bad_model.stderr


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


@pytest.mark.skipif(not sys.platform.startswith("linux")
                    or not Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists(),
                    reason="reads a process's children from /proc")
def test_ctrl_c_during_a_two_worker_run_is_one_line_and_leaves_nothing(tmp_path):
    """Ctrl-C signals the whole process group, workers included: only the parent speaks."""
    texts = [json.loads(line)["text"] for line in
             (FIXTURES / "comments.jsonl").read_text(encoding="utf-8").splitlines()]
    dump = tmp_path / "big.jsonl"
    with open(dump, "w", encoding="utf-8") as fh:
        for i in range(400_000):
            fh.write(json.dumps({"id": f"c{i}", "post_id": f"p{i % 97}",
                                 "text": f"{texts[i % len(texts)]} {i}"}) + "\n")
    out = tmp_path / "out"
    proc = subprocess.Popen([COMMAND, "score", str(dump), "--out", str(out), "--jobs", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while len(_children(proc.pid)) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    time.sleep(0.5)  # the workers are scoring
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert stderr.strip() == "commentqa: interrupted; no output was written", stderr
    assert not out.exists() or not any(out.iterdir())


def test_option_mistakes_and_the_default_model_by_name(tmp_path):
    fixture = str(FIXTURES / "comments.jsonl")
    result = run("score", fixture, "--out", str(tmp_path / "o"), "--model", "default")
    assert result.returncode == 0, result.stderr  # as evaluate reads "default"
    result = run("score", fixture, "--out", str(tmp_path / "p"), "--jobs", "abc")
    assert result.returncode == 2
    assert "argument --jobs: expected a whole number, got 'abc'" in result.stderr
    result = run("score", fixture, "--out", str(tmp_path / "q"), "--model", fixture)
    assert result.returncode == 2 and result.stderr.strip() == (
        f"commentqa: error: {fixture} is a file, not a model folder (no meta.json beside it); "
        "give the folder that holds model.joblib")
