"""Model artifacts: the shipped default, metadata, hash check before unpickling."""

from __future__ import annotations

import json
import re
import shutil
import warnings
from pathlib import Path

import pytest

import commentqa
from commentqa.persistence import (
    DEFAULT_MODEL,
    ModelLoadError,
    ModelVersionWarning,
    default_model_path,
    file_sha256,
)


def test_default_model_loads_from_the_installed_package(model):
    path = default_model_path()
    assert path.name == DEFAULT_MODEL
    assert (path / "model.joblib").is_file()
    # Installed as a wheel, the model lives inside the package, not in the source tree.
    assert Path(commentqa.__file__).resolve().parent in path.resolve().parents
    assert model.meta["version"] in DEFAULT_MODEL


def test_meta_records_labels_versions_hashes_and_metrics(model):
    meta = model.meta
    assert meta["labels"] == list(model.labels)
    assert {"scikit-learn", "numpy", "scipy", "emoji"} <= set(meta["libraries"])
    assert len(meta["model_sha256"]) == 64 and len(meta["training_data"]["sha256"]) == 64
    assert 0.0 < meta["cross_validation"]["macro_f1"] <= 1.0
    assert set(meta["cross_validation"]["per_class"]) == set(model.labels)
    assert meta["created"]


def test_shipped_model_is_small():
    assert (default_model_path() / "model.joblib").stat().st_size < 20 * 1024 * 1024


def test_model_card_exists():
    card = (default_model_path() / "README.md").read_text(encoding="utf-8")
    for heading in ("Intended use", "Training data", "Metrics", "Known limits"):
        assert heading in card


@pytest.fixture
def model_copy(tmp_path) -> Path:
    target = tmp_path / DEFAULT_MODEL
    shutil.copytree(default_model_path(), target)
    return target


def test_tampered_model_is_refused_before_unpickling(model_copy):
    data = bytearray((model_copy / "model.joblib").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (model_copy / "model.joblib").write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match=r"SHA-256 .* does not match"):
        commentqa.load_model(model_copy)


def test_replaced_model_file_is_refused(model_copy, tmp_path):
    evil = tmp_path / "evil.joblib"
    evil.write_bytes(b"cos\nsystem\n(S'echo pwned'\ntR.")
    shutil.copy(evil, model_copy / "model.joblib")
    with pytest.raises(ModelLoadError, match="refusing to load"):
        commentqa.load_model(model_copy / "model.joblib")


def test_missing_meta_or_folder_is_a_clear_error(model_copy, tmp_path):
    with pytest.raises(ModelLoadError, match="not found"):
        commentqa.load_model(tmp_path / "nope")
    (model_copy / "meta.json").unlink()
    with pytest.raises(ModelLoadError, match=r"meta\.json"):
        commentqa.load_model(model_copy)


def test_library_version_mismatch_warns(model_copy):
    meta = json.loads((model_copy / "meta.json").read_text())
    meta["libraries"]["scikit-learn"] = "0.1.0"
    (model_copy / "meta.json").write_text(json.dumps(meta))
    with pytest.warns(ModelVersionWarning, match="scikit-learn 0.1.0"):
        commentqa.load_model(model_copy)


def test_matching_versions_load_quietly(model_copy):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = commentqa.load_model(model_copy)
    assert loaded.meta["model_sha256"] == file_sha256(model_copy / "model.joblib")


def test_save_never_overwrites_a_version(model, tmp_path):
    commentqa.save_model(model.pipeline, tmp_path, name="t", version="1.0.0")
    with pytest.raises(FileExistsError):
        commentqa.save_model(model.pipeline, tmp_path, name="t", version="1.0.0")
    again = commentqa.load_model(tmp_path / "t-v1.0.0")
    assert again.predict(["wow"]) == model.predict(["wow"])


@pytest.mark.parametrize(("field", "value", "message"), [
    ("libraries", "x", "'libraries' must map library names to version strings"),
    ("libraries", None, "'libraries' must map"),
    ("libraries", {"numpy": 2}, "'libraries' must map"),
    ("labels", None, "labels None are not"),
    ("model_sha256", 123, "'model_sha256' must be a non-empty string"),
    ("model_sha256", None, "'model_sha256' must be a non-empty string"),
    ("model_file", 5, "'model_file' must be a non-empty string"),
    ("compiled_file", 5, "'compiled_file' must be a non-empty string"),
    ("model_file", "../other/model.joblib", "'model_file' must be a file name in the folder"),
])
def test_malformed_meta_fields_are_a_model_load_error(model_copy, field, value, message):
    meta = json.loads((model_copy / "meta.json").read_text())
    meta[field] = value
    (model_copy / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ModelLoadError, match=re.escape(message)):
        commentqa.load_model(model_copy)


def test_save_model_refuses_what_load_model_would_refuse(model, tmp_path):
    unfitted = commentqa.build_pipeline()
    with pytest.raises(ValueError, match="expects a fitted scikit-learn Pipeline"):
        commentqa.save_model(unfitted, tmp_path, name="u", version="1.0.0")
    with pytest.raises(ValueError, match="expects a fitted scikit-learn Pipeline"):
        commentqa.save_model(model, tmp_path, name="obj", version="1.0.0")  # not the pipeline
    with pytest.raises(ValueError, match=re.escape("model name '../escape'")):
        commentqa.save_model(model.pipeline, tmp_path, name="../escape", version="1.0.0")
    with pytest.raises(ValueError, match=re.escape("model version '1/2'")):
        commentqa.save_model(model.pipeline, tmp_path, name="m", version="1/2")
    assert list(tmp_path.iterdir()) == []  # nothing written, no version used up


def test_save_model_refuses_other_classes(small_training_set, tmp_path):
    texts, labels = small_training_set
    keep = [i for i, y in enumerate(labels) if y != "spam"]
    three = commentqa.build_pipeline(calibration_cv=2).fit(
        [texts[i] for i in keep], [labels[i] for i in keep])
    with pytest.raises(ValueError, match="are not the commentqa labels"):
        commentqa.save_model(three, tmp_path, name="three", version="1.0.0")
    assert list(tmp_path.iterdir()) == []


def test_explain_is_safe_to_share_between_threads(model_copy):
    from concurrent.futures import ThreadPoolExecutor

    shared = commentqa.load_model(model_copy)
    texts = [f"comment {i}: where did you get the {w} one? {i * 7}"
             for i, w in enumerate(["blue", "red", "green", "tiny", "huge", "matte"] * 20)]
    alone = [commentqa.load_model(model_copy).explain(t) for t in texts[:6]]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(shared.explain, texts))
    assert [shared.explain(t) for t in texts[:6]] == alone
    with pytest.raises(ValueError, match="top must be a positive integer"):
        shared.explain("wow", top=0)
