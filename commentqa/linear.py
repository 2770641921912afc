"""The fitted classifier step as plain arrays: calibrated probabilities from feature blocks.

A :class:`~sklearn.calibration.CalibratedClassifierCV` over a
:class:`~sklearn.linear_model.LogisticRegression` computes ``X @ coef.T + intercept`` and
maps the decision values to probabilities: Platt scaling (or isotonic regression) of each
class's column, then renormalised, or temperature scaling of all columns at once.
:class:`CalibratedLinearHead` does the same from a :class:`~commentqa.featurizer.FeatureBlocks`,
so the word, character and signal blocks are scored where they are, never stacked into one
matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .featurizer import FeatureBlocks

__all__ = ["CALIBRATIONS", "DEFAULT_CALIBRATION", "CalibratedLinearHead", "PerClassCalibration",
           "SigmoidCalibrator", "TemperatureScaling"]

#: How a pipeline's probabilities can be calibrated (``CalibratedClassifierCV``'s ``method``).
CALIBRATIONS = ("temperature", "sigmoid", "isotonic")
#: The calibration the shipped model uses: the best log loss, Brier score and calibration
#: error in grouped cross-validation (``training/EXPERIMENTS.md``).
DEFAULT_CALIBRATION = "temperature"


@dataclass(frozen=True)
class SigmoidCalibrator:
    """Platt scaling of one class's decision values: ``1 / (1 + exp(a * d + b))``, as
    scikit-learn's fitted sigmoid calibrator computes it."""

    a: float
    b: float

    @classmethod
    def from_fitted(cls, calibrator) -> SigmoidCalibrator | None:
        """The same map as a fitted scikit-learn sigmoid calibrator (``a_``, ``b_``)."""
        a, b = getattr(calibrator, "a_", None), getattr(calibrator, "b_", None)
        if a is None or b is None or type(calibrator).__name__ != "_SigmoidCalibration":
            return None
        return cls(float(a), float(b))

    def predict(self, decision: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):  # exp overflows to inf: the probability is 0
            return 1.0 / (1.0 + np.exp(self.a * decision + self.b))


@dataclass(frozen=True)
class PerClassCalibration:
    """One calibrator per class column (Platt or isotonic), rows renormalised to sum to 1."""

    calibrators: tuple

    def predict_proba(self, decision: np.ndarray) -> np.ndarray:
        proba = np.column_stack([c.predict(decision[:, k])
                                 for k, c in enumerate(self.calibrators)])
        sums = proba.sum(axis=1, keepdims=True)
        # As scikit-learn does: where every calibrator says 0, each class gets 1/k.
        return np.divide(proba, sums, out=np.full_like(proba, 1.0 / proba.shape[1]),
                         where=sums != 0)


@dataclass(frozen=True)
class TemperatureScaling:
    """``softmax(beta * decision)``: one inverse temperature for every class, as scikit-learn's
    fitted temperature calibrator computes it. It keeps the linear model's argmax."""

    beta: float

    @classmethod
    def from_fitted(cls, calibrator) -> TemperatureScaling | None:
        """The same map as a fitted scikit-learn temperature calibrator (``beta_``)."""
        beta = getattr(calibrator, "beta_", None)
        if beta is None or type(calibrator).__name__ != "_TemperatureScaling":
            return None
        return cls(float(beta))

    def predict_proba(self, decision: np.ndarray) -> np.ndarray:
        scaled = self.beta * decision
        scaled -= scaled.max(axis=1, keepdims=True)  # exp never overflows
        proba = np.exp(scaled)
        return proba / proba.sum(axis=1, keepdims=True)


class CalibratedLinearHead:
    """Calibrated multinomial logistic regression, scored block by block.

    Probabilities equal ``classifier.predict_proba(matrix)`` (to float rounding), columns in
    ``classifier.classes_`` order. Build one with :meth:`from_classifier`.
    """

    def __init__(self, members: list[tuple[np.ndarray, np.ndarray, object]], n_features: int):
        #: (weights (n_features, k), intercept (k,), calibration) per member; a calibration
        #: maps decision values (n, k) to probabilities (``predict_proba``)
        self.members = members
        self.n_features = n_features

    @classmethod
    def from_classifier(cls, classifier) -> CalibratedLinearHead | None:
        """The head of a fitted ``CalibratedClassifierCV`` (sigmoid, isotonic or temperature)
        over a multiclass ``LogisticRegression``, or None for any other classifier (predict
        with it instead)."""
        from sklearn.calibration import CalibratedClassifierCV  # a fitted one means it is loaded
        from sklearn.linear_model import LogisticRegression

        if not isinstance(classifier, CalibratedClassifierCV):
            return None
        members = []
        k = len(classifier.classes_)
        for calibrated in getattr(classifier, "calibrated_classifiers_", []):
            linear = calibrated.estimator
            # temperature scaling fits the regression on label codes when labels are strings
            if (not isinstance(linear, LogisticRegression) or k < 3
                    or list(linear.classes_) not in (list(classifier.classes_), list(range(k)))):
                return None
            calibration = _calibration(calibrated.method, calibrated.calibrators, k)
            if calibration is None:
                return None
            weights = np.ascontiguousarray(linear.coef_.T, dtype=np.float64)
            members.append((weights, linear.intercept_.astype(np.float64), calibration))
        if not members:
            return None
        return cls(members, members[0][0].shape[0])

    def predict_proba(self, blocks: FeatureBlocks) -> np.ndarray:
        """Calibrated probabilities, shape ``(n, n_classes)``."""
        if sum(blocks.widths) != self.n_features:
            raise ValueError(f"features have {sum(blocks.widths)} columns, the classifier "
                             f"expects {self.n_features}")
        total = None
        for weights, intercept, calibration in self.members:
            proba = calibration.predict_proba(blocks.dot(weights) + intercept)
            total = proba if total is None else total + proba
        return total / len(self.members)


def _calibration(method: str, calibrators: list, n_classes: int):
    """The calibration of one fitted member, or None for one this module does not mirror."""
    if method in ("sigmoid", "isotonic") and len(calibrators) == n_classes:
        return PerClassCalibration(tuple(calibrators))
    if method == "temperature" and len(calibrators) == 1:
        return TemperatureScaling.from_fitted(calibrators[0])
    return None
