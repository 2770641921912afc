"""The fitted classifier step as plain arrays: calibrated probabilities from feature blocks.

A :class:`~sklearn.calibration.CalibratedClassifierCV` over a
:class:`~sklearn.linear_model.LogisticRegression` computes ``X @ coef.T + intercept`` and
maps each class's decision value through its calibrator. :class:`CalibratedLinearHead`
does the same from a :class:`~commentqa.featurizer.FeatureBlocks`, so the word, character
and signal blocks are scored where they are, never stacked into one matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .featurizer import FeatureBlocks

__all__ = ["CalibratedLinearHead", "SigmoidCalibrator"]


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


class CalibratedLinearHead:
    """Calibrated multinomial logistic regression, scored block by block.

    Probabilities equal ``classifier.predict_proba(matrix)`` (to float rounding), columns in
    ``classifier.classes_`` order. Build one with :meth:`from_classifier`.
    """

    def __init__(self, members: list[tuple[np.ndarray, np.ndarray, list]], n_features: int):
        #: (weights (n_features, k), intercept (k,), one calibrator per class) per member
        self.members = members
        self.n_features = n_features

    @classmethod
    def from_classifier(cls, classifier) -> CalibratedLinearHead | None:
        """The head of a fitted sigmoid/isotonic ``CalibratedClassifierCV`` over a multiclass
        ``LogisticRegression``, or None for any other classifier (predict with it instead)."""
        from sklearn.calibration import CalibratedClassifierCV  # a fitted one means it is loaded
        from sklearn.linear_model import LogisticRegression

        if not isinstance(classifier, CalibratedClassifierCV):
            return None
        members = []
        for calibrated in getattr(classifier, "calibrated_classifiers_", []):
            linear = calibrated.estimator
            if (calibrated.method not in ("sigmoid", "isotonic")
                    or not isinstance(linear, LogisticRegression)
                    or len(linear.classes_) < 3
                    or list(linear.classes_) != list(classifier.classes_)
                    or len(calibrated.calibrators) != len(linear.classes_)):
                return None
            weights = np.ascontiguousarray(linear.coef_.T, dtype=np.float64)
            members.append((weights, linear.intercept_.astype(np.float64),
                            list(calibrated.calibrators)))
        if not members:
            return None
        return cls(members, members[0][0].shape[0])

    def predict_proba(self, blocks: FeatureBlocks) -> np.ndarray:
        """Calibrated probabilities, shape ``(n, n_classes)``."""
        if sum(blocks.widths) != self.n_features:
            raise ValueError(f"features have {sum(blocks.widths)} columns, the classifier "
                             f"expects {self.n_features}")
        total = None
        for weights, intercept, calibrators in self.members:
            decision = blocks.dot(weights) + intercept
            proba = np.column_stack([c.predict(decision[:, k])
                                     for k, c in enumerate(calibrators)])
            sums = proba.sum(axis=1, keepdims=True)
            # As scikit-learn does: where every calibrator says 0, each class gets 1/k.
            proba = np.divide(proba, sums, out=np.full_like(proba, 1.0 / proba.shape[1]),
                              where=sums != 0)
            total = proba if total is None else total + proba
        return total / len(self.members)
