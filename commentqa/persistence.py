"""Saving and loading versioned model artifacts.

An artifact is a folder ``<name>-v<version>/`` holding ``model.joblib`` (the fitted
pipeline), ``model.npz`` (its prediction path as plain arrays, :mod:`commentqa.compiled`;
absent for pipelines it cannot mirror), ``meta.json`` (labels, library versions, the model
files' and training data's SHA-256, metrics, creation time) and a model card ``README.md``.
Loading checks every model file's SHA-256 against ``meta.json`` *before* reading it and
refuses a mismatch: a pickle can run code, so only the file the metadata vouches for is
opened. A model with ``model.npz`` predicts from it and unpickles its pipeline only when
the pipeline is asked for, checking the file again first.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Sequence
from datetime import datetime, timezone
from functools import partial
from importlib import metadata, resources
from pathlib import Path
from typing import TYPE_CHECKING

from .compiled import COMPILED_FILE, compile_pipeline, load_compiled, save_compiled
from .io import DIR_MODE, InputError
from .labels import LABELS
from .model import CommentModel

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

__all__ = [
    "DEFAULT_MODEL", "ModelLoadError", "ModelVersionWarning", "compile_model_file",
    "default_model_path", "file_sha256", "files_sha256", "library_versions", "load_model",
    "save_model",
]

#: Folder name of the model shipped with the package.
DEFAULT_MODEL = "commentqa-multi-v1.3.0"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_VERSION = re.compile(r"\d+\.\d+\.\d+(?:[-+.][0-9A-Za-z.]+)*\Z")
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
    """Write ``pipeline`` and its metadata to ``directory/<name>-v<version>/``.

    ``pipeline`` must be a fitted scikit-learn pipeline whose classes are the commentqa
    labels (what :func:`load_model` accepts); ``name`` and ``version`` become one folder name.
    The folder appears whole or not at all (written beside it, then renamed).
    """
    from sklearn.pipeline import Pipeline

    for what, part in (("name", name), ("version", version)):
        if not (isinstance(part, str) and _NAME.match(part)):
            raise InputError(f"model {what} {part!r}: use letters, digits, '.', '_' and '-', "
                             "starting with a letter or digit (it becomes a folder name)")
    classes = getattr(pipeline, "classes_", None)
    if not isinstance(pipeline, Pipeline) or classes is None:
        raise ValueError("save_model expects a fitted scikit-learn Pipeline (fit it first; "
                         f"got {type(pipeline).__name__})")
    if sorted(map(str, classes)) != sorted(LABELS):
        raise ValueError(f"the pipeline's classes {[str(c) for c in classes]} are not the "
                         f"commentqa labels {list(LABELS)}")
    target = Path(directory) / f"{name}-v{version}"
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; model versions are never overwritten")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        _write_model(pipeline, staging, name, version, extra_meta)
        if target.exists():  # overwrite=True
            shutil.rmtree(target)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def check_name(name: str, version: str) -> None:
    """Raise :class:`~commentqa.io.InputError` (a ValueError) unless ``name`` and
    ``version`` make a safe folder name."""
    if not (isinstance(name, str) and _NAME.match(name)):
        raise InputError(f"model name {name!r}: use letters, digits, '.', '_' and '-', "
                         "starting with a letter or digit")
    if not (isinstance(version, str) and _VERSION.match(version)):
        raise InputError(f"version {version!r} is not a semantic version such as 1.0.0")


def _write_model(pipeline: Pipeline, target: Path, name: str, version: str,
                 extra_meta: dict | None) -> None:
    import joblib

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
        **compile_model_file(pipeline, target),
        **(extra_meta or {}),
    }
    (target / META_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n",
                                    encoding="utf-8")
    os.chmod(target, DIR_MODE)  # mkdtemp's 0700 was for staging only


def compile_model_file(pipeline: Pipeline, folder: Path) -> dict[str, str]:
    """Write ``folder/model.npz`` for ``pipeline``; the ``meta.json`` fields that vouch for
    it, or none when the pipeline is not one :mod:`commentqa.compiled` mirrors."""
    arrays = compile_pipeline(pipeline)
    if arrays is None:
        return {}
    path = folder / COMPILED_FILE
    save_compiled(arrays, path)
    return {"compiled_file": COMPILED_FILE, "compiled_sha256": file_sha256(path)}


def _read_meta(folder: Path) -> dict:
    meta_path = folder / META_FILE
    if not meta_path.is_file():
        raise ModelLoadError(f"{meta_path} not found: a model folder needs {META_FILE}")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"{meta_path} is not valid JSON: {exc}") from None
    if not isinstance(meta, dict):
        raise ModelLoadError(f"{meta_path}: expected a JSON object")
    for key in ("model_sha256", "labels", "libraries"):
        if key not in meta:
            raise ModelLoadError(f"{meta_path} lacks the field {key!r}")
    if not isinstance(meta["labels"], list) or meta["labels"] != list(LABELS):
        raise ModelLoadError(f"{meta_path}: labels {meta['labels']} are not {list(LABELS)}")
    libraries = meta["libraries"]
    if not (isinstance(libraries, dict) and all(isinstance(v, str) for v in libraries.values())):
        raise ModelLoadError(f"{meta_path}: 'libraries' must map library names to version "
                             "strings")
    for key, required in (("model_sha256", True), ("compiled_sha256", False),
                          ("model_file", False), ("compiled_file", False)):
        value = meta.get(key)
        if (required or value is not None) and not (isinstance(value, str) and value):
            raise ModelLoadError(f"{meta_path}: {key!r} must be a non-empty string")
    for key in ("model_file", "compiled_file"):  # file names inside the folder, no paths
        name = meta.get(key)
        if name is not None and Path(name).name != name:
            raise ModelLoadError(f"{meta_path}: {key!r} must be a file name in the folder, "
                                 f"got {name!r}")
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
        if not (folder / META_FILE).is_file():
            raise ModelLoadError(f"{path} is a file, not a model folder (no {META_FILE} "
                                 "beside it); give the folder that holds model.joblib")
    if not folder.is_dir():
        raise ModelLoadError(f"model folder {folder} not found")
    meta = _read_meta(folder)
    model_path = folder / meta.get("model_file", MODEL_FILE)
    _check_file(model_path, meta["model_sha256"], folder)
    _check_versions(meta, folder)
    if not meta.get("compiled_file"):
        return CommentModel(_unpickle(model_path, meta["model_sha256"], folder), meta)
    compiled_path = folder / meta["compiled_file"]
    _check_file(compiled_path, meta.get("compiled_sha256", ""), folder)
    try:
        compiled = load_compiled(compiled_path)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise ModelLoadError(f"{compiled_path} is not a compiled commentqa model: {exc}") from None
    try:
        return CommentModel.from_compiled(
            compiled, meta, partial(_unpickle, model_path, meta["model_sha256"], folder))
    except ValueError as exc:
        raise ModelLoadError(f"{compiled_path}: {exc}") from None


def _check_file(path: Path, expected: str, folder: Path) -> None:
    """Refuse ``path`` unless its SHA-256 is the one ``meta.json`` records."""
    if not path.is_file():
        raise ModelLoadError(f"{path} not found")
    _refuse_unless(path, file_sha256(path), expected, folder)


def _refuse_unless(path: Path, actual: str, expected: str, folder: Path) -> None:
    if actual != expected:
        raise ModelLoadError(
            f"refusing to load {path}: its SHA-256 {actual[:16]}... does not match "
            f"{expected[:16] or 'none'}... recorded in {folder / META_FILE}; the file was "
            "modified or replaced"
        )


def _unpickle(model_path: Path, sha256: str, folder: Path) -> Pipeline:
    """The pipeline in ``model_path``, checked against ``sha256`` just before unpickling."""
    import joblib
    from sklearn.pipeline import Pipeline

    # The bytes hashed are the bytes unpickled: a file swapped after the check is not read.
    try:
        data = model_path.read_bytes()
    except OSError as exc:
        raise ModelLoadError(f"{model_path}: cannot read ({exc.strerror})") from None
    _refuse_unless(model_path, hashlib.sha256(data).hexdigest(), sha256, folder)
    pipeline = joblib.load(io.BytesIO(data))
    if not isinstance(pipeline, Pipeline) or not hasattr(pipeline, "classes_"):
        raise ModelLoadError(f"{model_path} does not hold a fitted commentqa pipeline")
    return pipeline
