"""commentqa: tells skin-deep comments from questions, conversation and spam.

>>> import commentqa
>>> model = commentqa.load_model()                          # doctest: +SKIP
>>> model.predict(["🔥🔥🔥", "where is this dress from?"])  # doctest: +SKIP
['reaction', 'question']
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .labels import LABELS
from .model import CommentModel, Prediction
from .persistence import ModelLoadError, ModelVersionWarning, load_model, save_model
from .signals import SIGNAL_NAMES, extract_signals

try:
    __version__ = version("commentqa")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

__all__ = [
    "LABELS",
    "SIGNAL_NAMES",
    "CommentModel",
    "ModelLoadError",
    "ModelVersionWarning",
    "Prediction",
    "__version__",
    "build_pipeline",
    "extract_signals",
    "load_model",
    "save_model",
]


def __getattr__(name: str):
    # build_pipeline needs scikit-learn: imported on first use, so that loading a model
    # and predicting (which need numpy and scipy only) start fast.
    if name == "build_pipeline":
        from .pipeline import build_pipeline

        return build_pipeline
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
