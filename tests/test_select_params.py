"""training/select_params.py: grouped cross-validation over C and the n-gram ranges."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT

SCRIPT = ROOT / "training" / "select_params.py"


def _small_corpus(folder, rows_per_file=60):
    """Three files of the training corpus, cut short: every label in every file."""
    folder.mkdir()
    for name in ("p01_en_beauty_fashion.jsonl", "p02_en_tech_gaming_finance.jsonl",
                 "p03_en_food_travel_home.jsonl"):
        rows = [json.loads(x) for x in (ROOT / "training" / "data" / name)
                .read_text(encoding="utf-8").splitlines() if x.strip()]
        by_label: dict[str, list] = {}
        for row in rows:
            by_label.setdefault(row["label"], []).append(row)
        kept = [r for group in by_label.values() for r in group[: rows_per_file // 4]]
        (folder / name).write_text("".join(json.dumps(r) + "\n" for r in kept),
                                   encoding="utf-8")


def test_ngram_ranges_are_compared_on_the_same_grouped_folds(tmp_path):
    _small_corpus(tmp_path / "data")
    out = tmp_path / "figures.json"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--data", str(tmp_path / "data"), "--folds", "3",
         "--C", "0.25", "--class-weight", "none", "--char-ngrams", "2-5", "3-4",
         "--files", "p01_en_beauty_fashion.jsonl", "p02_en_tech_gaming_finance.jsonl",
         "p03_en_food_travel_home.jsonl", "--jobs", "1", "--json", str(out)],
        capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["files"] == ["p01_en_beauty_fashion.jsonl",
                                "p02_en_tech_gaming_finance.jsonl",
                                "p03_en_food_travel_home.jsonl"]
    by_chars = {f["char_ngrams"]: f for f in figures["settings"]}
    assert set(by_chars) == {"2-5", "3-4"}
    # Fewer n-gram sizes, fewer columns; every row scored out of fold, so figures are real.
    assert by_chars["3-4"]["columns"] < by_chars["2-5"]["columns"]
    for f in figures["settings"]:
        assert f["word_ngrams"] == "1-2" and f["C"] == 0.25 and 0.25 < f["macro_f1"] <= 1
    assert "2-5" in result.stdout and "3-4" in result.stdout


def test_a_malformed_range_is_a_usage_error():
    result = subprocess.run([sys.executable, str(SCRIPT), "--char-ngrams", "5-2"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "expected 1 <= LOW <= HIGH, got '5-2'" in result.stderr
