"""Tree-ensemble surrogates (extra trees, random forest) and any scikit-learn regressor, with the
interface of :mod:`hyperfleet.search.ambs.surrogates`."""

from __future__ import annotations

import inspect
import math
from typing import Any

import numpy as np

from hyperfleet.search.ambs.surrogates import Surrogate, _distances

#: tree surrogates: the sample weight of a warm-start row near a new result (else 1)
WARM_TREE_WEIGHT = 0.05
#: ... near: within this distance times sqrt(number of features) of one
WARM_TREE_NEAR = 0.1


def warm_weights(X: np.ndarray, warm: np.ndarray) -> np.ndarray:
    """Sample weights for a tree surrogate: 1, except warm-start rows within
    ``WARM_TREE_NEAR * sqrt(n_features)`` of a new result, which weigh :data:`WARM_TREE_WEIGHT`
    (there the new results say what the problem is now; elsewhere the warm rows are all there is)."""
    weight = np.ones(len(X))
    new = ~warm
    if not new.any() or not warm.any():
        return weight
    near = _distances(X[warm], X[new]).min(axis=1) < WARM_TREE_NEAR * math.sqrt(X.shape[1])
    weight[np.flatnonzero(warm)[near]] = WARM_TREE_WEIGHT
    return weight


# ======================================================================================
class SklearnSurrogate(Surrogate):
    """Wrap a scikit-learn regressor; standard deviation from, in order of preference,
    ``predict(X, return_std=True)``, the spread of the ensemble's members (``estimators_``),
    or zero.

    Args:
        estimator: an unfitted scikit-learn regressor (it is cloned before each fit).
    """

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    def fit(self, X: np.ndarray, y: np.ndarray, warm: np.ndarray | None = None) -> SklearnSurrogate:
        """Fit to ``(X, y)``; rows marked ``warm`` (an earlier search's results) near a new
        result weigh less (:func:`warm_weights`) where the estimator takes ``sample_weight``."""
        from sklearn.base import clone

        self.X_, self.y_ = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        self.y_mean_ = float(self.y_.mean())
        self.y_std_ = float(self.y_.std()) or 1.0
        self.model_ = clone(self.estimator)
        target = (self.y_ - self.y_mean_) / self.y_std_
        weight = None
        if warm is not None and np.any(warm) and not np.all(warm):
            try:
                takes = "sample_weight" in inspect.signature(self.model_.fit).parameters
            except (TypeError, ValueError):
                takes = False
            if takes:
                weight = warm_weights(self.X_, np.asarray(warm, dtype=bool))
        if weight is None:
            self.model_.fit(self.X_, target)
        else:
            self.model_.fit(self.X_, target, sample_weight=weight)
        try:
            self._has_std = "return_std" in inspect.signature(self.model_.predict).parameters
        except (TypeError, ValueError):
            self._has_std = False
        return self

    def predict(self, X: np.ndarray):
        X = np.asarray(X, dtype=float)
        members = getattr(self.model_, "estimators_", None)
        if self._has_std:
            mean, std = self.model_.predict(X, return_std=True)
        elif members is not None and len(np.ravel(members)) > 1:
            preds = np.stack([m.predict(X) for m in np.ravel(members)])
            mean, std = preds.mean(axis=0), preds.std(axis=0)
        else:
            mean, std = self.model_.predict(X), np.zeros(len(X))
        return (np.asarray(mean, dtype=float).ravel() * self.y_std_ + self.y_mean_,
                np.asarray(std, dtype=float).ravel() * self.y_std_)


class TreeEnsemble(SklearnSurrogate):
    """Extra-trees (``kind="et"``) or random-forest (``kind="rf"``) surrogate; the standard
    deviation is the spread of the trees' predictions (floored by a small fraction of the
    targets' spread so the acquisition still explores where trees agree).

    Args:
        kind: ``"et"`` or ``"rf"``.
        n_trees: number of trees.
        seed: seed of the ensemble.
    """

    def __init__(self, kind: str = "et", n_trees: int = 48, seed: int | None = None) -> None:
        from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor

        cls = ExtraTreesRegressor if kind == "et" else RandomForestRegressor
        extra = {"max_features": 1.0} if kind == "et" else {"max_features": 0.6}
        super().__init__(cls(n_estimators=n_trees, min_samples_leaf=2, random_state=seed,
                             n_jobs=1, **extra))
        self.kind = kind

    def predict(self, X: np.ndarray):
        X = np.asarray(X, dtype=float)
        preds = np.stack([t.predict(X) for t in self.model_.estimators_])
        mean, std = preds.mean(axis=0), preds.std(axis=0)
        std = np.maximum(std, 1e-3)
        return mean * self.y_std_ + self.y_mean_, std * self.y_std_
