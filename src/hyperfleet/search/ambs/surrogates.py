"""Surrogate models of the objective: a Gaussian process and tree ensembles.

Every surrogate works on *standardised* targets internally and exposes

* ``fit(X, y)``: learn from features ``X`` (``(n, n_features)``) and objectives ``y`` (maximised);
* ``predict(X) -> (mean, std)``: in the units of ``y``;
* optionally ``predict_grad(X)``: mean, std and their gradients with respect to ``X`` (the GP),
  used to polish continuous dimensions with L-BFGS-B;
* optionally ``condition(X, y)``: a copy that also knows extra points, without refitting
  hyperparameters (the GP; used by the constant-liar pending strategies).

Tree ensembles and wrapped scikit-learn regressors are in :mod:`hyperfleet.search.ambs.trees`.
"""

from __future__ import annotations

import copy
import math

import numpy as np
from scipy import linalg, optimize

_SQRT5 = math.sqrt(5.0)
#: bounds of the log extra noise variance of warm rows (standardised units)
WARM_NOISE_BOUNDS = (math.log(1e-6), math.log(20.0))
class Surrogate:
    """Interface of a surrogate model (see the module docstring)."""

    #: whether :meth:`condition` is cheap (no refit), which makes constant liars affordable.
    cheap_condition = False

    def fit(self, X: np.ndarray, y: np.ndarray) -> Surrogate:  # pragma: no cover - interface
        raise NotImplementedError

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
        raise NotImplementedError

    def condition(self, X: np.ndarray, y: np.ndarray) -> Surrogate:
        """A model that also learned ``(X, y)`` (default: a full refit on the union)."""
        model = copy.deepcopy(self)
        return model.fit(np.vstack([self.X_, X]), np.concatenate([self.y_, y]))


