"""A warm start's surrogate: the earlier search's model as the prior mean of the new one.

An earlier search's results (a warm start) describe a related problem, not this one: the
dataset or the model changed a little, the optimum moved. One GP fitted to old and new results
together has to decide how far to trust the old ones everywhere at once. Here they are kept
apart (the "prior mean" transfer of the BO literature):

* ``old``: a GP fitted on the warm results only (once: they do not change);
* ``residual``: a GP fitted on what the new results differ from the old model's mean.

The prediction is the old mean (times a weight: all of it, half or none, whichever gives the
new results the highest evidence, so an earlier search that misleads is dropped) plus the
residual's mean. Far from the new results the residual
falls back to its mean offset and the search keeps the old model's shape (it does not explore
regions the earlier search found poor); near them it follows the new results. The uncertainty
is the residual's, plus (``explore`` > 0) a share of the old model's where the old search had no
data. That share is 0 by default: the old model's own uncertainty about regions it never looked
at sent warm searches there for a third of their budget on problems whose optimum had moved
(benchmarks/RESULTS.md, "Session 18"), while the residual GP already says how much the new
problem differs from the old one.

From :data:`FIT_AFTER` new results on, the residual GP has hyperparameters of its own and the new
residuals' spread as its unit. Before that it has the old model's hyperparameters, a prior mean
of 0 and a fraction of the old objective's spread as its unit (:data:`PRIOR_RESIDUAL`): a
problem that changed little is exploited at once, one that changed a lot grows the residual
and is explored.
"""

from __future__ import annotations

import copy
import math

import numpy as np

from hyperfleet.search.ambs.surrogates import GaussianProcess, Surrogate

#: the residual's scale before there are 3 new results, as a fraction of the old objective's
#: standard deviation
PRIOR_RESIDUAL = 0.5
#: new results from which the residual GP gets hyperparameters of its own
FIT_AFTER = 3
#: the smallest unit of a fitted residual, as a fraction of the old objective's spread
RESIDUAL_FLOOR = 0.05
#: the shares of the old model in the prior mean that are compared, by the evidence (marginal
#: likelihood) of the new results: all of it, half, none (the old search misleads here)
WEIGHTS = (1.0, 0.5, 0.0)
#: new results from which those shares are compared (before: all of the old model)
WEIGH_AFTER = 6


class PriorMeanGP(Surrogate):
    """``old`` (fitted on the warm rows) as the prior mean of ``residual`` (a GP of the new
    rows' residuals)."""

    cheap_condition = True

    def __init__(self, old: GaussianProcess, residual: GaussianProcess | None,
                 weight: float = 1.0, explore: float = 0.0) -> None:
        self.old = old
        self.residual = residual
        #: how much of the old model the prior mean takes (:data:`WEIGHTS`, chosen by evidence)
        self.weight = float(weight)
        #: how much of the old model's uncertainty is added to the residual's (0: none; 1: all
        #: of it where the old search had no data), the ``warm_explore`` setting
        self.explore = float(explore)

    @classmethod
    def fit_on(cls, old: GaussianProcess, residual: GaussianProcess, F: np.ndarray, y: np.ndarray,
               optimize_hypers: bool = True, explore: float = 0.0) -> PriorMeanGP:
        """Fit a residual GP to the new rows ``(F, y)`` (``old`` is already fitted; ``residual``
        is the last fit, whose hyperparameters start the new ones'; ``explore``: the share of
        the old model's uncertainty in the prediction)."""
        if len(y) == 0:
            return cls(old, None, explore=explore)
        m = old.predict(F, return_std=False)
        if len(y) < FIT_AFTER:
            return cls(old, cls._prior_residual(old, F, y - m), explore=explore)
        best, best_evidence = None, -math.inf
        for w in WEIGHTS if len(y) >= WEIGH_AFTER else WEIGHTS[:1]:
            r = y - w * m
            gp = copy.copy(residual).fit(F, r, optimize_hypers=optimize_hypers,
                                         scale=max(float(r.std()), RESIDUAL_FLOOR * old.y_std_))
            evidence = gp.log_evidence()
            if evidence > best_evidence + 1e-9:
                best, best_evidence = cls(old, gp, w, explore), evidence
        return best

    @staticmethod
    def _prior_residual(old: GaussianProcess, F: np.ndarray, r: np.ndarray) -> GaussianProcess:
        """Too few residuals to fit hyperparameters to: a GP with the old model's (its
        lengthscales at most the prior's mode: a change is local until shown otherwise), a
        prior mean of 0 and :data:`PRIOR_RESIDUAL` times the old objective's spread as its unit."""
        gp = copy.copy(old)
        gp.theta_ = old.theta_.copy()
        gp.theta_[:-2] = np.minimum(gp.theta_[:-2], math.log(old.lengthscale_prior))
        return gp.fit(F, r, optimize_hypers=False, scale=PRIOR_RESIDUAL * old.y_std_, center=False)

    # ----- predictions ---------------------------------------------------------------------
    def predict(self, X: np.ndarray, return_std: bool = True):
        if self.residual is None:
            return self.old.predict(X, return_std=return_std)
        w = self.weight
        if not return_std:
            return w * self.old.predict(X, return_std=False) + self.residual.predict(X, return_std=False)
        m0, s0 = self.old.predict(X)
        m1, s1 = self.residual.predict(X)
        return w * m0 + m1, np.sqrt(s1 * s1 + (w * self.explore * self._old_share(s0)) ** 2)

    def predict_grad(self, X: np.ndarray):
        m0, s0, dm0, ds0 = self.old.predict_grad(X)
        if self.residual is None:
            return m0, s0, dm0, ds0
        w = self.weight
        m1, s1, dm1, ds1 = self.residual.predict_grad(X)
        # the old share e w s0^2 / c (c: the old model's prior std; e: explore) has the
        # derivative 2 e w s0 ds0 / c
        c = math.sqrt(self.old.sf2_) * self.old.y_std_
        ew = self.explore * w
        s0x = ew * s0 * s0 / c
        ds0x = (2.0 * ew * s0 / c)[:, None] * ds0
        std = np.sqrt(s1 * s1 + s0x * s0x)
        dstd = (s1[:, None] * ds1 + s0x[:, None] * ds0x) / np.maximum(std, 1e-300)[:, None]
        return w * m0 + m1, std, w * dm0 + dm1, dstd

    def _old_share(self, s0: np.ndarray) -> np.ndarray:
        """The old model's uncertainty in the prediction, ``s0^2 / c`` (``c``: its prior std):
        about ``s0`` where it had no data, about nothing near its data (the residual is the
        uncertainty there)."""
        return s0 * s0 / (math.sqrt(self.old.sf2_) * self.old.y_std_)

    def condition(self, X: np.ndarray, y: np.ndarray) -> PriorMeanGP:
        """A copy that also knows ``(X, y)`` (the constant liar's pending points)."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        r = np.atleast_1d(np.asarray(y, dtype=float)) - self.weight * self.old.predict(X, return_std=False)
        model = copy.copy(self)
        if self.residual is None:  # no new result yet: a residual of the pending points alone
            model.residual = self._prior_residual(self.old, X, r)
            return model
        model.residual = self.residual.condition(X, r)
        return model
