"""Saving and loading versioned model artifacts.

An artifact is a folder ``<name>-v<version>/`` holding ``model.joblib`` (the fitted
pipeline), ``meta.json`` (labels, library versions, the model file's and training
data's SHA-256, metrics, creation time) and a model card ``README.md``. Loading checks
the model file's SHA-256 against ``meta.json`` *before* unpickling and refuses a
mismatch: a pickle can run code, so only the file the metadata vouches for is opened.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Sequence
from datetime import datetime, timezone
from importlib import metadata, resources
from pathlib import Path

import joblib
from sklearn.pipeline import Pipeline

from .labels import LABELS
from .model import CommentModel

__all__ = [
    "DEFAULT_MODEL", "ModelLoadError", "ModelVersionWarning", "default_model_path",
    "file_sha256", "files_sha256", "library_versions", "load_model", "save_model",
]

#: Folder name of the model shipped with the package.
DEFAULT_MODEL = "commentqa-multi-v1.2.0"
MODEL_FILE = "model.joblib"
META_FILE = "meta.json"
#: Libraries whose versions are recorded and checked: the pickle depends on them.
TRACKED_LIBRARIES = ("scikit-learn", "numpy", "scipy", "emoji", "pandas")
_CHUNK = 1 << 20


class ModelLoadError(RuntimeError):
    """A model artifact is missing, incomplete, tampered with or of the wrong kind."""


class ModelVersionWarning(UserWarning):
    """The running libraries differ from those the model was saved with."""


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def files_sha256(paths: Sequence[str | os.PathLike]) -> str:
    """One digest over files' names and bytes, in the order given: a training data's id."""
    digest = hashlib.sha256()
    for path in map(Path, paths):
        digest.update(path.name.encode() + b"\0")
        with open(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    versions = {}
    for lib in ("commentqa", *TRACKED_LIBRARIES):
        try:
            versions[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            versions[lib] = "unknown"
    return versions


def default_model_path() -> Path:
    """The shipped model's folder: inside the installed package, else the source tree."""
    packaged = resources.files("commentqa") / "models" / DEFAULT_MODEL
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "models" / DEFAULT_MODEL


def save_model(pipeline: Pipeline, directory: str | os.PathLike, *, name: str, version: str,
               extra_meta: dict | None = None, overwrite: bool = False) -> Path:
    """Write ``pipeline`` and its metadata to ``directory/<name>-v<version>/``."""
    target = Path(directory) / f"{name}-v{version}"
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; model versions are never overwritten")
    target.mkdir(parents=True, exist_ok=True)
    model_path = target / MODEL_FILE
    joblib.dump(pipeline, model_path, compress=3)
    meta = {
        "name": name,
        "version": version,
        "labels": list(LABELS),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model_file": MODEL_FILE,
        "model_sha256": file_sha256(model_path),
        "libraries": library_versions(),
        **(extra_meta or {}),
    }
    (target / META_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n",
                                    encoding="utf-8")
    return target


def _read_meta(folder: Path) -> dict:
    meta_path = folder / META_FILE
    if not meta_path.is_file():
        raise ModelLoadError(f"{meta_path} not found: a model folder needs {META_FILE}")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"{meta_path} is not valid JSON: {exc}") from None
    for key in ("model_sha256", "labels", "libraries"):
        if key not in meta:
            raise ModelLoadError(f"{meta_path} lacks the field {key!r}")
    if list(meta["labels"]) != list(LABELS):
        raise ModelLoadError(f"{meta_path}: labels {meta['labels']} are not {list(LABELS)}")
    return meta


def _check_versions(meta: dict, where: Path) -> None:
    running = library_versions()
    for lib in TRACKED_LIBRARIES:
        saved = meta["libraries"].get(lib)
        now = running.get(lib)
        if saved and now and saved.split(".")[:2] != now.split(".")[:2]:
            warnings.warn(
                f"{where} was saved with {lib} {saved}, running {now}: predictions may "
                "differ or loading may fail; retrain or install the recorded version",
                ModelVersionWarning, stacklevel=3,
            )


def load_model(path: str | os.PathLike | None = None) -> CommentModel:
    """Load a model folder (or its ``model.joblib``); the shipped model when ``path`` is None.

    Raises :class:`ModelLoadError` when the folder is incomplete, the metadata is
    invalid, or the model file's SHA-256 differs from the one in ``meta.json``.
    """
    folder = default_model_path() if path is None else Path(path)
    if folder.is_file():
        folder = folder.parent
    if not folder.is_dir():
        raise ModelLoadError(f"model folder {folder} not found")
    meta = _read_meta(folder)
    model_path = folder / meta.get("model_file", MODEL_FILE)
    if not model_path.is_file():
        raise ModelLoadError(f"{model_path} not found")
    actual = file_sha256(model_path)
    if actual != meta["model_sha256"]:
        raise ModelLoadError(
            f"refusing to load {model_path}: its SHA-256 {actual[:16]}... does not match "
            f"{meta['model_sha256'][:16]}... recorded in {folder / META_FILE}; the file was "
            "modified or replaced"
        )
    _check_versions(meta, folder)
    pipeline = joblib.load(model_path)
    if not isinstance(pipeline, Pipeline) or not hasattr(pipeline, "classes_"):
        raise ModelLoadError(f"{model_path} does not hold a fitted commentqa pipeline")
    return CommentModel(pipeline, meta)
