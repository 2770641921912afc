"""The default classification pipeline: prepare -> features -> calibrated linear model."""

from __future__ import annotations

from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from .features import CommentPreparer, build_features

__all__ = ["build_pipeline"]


def build_pipeline(*, C: float = 4.0, calibration_cv: int = 5, min_df: int = 2,
                   random_state: int = 0) -> Pipeline:
    """A fresh, unfitted pipeline; every step's parameters are reachable by ``set_params``.

    ``C`` is the inverse L2 strength of the multinomial logistic regression; probabilities
    are calibrated with Platt scaling fitted on ``calibration_cv`` folds, and the final
    linear model is refitted on all data (``ensemble=False``) so prediction costs one model.
    """
    linear = LogisticRegression(C=C, max_iter=3000, random_state=random_state)
    return Pipeline(
        [
            ("prepare", CommentPreparer()),
            ("features", build_features(min_df=min_df)),
            ("classifier", CalibratedClassifierCV(linear, method="sigmoid", cv=calibration_cv,
                                                  ensemble=False)),
        ]
    )
