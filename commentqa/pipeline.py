"""The default classification pipeline: prepare -> features -> calibrated linear model."""

from __future__ import annotations

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from .features import CHAR_NGRAMS, WORD_NGRAMS, CommentPreparer, build_features
from .linear import DEFAULT_CALIBRATION

__all__ = ["LabelArrayCalibratedCV", "build_pipeline"]


class LabelArrayCalibratedCV(CalibratedClassifierCV):
    """scikit-learn's ``CalibratedClassifierCV``, fitted on the labels as an array.

    Its temperature scaling reads ``y[0]``: with a pandas Series whose index has no 0 (a
    cross-validation fold of a frame's column, as ``GridSearchCV`` passes) that is a
    ``KeyError``, and every such fold failed. Parameters and behaviour are otherwise its own.
    """

    def fit(self, X, y, sample_weight=None, **fit_params):
        return super().fit(X, np.asarray(y), sample_weight=sample_weight, **fit_params)


def build_pipeline(*, C: float = 4.0, calibration: str = DEFAULT_CALIBRATION,
                   calibration_cv: int = 5, min_df: int = 2,
                   word_ngrams: tuple[int, int] = WORD_NGRAMS,
                   char_ngrams: tuple[int, int] = CHAR_NGRAMS,
                   random_state: int = 0) -> Pipeline:
    """A fresh, unfitted pipeline; every step's parameters are reachable by ``set_params``.

    ``C`` is the inverse L2 strength of the multinomial logistic regression. Probabilities are
    calibrated on ``calibration_cv`` folds by ``calibration``: ``"temperature"`` (one
    temperature for all classes; keeps the regression's own argmax), ``"sigmoid"`` (Platt
    scaling of each class, renormalised) or ``"isotonic"``. The final linear model is refitted
    on all data (``ensemble=False``) so prediction costs one model. ``word_ngrams`` and
    ``char_ngrams`` are the (low, high) n-gram ranges of the word and within-word character
    TF-IDF blocks; the fast prediction path reads word n-grams up to bigrams.
    """
    linear = LogisticRegression(C=C, max_iter=3000, random_state=random_state)
    return Pipeline(
        [
            ("prepare", CommentPreparer()),
            ("features", build_features(word_ngrams=word_ngrams, char_ngrams=char_ngrams,
                                        min_df=min_df)),
            ("classifier", LabelArrayCalibratedCV(linear, method=calibration,
                                                  cv=calibration_cv, ensemble=False)),
        ]
    )
