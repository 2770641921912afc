"""Model artifacts: the shipped default, metadata, hash check before unpickling."""

from __future__ import annotations

import json
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