# ======================================================================================
# Gaussian process
# ======================================================================================
class GaussianProcess(Surrogate):
    """Exact GP regression with a Matern-5/2 ARD kernel plus white noise.

    Hyperparameters (one lengthscale per problem dimension — the one-hot columns of a
    categorical share theirs —, the signal variance and the noise variance) are the maximum a
    posteriori of the log marginal likelihood under weak priors (lengthscales around 1 on the unit
    cube, small noise), found by L-BFGS-B with analytic gradients, warm-started from the previous
    fit plus ``restarts`` other starts. Targets are standardised.

    Args:
        groups: feature column -> lengthscale index (``Encoder.groups``); ``None``: one per column.
        restarts: extra starts of the hyperparameter fit besides the warm start.
        rng: random generator for the extra starts.
        min_noise: lower bound of the noise variance (standardised units).
        max_iter: L-BFGS-B iterations per start of the hyperparameter fit.
        full_every: run the extra starts on every ``full_every``-th fit only (warm start alone
            otherwise), which keeps refits cheap.
        lengthscale_prior: mode of the lengthscale prior of numeric dimensions (unit cube).
        cat_groups: lengthscale indices of categorical dimensions (their prior mode is 1).

    Rows marked ``warm`` in :meth:`fit` (an earlier search's results, a warm start) get an extra
    noise variance of their own, fitted with the other hyperparameters: where new results
    contradict them (the problem changed), the marginal likelihood raises it and the model
    follows the new results; where they agree, it stays small and the warm rows count fully.
    """

    cheap_condition = True

    def __init__(self, groups: np.ndarray | None = None, restarts: int = 1,
                 rng: np.random.Generator | None = None, min_noise: float = 1e-6,
                 max_iter: int = 60, full_every: int = 5, lengthscale_prior: float = 0.5,
                 cat_groups: np.ndarray | None = None) -> None:
        self.groups = None if groups is None else np.asarray(groups, dtype=int)
        self.restarts = int(restarts)
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self.min_noise = float(min_noise)
        self.max_iter = int(max_iter)
        self.full_every = max(1, int(full_every))
        self.lengthscale_prior = float(lengthscale_prior)
        self.cat_groups = None if cat_groups is None else np.asarray(cat_groups, dtype=int)
        self.theta_: np.ndarray | None = None  # log lengthscales (per group), log sf2, log sn2
        #: log of the extra noise variance of warm rows (standardised units), when there are some
        self.log_warm_noise_: float | None = None

    # ----- hyperparameters ---------------------------------------------------------------
    def _n_groups(self, n_features: int) -> int:
        return n_features if self.groups is None else int(self.groups.max()) + 1

    def _lengthscales(self, theta: np.ndarray, n_features: int) -> np.ndarray:
        ls = np.exp(theta[:-2])
        return ls if self.groups is None else ls[self.groups]

    def _bounds(self, n_groups: int) -> list:
        return ([(math.log(5e-3), math.log(20.0))] * n_groups
                + [(math.log(5e-2), math.log(20.0)), (math.log(self.min_noise), math.log(0.5))])

    def _log_prior(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        # lambda = (l0/l)^2 with log p = -(0.1/lambda + 0.1 lambda): lengthscales around l0
        # (``lengthscale_prior`` for numeric dimensions, 1 for categorical ones);
        # signal variance ~ Gamma(2, 1); noise variance ~ Gamma(1.1, 30) (small noise).
        l0sq = np.full(len(theta) - 2, self.lengthscale_prior ** 2)
        if self.cat_groups is not None and len(self.cat_groups):
            l0sq[self.cat_groups] = 1.0
        grad = np.zeros_like(theta)
        ls2 = np.exp(2 * theta[:-2]) / l0sq
        lp = -np.sum(0.1 * ls2 + 0.1 / ls2)
        grad[:-2] = -(0.2 * ls2 - 0.2 / ls2)
        sf2, sn2 = math.exp(theta[-2]), math.exp(theta[-1])
        lp += theta[-2] - sf2
        grad[-2] = 1.0 - sf2
        lp += 0.1 * theta[-1] - 30.0 * sn2
        grad[-1] = 0.1 - 30.0 * sn2
        return lp, grad

    def _neg_log_posterior(self, theta: np.ndarray, X: np.ndarray, y: np.ndarray,
                           warm: np.ndarray | None = None):
        if warm is not None:  # the last entry: log of the warm rows' extra noise variance
            theta, lw = theta[:-1], theta[-1]
        n, p = X.shape
        ls = self._lengthscales(theta, p)
        sf2, sn2 = math.exp(theta[-2]), math.exp(theta[-1])
        Xs = X / ls
        r = _distances(Xs, Xs)
        e = np.exp(-_SQRT5 * r)
        K = sf2 * (1.0 + _SQRT5 * r + (5.0 / 3.0) * r * r) * e
        K[np.diag_indices_from(K)] += sn2 + 1e-9
        sw2 = 0.0
        if warm is not None:
            sw2 = math.exp(lw)
            K[np.diag_indices_from(K)] += sw2 * warm
        try:
            L = linalg.cholesky(K, lower=True, check_finite=False)
        except linalg.LinAlgError:
            return 1e10, np.zeros_like(theta)
        alpha = linalg.cho_solve((L, True), y, check_finite=False)
        lml = -0.5 * y @ alpha - np.log(np.diag(L)).sum() - 0.5 * n * math.log(2 * math.pi)
        Kinv = linalg.cho_solve((L, True), np.eye(n), check_finite=False)
        W = np.outer(alpha, alpha) - Kinv
        grad = np.empty_like(theta)
        # d K / d log l_c = sf2 * 5/3 (1 + sqrt5 r) exp(-sqrt5 r) * (dx_c / l_c)^2
        M = W * (sf2 * (5.0 / 3.0) * (1.0 + _SQRT5 * r) * e)
        MX = M @ Xs
        col = 0.5 * (2.0 * (Xs * Xs * M.sum(axis=1)[:, None]).sum(axis=0) - 2.0 * (Xs * MX).sum(axis=0))
        if self.groups is None:
            grad[:-2] = col
        else:
            grad[:-2] = np.bincount(self.groups, weights=col, minlength=len(theta) - 2)
        Kf = K.copy()
        Kf[np.diag_indices_from(Kf)] -= sn2 + 1e-9 + (0.0 if warm is None else sw2 * warm)
        grad[-2] = 0.5 * np.sum(W * Kf)
        grad[-1] = 0.5 * sn2 * np.trace(W)
        lp, glp = self._log_prior(theta)
        if warm is None:
            return -(lml + lp), -(grad + glp)
        # warm noise ~ a weak prior (log p = 0.1 log sw2 - 0.5 sw2): free to grow when contradicted
        g_w = 0.5 * sw2 * float(np.diag(W) @ warm) + 0.1 - 0.5 * sw2
        lp += 0.1 * lw - 0.5 * sw2
        return -(lml + lp), -np.concatenate([grad + glp, [g_w]])

    def _optimize(self, X: np.ndarray, y: np.ndarray, warm_rows: np.ndarray | None = None
                  ) -> np.ndarray:
        ng = self._n_groups(X.shape[1])
        bounds = self._bounds(ng)
        default = np.concatenate([np.zeros(ng), [0.0, math.log(1e-2)]])
        warm = self.theta_ is not None and len(self.theta_) == ng + 2
        starts = [self.theta_] if warm else []
        self._n_fits = getattr(self, "_n_fits", 0) + 1
        # the warm start alone on most fits; the other starts on every `full_every`-th fit
        if not (warm and self._n_fits % self.full_every != 0):
            starts.append(default)
            for _ in range(self.restarts - (0 if warm else 1)):
                start = default.copy()
                start[:ng] = self.rng.uniform(math.log(0.05), math.log(3.0), size=ng)
                start[-1] = self.rng.uniform(math.log(1e-5), math.log(1e-1))
                starts.append(start)
        if warm_rows is None:
            return self._run_starts(starts, bounds, X, y)
        lw = self.log_warm_noise_ if self.log_warm_noise_ is not None else math.log(1e-2)
        # from the last fit's warm noise, and from a large one (a changed problem): the
        # likelihood has one optimum where the global noise explains the contradiction, and one
        # where the warm rows' noise does
        starts = [np.append(start, lw) for start in starts] + [np.append(starts[0], 0.0)]
        best = self._run_starts(starts, bounds + [WARM_NOISE_BOUNDS], X, y, warm_rows)
        self.log_warm_noise_ = float(best[-1])
        return best[:-1]

    def _run_starts(self, starts, bounds, X, y, warm_rows=None) -> np.ndarray:
        best, best_val = starts[0], math.inf
        for start in starts:
            lo, hi = np.array(bounds).T
            start = np.clip(start, lo, hi)
            res = optimize.minimize(self._neg_log_posterior, start, args=(X, y, warm_rows),
                                    jac=True, method="L-BFGS-B", bounds=bounds,
                                    options={"maxiter": self.max_iter})
            if res.fun < best_val:
                best, best_val = res.x, res.fun
        return best

    # ----- fitting and predicting --------------------------------------------------------
    def fit(self, X: np.ndarray, y: np.ndarray, optimize_hypers: bool = True,
            warm: np.ndarray | None = None, scale: float | None = None,
            center: bool = True) -> GaussianProcess:
        """Fit to ``(X, y)``; re-optimise hyperparameters only when ``optimize_hypers``.
        ``warm``: a boolean per row, True for an earlier search's results (a warm start), which
        get an extra noise variance of their own (see the class docstring). ``scale``: the
        targets' unit instead of their standard deviation, and ``center=False``: a prior mean of
        0 instead of their mean (a residual of few rows, see ``ambs.transfer``)."""
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float)
        self.X_, self.y_ = X, y
        self.y_mean_ = float(y.mean()) if center else 0.0
        self.y_std_ = float(scale) if scale else (float(y.std()) or 1.0)
        ys = (y - self.y_mean_) / self.y_std_
        rows = None
        if warm is not None and np.any(warm):
            rows = np.asarray(warm, dtype=float)
            if len(rows) != len(y):
                raise ValueError(f"warm has {len(rows)} entries for {len(y)} rows")
        if optimize_hypers or self.theta_ is None \
                or (rows is not None and self.log_warm_noise_ is None):
            self.theta_ = self._optimize(X, ys, rows)
        self._factorize(X, ys, rows)
        return self

    def log_evidence(self) -> float:
        """The log marginal likelihood (with the hyperparameters' log prior) of the fitted
        targets in their own units, comparable between fits of different targets."""
        n = len(self.ys_)
        lml = -0.5 * float(self.ys_ @ self.alpha_) - float(np.log(np.diag(self.L_)).sum()) \
            - 0.5 * n * math.log(2 * math.pi)
        return lml + self._log_prior(self.theta_)[0] - n * math.log(self.y_std_)

    @property
    def warm_noise_(self) -> float:
        """The fitted extra noise variance of warm rows (standardised units; 0 without any)."""
        return 0.0 if self.log_warm_noise_ is None else math.exp(self.log_warm_noise_)

    def _factorize(self, X: np.ndarray, ys: np.ndarray, warm_rows: np.ndarray | None = None) -> None:
        p = X.shape[1]
        self.ls_ = self._lengthscales(self.theta_, p)
        self.sf2_, self.sn2_ = math.exp(self.theta_[-2]), math.exp(self.theta_[-1])
        self.Xs_ = X / self.ls_
        K = self._k(self.Xs_, self.Xs_)
        K[np.diag_indices_from(K)] += self.sn2_ + 1e-9
        if warm_rows is not None:
            K[np.diag_indices_from(K)] += self.warm_noise_ * warm_rows
        jitter = 1e-9
        while True:
            try:
                self.L_ = linalg.cholesky(K, lower=True, check_finite=False)
                break
            except linalg.LinAlgError:
                jitter *= 100
                K[np.diag_indices_from(K)] += jitter
        self.ys_ = ys
        self.alpha_ = linalg.cho_solve((self.L_, True), ys, check_finite=False)

    def _k(self, A: np.ndarray, B: np.ndarray) -> np.ndarray:
        r = _distances(A, B)
        return self.sf2_ * (1.0 + _SQRT5 * r + (5.0 / 3.0) * r * r) * np.exp(-_SQRT5 * r)

    def predict(self, X: np.ndarray, return_std: bool = True):
        Xs = np.asarray(X, dtype=float) / self.ls_
        Ks = self._k(Xs, self.Xs_)
        mean = Ks @ self.alpha_
        if not return_std:
            return mean * self.y_std_ + self.y_mean_
        v = linalg.solve_triangular(self.L_, Ks.T, lower=True, check_finite=False)
        var = np.maximum(self.sf2_ - np.einsum("ij,ij->j", v, v), 1e-12)
        return mean * self.y_std_ + self.y_mean_, np.sqrt(var) * self.y_std_

    def predict_grad(self, X: np.ndarray):
        """Mean, std and their gradients ``(n, n_features)`` with respect to the features."""
        X = np.asarray(X, dtype=float)
        Xs = X / self.ls_
        r = _distances(Xs, self.Xs_)
        e = np.exp(-_SQRT5 * r)
        Ks = self.sf2_ * (1.0 + _SQRT5 * r + (5.0 / 3.0) * r * r) * e
        dk_common = -self.sf2_ * (5.0 / 3.0) * (1.0 + _SQRT5 * r) * e  # times (x - X_j)/l^2
        mean = Ks @ self.alpha_
        beta = linalg.cho_solve((self.L_, True), Ks.T, check_finite=False)  # K^{-1} k*, (n, m)
        var = self.sf2_ - np.einsum("ij,ji->i", Ks, beta)
        inv_l2 = 1.0 / (self.ls_ * self.ls_)
        # d mean / dx = sum_j alpha_j dk_common_j (x - X_j) / l^2
        wa = dk_common * self.alpha_[None, :]
        dmean = (wa.sum(axis=1)[:, None] * X - wa @ (self.Xs_ * self.ls_)) * inv_l2
        wb = dk_common * beta.T
        dvar = -2.0 * (wb.sum(axis=1)[:, None] * X - wb @ (self.Xs_ * self.ls_)) * inv_l2
        var = np.maximum(var, 1e-12)
        std = np.sqrt(var)
        dstd = dvar / (2.0 * std[:, None])
        return (mean * self.y_std_ + self.y_mean_, std * self.y_std_,
                dmean * self.y_std_, dstd * self.y_std_)

    def condition(self, X: np.ndarray, y: np.ndarray) -> GaussianProcess:
        """A copy that also knows ``(X, y)``: same hyperparameters, block Cholesky update."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        y = np.atleast_1d(np.asarray(y, dtype=float))
        model = copy.copy(self)
        Xs_new = X / self.ls_
        K12 = self._k(self.Xs_, Xs_new)
        K22 = self._k(Xs_new, Xs_new)
        K22[np.diag_indices_from(K22)] += self.sn2_ + 1e-9
        B = linalg.solve_triangular(self.L_, K12, lower=True, check_finite=False)
        S = K22 - B.T @ B
        S[np.diag_indices_from(S)] += 1e-10
        try:
            C = linalg.cholesky(S, lower=True, check_finite=False)
        except linalg.LinAlgError:
            S[np.diag_indices_from(S)] += 1e-6
            C = linalg.cholesky(S, lower=True, check_finite=False)
        n, m = len(self.ys_), len(y)
        L = np.zeros((n + m, n + m))
        L[:n, :n] = self.L_
        L[n:, :n] = B.T
        L[n:, n:] = C
        model.L_ = L
        model.Xs_ = np.vstack([self.Xs_, Xs_new])
        model.X_ = np.vstack([self.X_, X])
        model.y_ = np.concatenate([self.y_, y])
        model.ys_ = np.concatenate([self.ys_, (y - self.y_mean_) / self.y_std_])
        model.alpha_ = linalg.cho_solve((L, True), model.ys_, check_finite=False)
        return model


def _distances(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    sq = (A * A).sum(axis=1)[:, None] + (B * B).sum(axis=1)[None, :] - 2.0 * (A @ B.T)
    return np.sqrt(np.maximum(sq, 0.0))
