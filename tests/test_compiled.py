"""The compiled prediction arrays (model.npz): same predictions, no pickle, no scikit-learn."""

from __future__ import annotations

import json
import pickle
import random
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import commentqa
from commentqa.compiled import COMPILED_FILE, compile_pipeline, load_compiled, save_compiled
from commentqa.model import CommentModel
from commentqa.persistence import (
    DEFAULT_MODEL,
    ModelLoadError,
    default_model_path,
    file_sha256,
    save_model,
)

ODD_TEXTS = ["", " ", "🔥🔥🔥", "👩‍💻 👏🏽 🇧🇷", "where is this dress from??", "link pls",
             "Love it&#39;s color<br />@ana.b https://bit.ly/x #OOTD 25€", "很好看！😂",
             "check my page for followers!!! DM us to collab", "soooo prettyyyy", "a\tb\nc",
             "x" * 5000, "¿Dónde lo compraste? RM45 5k", "\ud800 lone surrogate"]


@pytest.fixture
def model_copy(tmp_path) -> Path:
    target = tmp_path / DEFAULT_MODEL
    shutil.copytree(default_model_path(), target)
    return target


def _flip_a_byte(path: Path, at: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    data[int(len(data) * at)] ^= 0xFF
    path.write_bytes(bytes(data))


def _rewrite_meta(folder: Path, **fields) -> None:
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    meta.update(fields)
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")


def test_shipped_model_has_compiled_arrays_vouched_for_by_meta(model):
    folder = default_model_path()
    assert model.meta["compiled_file"] == COMPILED_FILE
    assert file_sha256(folder / COMPILED_FILE) == model.meta["compiled_sha256"]
    assert (folder / COMPILED_FILE).stat().st_size < 20 * 1024 * 1024


def test_compiled_predictions_equal_the_pipeline(model, training_rows):
    texts = [r["text"] for r in random.Random(7).sample(training_rows, 3000)] + ODD_TEXTS
    texts += [f"{t} @someone{i}" for i, t in enumerate(texts[:500])]  # unseen tokens
    from_pipeline = CommentModel(model.pipeline, model.meta)
    assert model._compiled is not None
    expected = model.pipeline.predict_proba(texts)[:, from_pipeline._order]
    np.testing.assert_allclose(model.predict_proba(texts), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(from_pipeline.predict_proba(texts), expected, rtol=0, atol=1e-12)
    assert model.predict(texts) == from_pipeline.predict(texts)


def test_loading_and_predicting_import_no_scikit_learn_or_pandas(tmp_path):
    code = (
        "import sys, commentqa\n"
        "m = commentqa.load_model()\n"
        "assert m.predict(['where is this from?', '🔥🔥🔥']) == ['question', 'reaction']\n"
        "heavy = ('sklearn', 'joblib', 'scipy.stats', 'pandas', 'pyarrow')\n"
        "print(sorted(k for k in heavy if k in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, check=True)
    assert done.stdout.strip() == "[]"


def test_pipeline_is_loaded_on_demand_and_checked_again(model_copy):
    loaded = commentqa.load_model(model_copy)
    assert loaded._pipeline is None
    loaded.predict(["nice"])
    assert loaded._pipeline is None  # predicting needs no pipeline
    _flip_a_byte(model_copy / "model.joblib")
    with pytest.raises(ModelLoadError, match=r"SHA-256 .* does not match"):
        loaded.pipeline  # noqa: B018 - the file changed after loading: refused


def test_explain_loads_the_pipeline(model_copy):
    loaded = commentqa.load_model(model_copy)
    assert loaded.explain("where can I buy this dress?")
    assert loaded._pipeline is not None


def test_tampered_or_missing_compiled_file_is_refused(model_copy):
    path = model_copy / COMPILED_FILE
    _flip_a_byte(path)
    with pytest.raises(ModelLoadError, match=r"model\.npz: its SHA-256 .* does not match"):
        commentqa.load_model(model_copy)
    path.unlink()
    with pytest.raises(ModelLoadError, match=r"model\.npz not found"):
        commentqa.load_model(model_copy)


def test_tampered_pipeline_is_refused_even_when_compiled_arrays_are_intact(model_copy):
    _flip_a_byte(model_copy / "model.joblib", at=0.3)
    with pytest.raises(ModelLoadError, match=r"model\.joblib: its SHA-256"):
        commentqa.load_model(model_copy)


def test_a_file_of_another_layout_is_a_clear_error(model_copy):
    path = model_copy / COMPILED_FILE
    np.savez(path, layout=np.array([99]))  # the name ends in .npz: kept as it is
    _rewrite_meta(model_copy, compiled_sha256=file_sha256(path))
    with pytest.raises(ModelLoadError, match=r"model\.npz is not a compiled commentqa model: "
                       r"its layout is \[99\]; this version of commentqa reads layouts 1 and 2"):
        commentqa.load_model(model_copy)


def test_both_layouts_are_read_and_the_default_model_is_written_in_the_newer(model):
    layout_of = {}
    for folder in sorted(default_model_path().parent.iterdir()):
        if not (folder / COMPILED_FILE).is_file():  # v1.1.1: its pipeline only
            continue
        with np.load(folder / COMPILED_FILE) as npz:
            layout_of[folder.name] = (int(npz["layout"][0]),
                                      any(f.startswith("temperature_") for f in npz.files))
        assert commentqa.load_model(folder).predict(["link pls"]) == ["question"]
    assert layout_of[DEFAULT_MODEL] == (2, True)  # temperature arrays need layout 2
    assert layout_of["commentqa-multi-v1.2.0"] == (1, False)  # per-class sigmoid
    assert compile_pipeline(model.pipeline)["layout"].tolist() == [2]


def test_a_file_that_is_no_archive_is_a_clear_error(model_copy):
    path = model_copy / COMPILED_FILE
    path.write_bytes(b"PK\x03\x04 not really a zip archive")
    _rewrite_meta(model_copy, compiled_sha256=file_sha256(path))
    with pytest.raises(ModelLoadError, match="not a compiled commentqa model"):
        commentqa.load_model(model_copy)


def test_folder_without_compiled_arrays_loads_its_pipeline(model_copy, model):
    (model_copy / COMPILED_FILE).unlink()
    meta = json.loads((model_copy / "meta.json").read_text(encoding="utf-8"))
    del meta["compiled_file"], meta["compiled_sha256"]
    (model_copy / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    loaded = commentqa.load_model(model_copy)
    assert loaded._compiled is None and loaded._pipeline is not None
    np.testing.assert_allclose(loaded.predict_proba(ODD_TEXTS), model.predict_proba(ODD_TEXTS),
                               rtol=0, atol=1e-12)


def test_pickled_compiled_model_carries_its_pipeline(model_copy):
    loaded = commentqa.load_model(model_copy)
    clone = pickle.loads(pickle.dumps(loaded))
    shutil.rmtree(model_copy)  # the clone needs no file
    assert clone._pipeline is not None
    np.testing.assert_array_equal(clone.predict_proba(ODD_TEXTS), loaded.predict_proba(ODD_TEXTS))


@pytest.mark.parametrize("calibration", ["sigmoid", "temperature"])
def test_save_model_writes_compiled_arrays(small_training_set, tmp_path, calibration):
    pipe = commentqa.build_pipeline(C=1.0, calibration=calibration, calibration_cv=3)
    pipe.fit(*small_training_set)
    folder = save_model(pipe, tmp_path, name="t", version="1")
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    assert meta["compiled_sha256"] == file_sha256(folder / COMPILED_FILE)
    loaded = commentqa.load_model(folder)
    assert loaded._compiled is not None
    np.testing.assert_allclose(loaded.predict_proba(ODD_TEXTS),
                               CommentModel(pipe).predict_proba(ODD_TEXTS), rtol=0, atol=1e-12)


def test_pipelines_it_cannot_mirror_are_saved_without_arrays(small_training_set, tmp_path):
    pipe = commentqa.build_pipeline(C=1.0, calibration_cv=3)
    pipe.set_params(classifier__method="isotonic").fit(*small_training_set)
    assert compile_pipeline(pipe) is None
    folder = save_model(pipe, tmp_path, name="iso", version="1")
    assert not (folder / COMPILED_FILE).exists()
    loaded = commentqa.load_model(folder)
    assert loaded._compiled is None
    assert len(loaded.predict(ODD_TEXTS)) == len(ODD_TEXTS)


def test_round_trip_of_the_arrays(model, tmp_path):
    arrays = compile_pipeline(model.pipeline)
    assert arrays is not None
    save_compiled(arrays, tmp_path / COMPILED_FILE)
    compiled = load_compiled(tmp_path / COMPILED_FILE)
    assert compiled.words.vocabulary_ == model.pipeline.named_steps["features"] \
        .named_transformers_["words"].vocabulary_
    chars = model.pipeline.named_steps["features"].named_transformers_["chars"]
    assert compiled.chars.word_index_ == chars.word_index_
    assert (compiled.chars.word_ngrams_ != chars.word_ngrams_).nnz == 0
