"""AMBS with several objectives and constraints: random scalarizations and feasibility.

Several objectives (ParEGO-style, as DeepHyper's CBO): each proposal draws random weights on
the simplex and fits the one surrogate to the told objective vectors scalarized with them, so
successive proposals aim at different parts of the Pareto front while the asynchronous,
pending-aware machinery of single-objective AMBS stays as it is. Objectives are first
normalized by what has been seen (``minmax``: to [0, 1] between the worst and best values;
``rank``: by their rank), then combined by the augmented Chebyshev function
``-max_i w_i (1 - z_i) - rho * sum_i w_i (1 - z_i)`` (``chebyshev``) or by ``sum_i w_i z_i``
(``linear``).

Constraints (feasible when ``<= 0``): one surrogate per constraint gives the probability of
feasibility ``prod_j P(c_j(x) <= 0)``; its logarithm is added to the (log) acquisition, i.e. the
probability multiplies expected improvement, whose incumbent is the best feasible result.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from hyperfleet.problem.objectives import Outcome
from hyperfleet.search.ambs.surrogates import GaussianProcess
from hyperfleet.search.ambs.trees import TreeEnsemble

SCALARIZATIONS = ("chebyshev", "linear")
NORMALIZATIONS = ("minmax", "rank")
#: weight of the sum term of the augmented Chebyshev function
RHO = 0.05


def random_weights(k: int, rng: np.random.Generator) -> np.ndarray:
    """Weights drawn uniformly on the ``k``-simplex."""
    w = rng.exponential(size=k)
    return w / w.sum()


def normalize(Y: np.ndarray, how: str) -> np.ndarray:
    """Objectives (rows: results, columns: objectives, to maximize, NaN: failed) mapped to [0, 1]
    with 1 the best seen: by min-max or by rank; a constant objective maps to 1."""
    Z = np.full_like(Y, np.nan, dtype=float)
    ok = ~np.isnan(Y).any(axis=1)
    if not ok.any():
        return Z
    V = Y[ok]
    if how == "rank":
        ranks = np.argsort(np.argsort(V, axis=0, kind="stable"), axis=0, kind="stable")
        # ties share their mean rank so equal values score the same
        out = np.empty_like(V, dtype=float)
        for j in range(V.shape[1]):
            _, inverse = np.unique(V[:, j], return_inverse=True)
            sums = np.bincount(inverse, weights=ranks[:, j])
            counts = np.bincount(inverse)
            out[:, j] = (sums / counts)[inverse]
        Z[ok] = out / max(1, len(V) - 1) if len(V) > 1 else 1.0
    else:
        lo, hi = V.min(axis=0), V.max(axis=0)
        span = np.where(hi > lo, hi - lo, np.inf)
        Z[ok] = np.where(hi > lo, (V - lo) / span, 1.0)
    return Z


def scalarize(Z: np.ndarray, w: np.ndarray, how: str) -> np.ndarray:
    """One number per row of normalized objectives ``Z`` (to maximize), NaN rows stay NaN."""
    if how == "linear":
        return Z @ w
    gap = w * (1.0 - Z)
    return -gap.max(axis=1) - RHO * gap.sum(axis=1)


class Feasibility:
    """Probability that every constraint holds, from one surrogate per constraint.

    Args:
        make_model: builds an unfitted surrogate (``fit(F, y)``, ``predict(F)``, optionally
            ``predict_grad(F)``).
    """

    def __init__(self, make_model) -> None:
        self.make_model = make_model
        self.models: list = []
        self.n_fit = -1

    def fit(self, F: np.ndarray, C: np.ndarray) -> Feasibility:
        """Fit to the features and constraint values (rows with NaN: failed, left out)."""
        ok = ~np.isnan(C).any(axis=1)
        while len(self.models) < C.shape[1]:
            self.models.append(self.make_model())
        for j, model in enumerate(self.models):
            model.fit(F[ok], C[ok, j])
        self.n_fit = int(ok.sum())
        return self

    @property
    def has_grad(self) -> bool:
        return all(hasattr(m, "predict_grad") for m in self.models)

    def log_probability(self, F: np.ndarray, grad: bool = False):
        """``log P(feasible)`` per row of ``F`` and, with ``grad``, its gradient per feature."""
        total = np.zeros(len(F))
        g = np.zeros(F.shape) if grad else None
        for model in self.models:
            if grad:
                m, sd, dm, dsd = model.predict_grad(F)
            else:
                m, sd = model.predict(F)[:2]
            sd = np.maximum(sd, 1e-9)
            z = -m / sd
            log_p = special.log_ndtr(z)
            total += log_p
            if grad:
                ratio = np.exp(-0.5 * z * z - 0.5 * np.log(2 * np.pi) - log_p)  # phi / Phi
                # dz/dm = -1/sd, dz/dsd = m/sd^2
                g += ratio[:, None] * (-dm / sd[:, None] + (m / sd**2)[:, None] * dsd)
        return total, g


class VectorResults:
    """The part of :class:`~hyperfleet.search.ambs.AMBS` that keeps objective vectors and
    constraint values, scalarizes them per proposal and models feasibility (a mixin: it uses
    the AMBS's arrays, encoder, settings and generator)."""

    def _tell_vectors(self, rows: slice, results: list) -> None:
        """Keep objective vectors (to maximize) and constraint values of Outcome results."""
        k = self.n_objectives or 1
        m = len(self.problem.constraints)
        if self._Y is None:
            self._Y = np.full((len(self._U), k), np.nan)
            self._C = np.full((len(self._U), m), np.nan)
        while len(self._Y) < len(self._U):
            self._Y = np.vstack([self._Y, np.full_like(self._Y, np.nan)])
            self._C = np.vstack([self._C, np.full_like(self._C, np.nan)])
        Y = np.full((rows.stop - rows.start, k), np.nan)
        C = np.full((rows.stop - rows.start, m), np.nan)
        for i, (_, y, _) in enumerate(results):
            if isinstance(y, Outcome):
                Y[i] = self.maximized(y)
                C[i] = y.constraints
            elif y is not None:  # one objective told as a number (already maximized)
                Y[i] = y
        self._Y[rows], self._C[rows] = Y, C

    @property
    def _vector_mode(self) -> bool:
        return self._Y is not None

    def _scalarized(self) -> np.ndarray:
        """The told vectors scalarized with the current weights (NaN: failed)."""
        Y = self._Y[:self._n]
        if Y.shape[1] == 1:
            return Y[:, 0].copy()
        if self._weights is None:
            self._new_weights()
        s = self.settings
        stopped = self._step[:self._n] > 0
        full = ~stopped & ~np.isnan(Y).any(axis=1)
        if not stopped.any() or not full.any():
            return scalarize(normalize(Y, s.mo_normalize), self._weights, s.mo_scalarization)
        # trainings stopped early: their vectors are partial, so the scale is the full trainings'
        # (a stopped one's low first-epoch values must not stretch it); theirs is measured on it
        Z = normalize(np.where(full[:, None], Y, np.nan), s.mo_normalize)
        lo, hi = Y[full].min(axis=0), Y[full].max(axis=0)
        part = stopped & ~np.isnan(Y).any(axis=1)
        Z[part] = np.clip(np.where(hi > lo, (Y[part] - lo) / np.where(hi > lo, hi - lo, 1.0), 1.0),
                          0.0, 1.0)
        return scalarize(Z, self._weights, s.mo_scalarization)

    def _new_weights(self) -> None:
        k = self._Y.shape[1] if self._Y is not None else 1
        self._weights = random_weights(k, self.rng)
        self._weights_version += 1

    def _feasible_rows(self) -> np.ndarray | None:
        """Which told rows satisfy every constraint (None: no constraint)."""
        if self._C is None or self._C.shape[1] == 0:
            return None
        C = self._C[:self._n]
        return ~np.isnan(C).any(axis=1) & (C <= 0).all(axis=1)

    def _feasibility_model(self) -> Feasibility | None:
        """Surrogates of the constraints, refitted when results arrived (None: no constraint)."""
        if self._C is None or self._C.shape[1] == 0:
            return None
        if self._feasibility is None:
            s = self.settings
            if isinstance(self._surrogate_spec, str) and self._surrogate_spec in ("auto", "gp"):
                def make():
                    return GaussianProcess(self.encoder.groups, restarts=s.gp_restarts,
                                           rng=self.rng, lengthscale_prior=s.gp_lengthscale_prior,
                                           min_noise=s.gp_min_noise,
                                           cat_groups=self.encoder.cat_idx)
            else:
                def make():
                    return TreeEnsemble("et" if not isinstance(self._surrogate_spec, str)
                                        else self._surrogate_spec, s.n_trees,
                                        int(self.rng.integers(2**31)))
            self._feasibility = Feasibility(make)
        if self._feasibility.n_fit != self._n:
            F = self.encoder.features(self._U[:self._n], snapped=True)
            self._feasibility.fit(F, self._C[:self._n])
            self._feasibility.n_fit = self._n
        return self._feasibility



__all__ = ["Feasibility", "VectorResults", "NORMALIZATIONS", "RHO", "SCALARIZATIONS", "normalize",
           "random_weights", "scalarize"]
