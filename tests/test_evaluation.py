"""Model comparison: macro-F1 from codes, the paired bootstrap, the compare_models script."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT
from sklearn.metrics import f1_score

from commentqa import LABELS
from commentqa.evaluation import macro_f1, paired_bootstrap
from commentqa.persistence import DEFAULT_MODEL


def _labels(rng, n, p=(0.45, 0.1, 0.38, 0.07)):
    return list(rng.choice(LABELS, size=n, p=p))


@pytest.mark.parametrize("seed", range(5))
def test_macro_f1_is_scikit_learns(seed):
    rng = np.random.default_rng(seed)
    gold, pred = _labels(rng, 300), _labels(rng, 300, p=(0.7, 0.1, 0.2, 0.0))
    assert macro_f1(gold, pred) == pytest.approx(f1_score(gold, pred, average="macro"))


def test_identical_models_differ_by_nothing():
    rng = np.random.default_rng(1)
    gold, pred = _labels(rng, 200), _labels(rng, 200)
    diff = paired_bootstrap(gold, pred, pred, resamples=300)
    assert (diff.disagree, diff.difference, diff.low, diff.high) == (0, 0.0, 0.0, 0.0)


def test_a_model_that_fixes_errors_is_shown_better_and_the_interval_is_reproducible():
    rng = np.random.default_rng(2)
    gold = _labels(rng, 400)
    worse = [g if rng.random() < 0.7 else "reaction" for g in gold]
    better = [g if w != g and rng.random() < 0.5 else w for g, w in zip(gold, worse)]
    diff = paired_bootstrap(gold, worse, better, resamples=1000, level=0.9, seed=3)
    assert diff.only_a_right == 0 and diff.only_b_right == diff.disagree > 0
    assert 0 < diff.low < diff.difference < diff.high
    assert diff.macro_f1_b == pytest.approx(f1_score(gold, better, average="macro"))
    again = paired_bootstrap(gold, worse, better, resamples=1000, level=0.9, seed=3)
    assert (again.low, again.high) == (diff.low, diff.high)
    wider = paired_bootstrap(gold, worse, better, resamples=1000, level=0.99, seed=3)
    assert wider.low < diff.low and wider.high > diff.high


def test_mismatched_inputs_are_refused():
    with pytest.raises(ValueError, match="same length"):
        paired_bootstrap(["spam"], ["spam"], [])
    with pytest.raises(ValueError, match="no labeled comments"):
        paired_bootstrap([], [], [])


def test_compare_models_script_on_a_labeled_csv(tmp_path):
    data = tmp_path / "labels.csv"
    data.write_text("comment,gold\n🔥🔥🔥,reaction\nwhere is this dress from?,question\n"
                    "check out my channel,spam\nthe blue one suits you better,conversation\n"
                    "???,unclear\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(ROOT / "training" / "compare_models.py"), "default",
         str(ROOT / "models" / "commentqa-multi-v1.1.1"), "--data", str(data),
         "--text-field", "comment", "--label-field", "gold", "--resamples", "200"],
        capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "4 labeled comments" in result.stdout and "1 rows skipped" in result.stdout
    assert DEFAULT_MODEL in result.stdout and "commentqa-multi-v1.1.1" in result.stdout
    assert "paired bootstrap interval" in result.stdout
    bad = subprocess.run(
        [sys.executable, str(ROOT / "training" / "compare_models.py"), "default", "default",
         "--data", str(data)], capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "no column 'text'" in bad.stderr


def test_baseline_record_refuses_a_model_trained_on_other_data(tmp_path):
    """Checked before anything is embedded (torch is imported later, and not needed here)."""
    sys.path.insert(0, str(ROOT / "training"))
    import baseline_minilm

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "dev_labels.jsonl").write_text('{"id": "a", "label": "reaction"}\n')
    (corpus / "real_comments.jsonl").write_text('{"id": "a", "text": "wow"}\n')
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "meta.json").write_text('{"training_data": {"sha256": "0123456789abcdef"}}')
    first = sorted((ROOT / "training" / "data").glob("*.jsonl"))[0].name
    with pytest.raises(SystemExit, match="trained on data with SHA-256 0123456789abcdef"):
        baseline_minilm.main(["--corpus", str(corpus), "--files", first,
                              "--record", str(model_dir)])
    assert "baseline_dev" not in (model_dir / "meta.json").read_text()
