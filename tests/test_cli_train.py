"""``commentqa train``: a model from the user's own labels, saved, loadable, and accounted for."""

from __future__ import annotations

import json
import random
import warnings

import numpy as np
import pytest
from conftest import FIXTURES, TRAINING_DATA
from test_cli import COMMAND, LABELS, run

import commentqa
from commentqa import cli, training
from commentqa.io import InputError
from commentqa.labeled import read_labeled

pytestmark = pytest.mark.skipif(COMMAND is None, reason="commentqa console script not installed")

PER_LABEL = 45
FAST = ("--folds", "2", "--jobs", "1")  # small and quick: the contract, not the accuracy


def _labeled_rows(per_label: int = PER_LABEL) -> list[dict]:
    """Rows from two corpus files, ``per_label`` of each label, with a post id and lang."""
    rows = []
    for path in sorted(TRAINING_DATA.glob("p0[45]_*.jsonl")):
        rows += [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x]
    rng = random.Random(0)
    rng.shuffle(rows)
    picked = {label: [r for r in rows if r["label"] == label][:per_label] for label in LABELS}
    out = [{"text": r["text"], "label": r["label"].upper() if i % 7 == 0 else r["label"],
            "lang": r.get("lang"), "post": f"post-{i % 12}"}
           for i, r in enumerate(r for label in LABELS for r in picked[label])]
    rng.shuffle(out)
    return out


