"""How AMBS fits its surrogate to the told results, lazily: a Gaussian process (its
hyperparameters re-fitted while the history is short, then after 5 % growth; past
``gp_max_points`` on a subset of the best, the most recent and random others), or a tree
ensemble refitted after 2 % growth. A mixin of :class:`~hyperfleet.search.ambs.AMBS`."""

from __future__ import annotations

import numpy as np

from hyperfleet.search.ambs.surrogates import GaussianProcess, Surrogate
from hyperfleet.search.ambs.transfer import FIT_AFTER, PriorMeanGP
from hyperfleet.search.ambs.trees import SklearnSurrogate, TreeEnsemble


class SurrogateFitting:
    """The surrogate-fitting part of AMBS (see the module docstring)."""

    def _surrogate(self) -> Surrogate:
        """The surrogate fitted to the told results (refitted lazily)."""
        if self._model is not None and self._model_n == self._n \
                and self._model_version == self._weights_version:
            return self._model
        self._model_version = self._weights_version
        U, y = self._training_data()
        F = self.encoder.features(U, snapped=True)
        spec = self._surrogate_spec
        s = self.settings
        warm = self._warm_rows()
        if isinstance(spec, str) and spec in ("auto", "gp") and warm is not None \
                and s.warm_model == "prior" and warm.any():
            self._model = self._prior_mean_model(F, y, warm)
        elif isinstance(spec, str) and spec in ("auto", "gp"):
            if spec == "auto" and len(y) > s.gp_max_points:
                idx = self._subset(y, s.gp_max_points)
                F, y = F[idx], y[idx]
                warm = None if warm is None else warm[idx]
            if self._gp is None:
                self._gp = self._new_gp()
            refit = self._gp_refit_due(len(y), self._n - self.n_warm)
            self._gp.fit(F, y, optimize_hypers=refit, warm=warm)
            if refit:
                self._gp_opt_n = len(y)
            self._model = self._gp
        else:
            stale = self._model is None or self._n - self._tree_fit_n >= max(1, 0.02 * self._tree_fit_n)
            if stale:
                if isinstance(spec, str):
                    model: Surrogate = TreeEnsemble(spec, s.n_trees, int(self.rng.integers(2**31)))
                else:
                    model = SklearnSurrogate(spec)
                self._model = model.fit(F, y, warm=warm)
                self._tree_fit_n = self._n
        self._model_n = self._n
        return self._model

    def _prior_mean_model(self, F: np.ndarray, y: np.ndarray, warm: np.ndarray) -> PriorMeanGP:
        """A warm start's model: a GP on the warm rows (fitted once) as the prior mean of a GP
        on the new rows' residuals (see :mod:`hyperfleet.search.ambs.transfer`)."""
        s = self.settings
        Fw, yw = F[warm], y[warm]
        # refitted only when the warm rows' targets change (several objectives: new weights;
        # stopped warm trainings: placed among the full results anew)
        if self._gp_old is None or self._gp_old_y is None or not np.array_equal(self._gp_old_y, yw):
            self._gp_old_y = yw
            if len(yw) > s.gp_max_points:
                idx = self._subset(yw, s.gp_max_points)
                Fw, yw = Fw[idx], yw[idx]
            self._gp_old = self._new_gp().fit(Fw, yw)
        F_new, y_new = F[~warm], y[~warm]
        if len(y_new) > s.gp_max_points:
            idx = self._subset(y_new, s.gp_max_points)
            F_new, y_new = F_new[idx], y_new[idx]
        if self._gp is None:
            self._gp = self._new_gp()
        refit = self._gp_refit_due(len(y_new), len(y_new))
        model = PriorMeanGP.fit_on(self._gp_old, self._gp, F_new, y_new, optimize_hypers=refit,
                                   explore=s.warm_explore)
        if len(y_new) >= FIT_AFTER:
            self._gp = model.residual  # its hyperparameters start the next fit's
        if refit and len(y_new):
            self._gp_opt_n = len(y_new)
        return model

    def _gp_refit_due(self, n_rows: int, n_new: int) -> bool:
        """Whether ``self._gp``'s hyperparameters are re-fitted on ``n_rows`` rows (``n_new``:
        this search's own results): on every result while those are few, then when the rows
        have grown by 5 % (the warm-started fit is cheap; the factorisation is exact anyway)."""
        grown = n_rows - self._gp_opt_n
        return self._gp.theta_ is None or grown >= max(1, 0.05 * self._gp_opt_n) or n_new <= 40

    def _new_gp(self) -> GaussianProcess:
        s = self.settings
        return GaussianProcess(self.encoder.groups, restarts=s.gp_restarts, rng=self.rng,
                               lengthscale_prior=s.gp_lengthscale_prior,
                               min_noise=s.gp_min_noise,
                               cat_groups=self.encoder.cat_idx)

    def _subset(self, y: np.ndarray, m: int) -> np.ndarray:
        """Indices of the best m/2, the m/4 most recent and m/4 random other results."""
        n = len(y)
        best = np.argsort(-y, kind="stable")[: m // 2]
        chosen = np.zeros(n, dtype=bool)
        chosen[best] = True
        not_best = np.flatnonzero(~chosen)
        chosen[not_best[-(m // 4):]] = True  # the most recent
        rest = np.flatnonzero(~chosen)
        k = m - int(chosen.sum())
        if k > 0 and len(rest):
            chosen[self.rng.choice(rest, size=min(k, len(rest)), replace=False)] = True
        return np.flatnonzero(chosen)
