"""``commentqa evaluate``: figures on labeled comments, skipped rows accounted for."""

from __future__ import annotations

import json

import pytest
from conftest import FIXTURES
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from test_cli import COMMAND, LABELS, run

from commentqa.evaluation import classification_report
from commentqa.io import InputError
from commentqa.labeled import read_labeled

pytestmark = pytest.mark.skipif(COMMAND is None, reason="commentqa console script not installed")


def test_report_is_scikit_learns():
    gold = ["reaction", "question", "spam", "conversation", "reaction", "spam"]
    pred = ["reaction", "conversation", "spam", "conversation", "question", "reaction"]
    report = classification_report(gold, pred)
    p, r, f, s = precision_recall_fscore_support(gold, pred, labels=list(LABELS),
                                                 zero_division=0)
    for i, label in enumerate(LABELS):
        assert report["per_class"][label] == {"precision": round(p[i], 4),
                                              "recall": round(r[i], 4),
                                              "f1": round(f[i], 4), "support": s[i]}
    assert report["confusion"] == confusion_matrix(gold, pred, labels=list(LABELS)).tolist()
    assert report["accuracy"] == 0.5 and report["n"] == 6
    with pytest.raises(ValueError, match="labels must be among"):
        classification_report(["reaction"], ["unclear"])


def test_labels_are_read_loosely_and_every_skipped_row_is_kept(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("comment,gold\nlink pls, Question\nwow,REACTION\nhmm,unclear\nok,\n",
                    encoding="utf-8")
    data = read_labeled(path, "comment", "gold")
    assert data.gold == ["question", "reaction"] and data.texts == ["link pls", "wow"]
    assert data.skipped == [(4, "label 'unclear' is not one of reaction, question, "
                                "conversation, spam"), (5, "no label in field 'gold'")]
    assert data.rows_read == 4
    with pytest.raises(InputError, match=r"mine\.csv: no row with a text and a label"):
        read_labeled(path, "comment", "label")


def test_evaluate_end_to_end_with_two_models(tmp_path):
    data = tmp_path / "labeled.jsonl"
    lines = (FIXTURES / "labeled_comments.jsonl").read_text(encoding="utf-8").splitlines()
    data.write_text("\n".join([*lines, '{"text": "meh", "label": "unclear"}', "{oops",
                               '{"text": null, "label": "spam"}']) + "\n", encoding="utf-8")
    out = tmp_path / "figures.json"
    old = str(FIXTURES.parent / "models" / "commentqa-multi-v1.1.1")
    result = run("evaluate", str(data), "--model", "default", "--model", old,
                 "--json", str(out), "--resamples", "200")
    assert result.returncode == 0, result.stderr
    assert f"{len(lines)} labeled comments of {len(lines) + 3} rows" in result.stdout
    assert "macro-F1" in result.stdout and "paired bootstrap interval" in result.stdout
    assert f"skipped line {len(lines) + 2}: invalid JSON" in result.stderr
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["rows_read"] == figures["rows_used"] + len(figures["skipped"])
    assert [s["line"] for s in figures["skipped"]] == [len(lines) + k for k in (1, 2, 3)]
    assert [m["given"] for m in figures["models"]] == ["default", old]
    for model in figures["models"]:
        assert sum(map(sum, model["confusion"])) == len(lines)
        assert set(model["per_class"]) == set(LABELS)
    assert figures["paired_differences"][0]["n"] == len(lines)


def test_evaluate_user_mistakes_are_one_line_errors(tmp_path):
    data = tmp_path / "labeled.jsonl"
    data.write_text('{"text": "wow", "tag": "reaction"}\n', encoding="utf-8")
    for args, message in (((str(data),), "no row with a text and a label"),
                          ((str(tmp_path / "missing.jsonl"),), "missing.jsonl"),
                          ((str(FIXTURES / "labeled_comments.jsonl"), "--model", str(tmp_path)),
                           str(tmp_path)),
                          ((str(FIXTURES / "labeled_comments.jsonl"), "--json",
                            str(tmp_path / "no" / "f.json")), "output folder does not exist")):
        result = run("evaluate", *args)
        assert result.returncode == 2
        assert result.stdout == ""  # refused before any scoring or report
        assert result.stderr.startswith("commentqa: error:") and message in result.stderr
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