def _write(path, rows: list[dict], extra: list[str] = ()) -> None:
    lines = [json.dumps(r, ensure_ascii=False) for r in rows]
    path.write_text("\n".join([*lines, *extra]) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One training run, two files, C chosen among two values, grouped folds."""
    folder = tmp_path_factory.mktemp("train")
    rows = _labeled_rows()
    first, second = folder / "a.jsonl", folder / "b.jsonl"
    # line 3 of b.jsonl repeats a text of a.jsonl with another label
    clash = {**rows[0], "label": next(x for x in LABELS if x != rows[0]["label"].lower())}
    _write(first, rows[:100], ['{"text": "meh", "label": "unclear"}', "{oops"])
    _write(second, [*rows[100:102], clash, *rows[102:]])
    result = run("train", str(first), str(second), "--version", "1.0.0", "--name", "mine",
                 "--out", str(folder / "models"), "--group-field", "post", "--C", "0.5", "2",
                 *FAST)
    return folder, result, len(rows) + 1


def test_train_saves_a_model_that_loads_and_predicts(trained):
    folder, result, used = trained
    assert result.returncode == 0, result.stderr
    target = folder / "models" / "mine-v1.0.0"
    assert f"saved {target}" in result.stdout
    assert sorted(p.name for p in (folder / "models").iterdir()) == ["mine-v1.0.0"]
    assert {p.name for p in target.iterdir()} == {"model.joblib", "model.npz", "meta.json",
                                                  "README.md"}
    model = commentqa.load_model(target)
    assert tuple(model.labels) == LABELS
    assert set(model.predict(["where is this from?", "🔥🔥🔥"])) <= set(LABELS)
    assert model.predict_proba(["ok"]).shape == (1, 4)

    meta = json.loads((target / "meta.json").read_text(encoding="utf-8"))
    data = meta["training_data"]
    assert data["files"] == ["a.jsonl", "b.jsonl"] and len(data["sha256"]) == 64
    assert data["rows"] == used and data["rows_skipped"] == 2
    assert sum(data["labels"].values()) == used
    assert data["groups"] == 12 and data["conflicting_texts"] == 1
    assert data["repeated_texts"] == 1
    cv = meta["cross_validation"]
    assert cv["folds"] == 2 and cv["scheme"] == "GroupKFold by group"
    assert set(cv["per_class"]) == set(LABELS) and 0 < cv["macro_f1"] <= 1
    assert sum(map(sum, cv["confusion"])) == used
    assert meta["trained_with"].startswith("commentqa train ")
    assert meta["params"]["calibration"] == "temperature"  # the default, as the shipped model

    card = (target / "README.md").read_text(encoding="utf-8")
    for heading in ("Intended use", "Training data", "Metrics", "Known limits"):
        assert heading in card
    assert "development set" not in card and "a.jsonl, b.jsonl" in card


def test_the_trained_model_scores_a_dump(trained, tmp_path):
    folder, _, _ = trained
    target = folder / "models" / "mine-v1.0.0"
    result = run("score", str(FIXTURES / "comments.jsonl"), "--out", str(tmp_path / "scored"),
                 "--model", str(target), "--quiet")
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "scored" / "summary.json").read_text(encoding="utf-8"))
    assert (summary["model"]["name"], summary["model"]["version"]) == ("mine", "1.0.0")
    assert summary["rows_scored"] + summary["rows_rejected"] == summary["rows_read"] > 0


def test_the_best_C_by_cross_validation_is_kept(trained):
    folder, result, _ = trained
    meta = json.loads((folder / "models" / "mine-v1.0.0" / "meta.json").read_text("utf-8"))
    candidates = meta["params"]["C_candidates"]
    assert [c["C"] for c in candidates] == [0.5, 2.0]
    best = max(candidates, key=lambda c: c["macro_f1"])
    assert meta["params"]["C"] == best["C"]
    assert meta["cross_validation"]["macro_f1"] == best["macro_f1"]
    assert "cross-validating C=0.5" in result.stderr and "cross-validating C=2" in result.stderr


def test_skipped_rows_and_conflicts_are_reported(trained):
    _, result, used = trained
    assert f"{used} labeled comments of {used + 2} rows in 2 files" in result.stderr
    assert "a.jsonl line 101: label 'unclear' is not one of" in result.stderr
    assert "a.jsonl line 102: invalid JSON" in result.stderr
    assert "1 of the rows repeats the text of an earlier row" in result.stderr
    assert "1 of the texts is labeled differently" in result.stderr
    assert "b.jsonl line 3" in result.stderr


def test_an_existing_version_is_never_overwritten(trained):
    folder, _, _ = trained
    before = (folder / "models" / "mine-v1.0.0" / "model.joblib").stat().st_mtime_ns
    result = run("train", str(folder / "a.jsonl"), "--version", "1.0.0", "--name", "mine",
                 "--out", str(folder / "models"), *FAST)
    assert result.returncode == 2
    assert "exists; model versions are never overwritten" in result.stderr
    assert "Traceback" not in result.stderr
    assert (folder / "models" / "mine-v1.0.0" / "model.joblib").stat().st_mtime_ns == before


@pytest.mark.parametrize(("args", "message"), [
    (("--version", "one"), "is not a semantic version"),
    (("--version", "1.0.0", "--name", "../evil"), "model name '../evil'"),
    (("--version", "1.0.0", "--folds", "1"), "--folds 1"),
    (("--version", "1.0.0", "--folds", "0", "--C", "1", "4"), "needs cross-validation"),
    (("--version", "1.0.0", "--group-field", "nope"), "no row has a value in the group field"),
    (("--version", "1.0.0", "--group-field", "post", "--folds", "13"),
     "12 groups are too few for 13-fold"),
    (("--version", "1.0.0", "--word-ngrams", "1-3"),
     "the fast prediction path reads word n-grams of up to 2 words"),
    (("--version", "1.0.0", "--folds", "500"), "--folds 500: more folds than the 180 rows"),
])
def test_user_mistakes_are_one_line_errors(tmp_path, capsys, args, message):
    data = tmp_path / "mine.jsonl"
    _write(data, _labeled_rows())
    assert cli.main(["train", str(data), "--out", str(tmp_path / "models"), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.strip().splitlines()[-1].startswith("commentqa: error: ")
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())


def test_a_label_with_too_few_rows_is_refused(tmp_path):
    rows = [r for r in _labeled_rows() if r["label"].lower() != "spam"]
    rows += [r for r in _labeled_rows() if r["label"].lower() == "spam"][:3]
    data = tmp_path / "mine.jsonl"
    _write(data, rows)
    result = run("train", str(data), "--version", "1.0.0", "--out", str(tmp_path), *FAST)
    assert result.returncode == 2
    assert (f"every label needs at least {training.MIN_ROWS_PER_LABEL} rows to train and "
            "calibrate a model; too few: spam 3") in result.stderr


def test_no_cross_validation_and_a_csv_input(tmp_path, capsys):
    data = tmp_path / "mine.csv"
    rows = _labeled_rows(per_label=15)
    data.write_text("text;label\n" + "".join(
        f'"{r["text"].replace(chr(34), chr(34) * 2)}";{r["label"]}\n' for r in rows),
        encoding="utf-8")
    code = cli.main(["train", str(data), "--version", "0.1.0", "--out", str(tmp_path / "m"),
                     "--folds", "0", "--C", "1", "--quiet", "--no-record-command"])
    assert code == 0
    target = tmp_path / "m" / "commentqa-custom-v0.1.0"
    assert capsys.readouterr().out.strip() == f"saved {target} (C=1; not cross-validated)"
    meta = json.loads((target / "meta.json").read_text(encoding="utf-8"))
    assert meta["cross_validation"] is None and meta["params"]["C_candidates"] == []
    assert meta["trained_with"] is None and meta["training_data"]["rows"] == len(rows)
    assert "Not cross-validated." in (target / "README.md").read_text(encoding="utf-8")
    commentqa.load_model(target)


def test_a_failed_save_leaves_nothing_behind(tmp_path, monkeypatch):
    data = tmp_path / "mine.jsonl"
    _write(data, _labeled_rows(per_label=15))

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(training, "write_model_card", full_disk)
    parts = [read_labeled(data)]
    with pytest.raises(InputError, match=r"cannot write the model there \(No space left"):
        training.train_model(training.TrainingData.from_files(parts), tmp_path / "models",
                             name="m", version="1.0.0", C=[1.0], folds=0)
    assert list((tmp_path / "models").iterdir()) == []


def test_an_output_that_is_a_file_is_a_one_line_error(tmp_path):
    data = tmp_path / "mine.jsonl"
    _write(data, _labeled_rows(per_label=15))
    blocker = tmp_path / "models"
    blocker.write_text("not a folder", encoding="utf-8")
    result = run("train", str(data), "--version", "1.0.0", "--out", str(blocker),
                 "--folds", "0", "--C", "1")
    assert result.returncode == 2
    assert "exists and is not a folder" in result.stderr  # said before any fitting
    assert "cross-validating" not in result.stderr and "fitting" not in result.stderr
    assert "Traceback" not in result.stderr


def test_train_model_from_texts_in_memory(tmp_path):
    rows = _labeled_rows(per_label=15)
    texts = [r["text"] for r in rows] + [rows[0]["text"]]
    gold = [r["label"].lower() for r in rows] + ["spam" if rows[0]["label"].lower() != "spam"
                                                 else "reaction"]
    data = training.TrainingData(texts=texts, gold=gold)
    assert data.repeats() == (1, [(("", 1), ("", len(texts)))])
    result = training.train_model(data, tmp_path, name="mem", version="2.0.0", C=[1.0, 4.0],
                                  folds=2, jobs=1)
    assert result.path == tmp_path / "mem-v2.0.0" and result.C in (1.0, 4.0)
    assert [c["C"] for c in result.candidates] == [1.0, 4.0]
    meta = json.loads((result.path / "meta.json").read_text(encoding="utf-8"))
    assert meta["training_data"]["files"] == [] and meta["training_data"]["groups"] is None
    assert meta["cross_validation"]["scheme"] == "StratifiedKFold, shuffled"
    assert commentqa.load_model(result.path).predict(["wow"])[0] in LABELS


def test_row_weights_reach_the_fit_and_bad_ones_are_skipped(tmp_path, capsys):
    rows = _labeled_rows(per_label=15)
    data = tmp_path / "weighted.jsonl"
    heavy = [{**r, "weight": 20} if i % 3 == 0 else r for i, r in enumerate(rows)]
    _write(data, heavy, ['{"text": "x", "label": "spam", "weight": -1}',
                         '{"text": "y", "label": "spam", "weight": "lots"}'])
    plain = tmp_path / "plain.jsonl"
    _write(plain, rows)
    for path, version, extra in ((data, "1.0.0", ["--weight-field", "weight"]),
                                 (plain, "1.0.1", [])):
        assert cli.main(["train", str(path), "--version", version, "--out", str(tmp_path),
                         "--folds", "2", "--jobs", "1", "--C", "1", *extra]) == 0
    err = capsys.readouterr().err
    assert "weight '-1' in field 'weight' is not a positive number" in err
    assert "weight 'lots' in field 'weight' is not a positive number" in err
    weighted = tmp_path / "commentqa-custom-v1.0.0"
    meta = json.loads((weighted / "meta.json").read_text(encoding="utf-8"))
    n_heavy = len(rows[::3])
    assert meta["training_data"]["weights"] == {"sum": 20.0 * n_heavy + len(rows) - n_heavy,
                                                "min": 1.0, "max": 20.0}
    assert meta["training_data"]["rows_skipped"] == 2
    assert "row weights in the fit" in (weighted / "README.md").read_text(encoding="utf-8")
    texts = [r["text"] for r in rows]
    a = commentqa.load_model(weighted).predict_proba(texts)
    b = commentqa.load_model(tmp_path / "commentqa-custom-v1.0.1").predict_proba(texts)
    assert abs(a - b).max() > 0.05  # the weights changed the model


def _train_small(tmp_path, *options: str):
    """Train on 60 rows with ``options``; the data file, model folder and its meta."""
    data = tmp_path / "mine.jsonl"
    _write(data, _labeled_rows(per_label=15))
    result = run("train", str(data), "--version", "1.0.0", "--out", str(tmp_path), "--C", "1",
                 *options, *FAST)
    assert result.returncode == 0, result.stderr
    target = tmp_path / "commentqa-custom-v1.0.0"
    return data, target, json.loads((target / "meta.json").read_text(encoding="utf-8"))


def test_ngram_ranges_reach_the_fit_the_record_the_card_and_the_fast_path(tmp_path):
    data, target, meta = _train_small(tmp_path, "--word-ngrams", "1-1", "--char-ngrams", "3-4")
    assert meta["params"]["word_ngrams"] == [1, 1] and meta["params"]["char_ngrams"] == [3, 4]
    model = commentqa.load_model(target)
    named = model.pipeline.named_steps["features"].named_transformers_
    assert named["words"].ngram_range == (1, 1) and named["chars"].ngram_range == (3, 4)
    assert all(" " not in term for term in named["words"].vocabulary_)  # no bigram column
    assert all(3 <= len(gram) <= 4 for gram in named["chars"].vocabulary_)
    assert model._compiled is not None  # predicted by the fast path, as the pipeline does
    texts = [json.loads(x)["text"] for x in data.read_text(encoding="utf-8").splitlines()]
    order = [list(model.pipeline.classes_).index(label) for label in model.labels]
    np.testing.assert_allclose(model.predict_proba(texts),
                               model.pipeline.predict_proba(texts)[:, order], rtol=0, atol=1e-9)
    card = (target / "README.md").read_text(encoding="utf-8")
    assert "word 1-1-gram TF-IDF + within-word character 3-4-gram TF-IDF" in card

    bad = run("train", str(data), "--version", "1.0.1", "--out", str(tmp_path),
              "--char-ngrams", "5-2")
    assert bad.returncode == 2 and "expected 1 <= LOW <= HIGH, got '5-2'" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_emoji_variants_reach_the_fit_and_the_record(tmp_path):
    data, target, meta = _train_small(tmp_path, "--emoji-variants", "0.5")
    assert meta["params"]["emoji_rate"] == 0.5
    assert 0 < meta["training_data"]["emoji_variants"] <= meta["training_data"]["rows"]
    assert meta["cross_validation"]["emoji_variants"]["rate"] == 0.5
    assert 0 <= meta["cross_validation"]["emoji_appended"]["changed"] <= 1
    card = (target / "README.md").read_text(encoding="utf-8")
    assert "Trained with emoji variants: 50% of the rows" in card
    assert "with an emoji appended" in card

    bad = run("train", str(data), "--version", "1.0.1", "--out", str(tmp_path),
              "--emoji-variants", "2")
    assert bad.returncode == 2 and "must be between 0 and 1, got 2" in bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.mark.parametrize(("calibration", "card_says"), [
    ("sigmoid", "calibrated by Platt scaling of each class"),
    ("temperature", "calibrated by temperature scaling"),
])
def test_calibration_reaches_the_fit_the_record_and_the_compiled_arrays(tmp_path, calibration,
                                                                         card_says):
    _, target, meta = _train_small(tmp_path, "--calibration", calibration)
    assert meta["params"]["calibration"] == calibration
    assert meta["compiled_file"] == "model.npz"  # the fast path mirrors both
    cv = meta["cross_validation"]
    assert cv["log_loss"] > 0 and 0 <= cv["brier"] <= 2
    model = commentqa.load_model(target)
    assert model._compiled is not None
    assert model.pipeline.named_steps["classifier"].method == calibration
    card = (target / "README.md").read_text(encoding="utf-8")
    assert card_says in card and "log loss" in card


def test_grouped_folds_that_starve_a_label_are_one_line(tmp_path, capsys):
    """Spam in two posts only: some training part of 5 folds by post holds too little."""
    rows = _labeled_rows()
    spam = [r for r in rows if r["label"].lower() == "spam"]
    for i, r in enumerate(spam):
        r["post"] = "spam-a" if i < len(spam) - 3 else "spam-b"
    data = tmp_path / "mine.jsonl"
    _write(data, rows)
    code = cli.main(["train", str(data), "--out", str(tmp_path / "models"), "--version",
                     "1.0.0", "--group-field", "post", "--folds", "5", "--jobs", "1"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("commentqa: error: fold ") and "'spam' rows (its rows sit in 2 " \
        "groups), and calibrating needs 5" in err
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())


@pytest.mark.parametrize("text", ["2-", "-", "a-b", "0-2", "5-2"])
def test_ngram_range_text_needs_both_ends(text):
    with pytest.raises(ValueError, match="expected"):
        training.parse_ngram_range(text)


@pytest.mark.parametrize(("args", "message"), [
    (("train", "x.jsonl", "--version", "1.0.0", "--seed", "-1"),
     "argument --seed: must be between 0 and 4294967295, got -1"),
    (("train", "x.jsonl", "--version", "1.0.0", "--seed", "99999999999"),
     "argument --seed: must be between 0 and 4294967295"),
    (("evaluate", "x.jsonl", "--seed", "-1"), "argument --seed: must be between 0"),
    (("train", "x.jsonl", "--version", "1.0.0", "--C", "0"),
     "argument --C: must be a positive finite number, got 0"),
    (("train", "x.jsonl", "--version", "1.0.0", "--C", "inf"),
     "argument --C: must be a positive finite number, got inf"),
    (("train", "x.jsonl", "--version", "1.0.0", "--emoji-variants", "abc"),
     "argument --emoji-variants: expected a number, got 'abc'"),
])
def test_out_of_range_options_are_usage_errors(capsys, args, message):
    with pytest.raises(SystemExit) as done:
        cli.main(list(args))
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_fewer_rows_of_a_label_than_folds_is_a_note_not_a_warning(tmp_path, capsys):
    rows = [r for r in _labeled_rows() if r["label"].lower() != "spam"]
    rows += [r for r in _labeled_rows() if r["label"].lower() == "spam"][:12]
    data = tmp_path / "few.jsonl"
    _write(data, rows)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert cli.main(["train", str(data), "--out", str(tmp_path / "m"), "--version",
                         "1.0.0", "--folds", "13", "--C", "4"]) == 0
    assert not [w for w in caught if "least populated" in str(w.message)]
    err = capsys.readouterr().err
    assert "note: 'spam' has 12 rows, fewer than the 13 folds: some folds test none of it" in err
