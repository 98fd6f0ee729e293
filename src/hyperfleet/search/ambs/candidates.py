"""How AMBS scores and picks candidates: the acquisition over candidate rows (chunked, with the
probability of feasibility, forbidden combinations and the penalty near pending points), the
exact maximum over a small finite space, and an unseen configuration when the optimizer's best
ones were all seen. A mixin of :class:`~hyperfleet.search.ambs.AMBS`; it reads the search's
encoder, problem, settings and random generator."""

from __future__ import annotations

import numpy as np

from hyperfleet.search.ambs.acquisition import Acquisition
from hyperfleet.search.ambs.multi import Feasibility

#: candidates are scored in chunks of at most this many feature values (x pending points), so
#: the acquisition's working memory stays bounded (~100 MB) whatever the space and the batch
SCORE_CHUNK_VALUES = 2_000_000
#: the acquisition score of a forbidden candidate (below any real one)
FORBIDDEN_SCORE = -1e30


#: finite spaces up to this many configurations are searched exhaustively by the acquisition
ENUMERATE_MAX = 20_000



class CandidateScoring:
    """The candidate-scoring half of AMBS (see the module docstring)."""

    def _random_unseen(self, seen: set, tries: int = 64) -> dict:
        for _ in range(tries):
            u = self.encoder.snap(self.rng.random((1, self.encoder.d)))[0]
            config = self.encoder.decode(u)
            if self.problem.key(config) not in seen and not self.problem.is_forbidden(config):
                return config
        unseen = self._enumerate_unseen(seen)
        if unseen is not None and len(unseen):
            return self.encoder.decode(unseen[self.rng.integers(len(unseen))])
        if self.encoder.rules is not None:  # a repeat, but one the rules allow
            return self.problem.sample(1, self.rng)[0]
        return config  # the space is used up (or too large to enumerate): allow a repeat

    def _enumerate_unseen(self, seen: set) -> np.ndarray | None:
        grid = self.encoder.enumerate_all()
        if grid is None:
            return None
        if self.encoder.conditional:  # keys leave inactive dimensions out
            keep = np.array([self.problem.key(self.encoder.decode(u)) not in seen for u in grid],
                            dtype=bool)
            return grid[keep]
        idx = np.stack([self.encoder.index(grid, j) for j in range(self.encoder.d)], axis=1)
        keep = np.array([tuple(int(v) for v in row) not in seen for row in idx], dtype=bool)
        return grid[keep]

    def _score_every_unseen(self, score, seen: set) -> np.ndarray | None:
        """In a finite space of at most :data:`ENUMERATE_MAX` configurations: every configuration
        not yet evaluated nor pending, best acquisition first (the exact maximum, only grid points,
        never a repeat). ``None`` for a larger or continuous space (the optimizer searches it)."""
        if self.encoder.cardinality > ENUMERATE_MAX:
            return None
        if self._grid is None:
            grid = self.encoder.enumerate_all(ENUMERATE_MAX)
            idx = np.stack([self.encoder.index(grid, j) for j in range(self.encoder.d)], axis=1)
            self._grid = (grid, [tuple(int(v) for v in row) for row in idx])
        grid, keys = self._grid
        keep = np.fromiter((k not in seen for k in keys), dtype=bool, count=len(keys))
        if not keep.any():
            return None
        unseen = grid[keep]
        values = score(unseen, False)[0]
        return unseen[np.argsort(-values, kind="stable")]

    def _first_unseen(self, U_sorted: np.ndarray, seen: set, score) -> tuple[dict, np.ndarray]:
        for u in U_sorted[:256]:
            config = self.encoder.decode(u)
            if self.problem.key(config) not in seen and not self.problem.is_forbidden(config):
                return config, self.encoder.snap(u[None, :])[0]
        unseen = self._enumerate_unseen(seen)
        if unseen is None:  # large finite or continuous space: random unseen configuration
            config = self._random_unseen(seen)
            return config, self.encoder.encode([config])[0]
        if len(unseen):
            values = score(unseen, False)[0]
            u = unseen[int(np.argmax(values))]
            return self.encoder.decode(u), u
        u = U_sorted[0]  # every configuration is used: repeat the best-scoring one
        return self.encoder.decode(u), self.encoder.snap(u[None, :])[0]

    def _scorer(self, model, acq: Acquisition, y_mean: float, scale: float, best_s: float,
                penalty_F: np.ndarray | None, feasibility: Feasibility | None = None):
        enc = self.encoder
        float_cols = enc._offsets[enc.float_idx] if len(enc.float_idx) else np.empty(0, dtype=int)
        radius = self.settings.exclusion_radius
        has_forbidden = enc.rules is not None and bool(enc.rules.forbidden)

        per_row = enc.n_features * (1 + (0 if penalty_F is None else len(penalty_F)))
        chunk = max(16, SCORE_CHUNK_VALUES // max(1, per_row))

        def score(U: np.ndarray, grad: bool):
            if len(U) > chunk and not grad:
                parts = [score_rows(U[i:i + chunk], False)[0] for i in range(0, len(U), chunk)]
                return np.concatenate(parts), None
            return score_rows(U, grad)

        def score_rows(U: np.ndarray, grad: bool):
            F = enc.features(U, snapped=True)  # the optimizer only builds canonical vectors
            if grad:
                m, sd, dm, dsd = model.predict_grad(F)
            else:
                m, sd = model.predict(F)
            v, dv_dm, dv_ds = acq.evaluate((m - y_mean) / scale, sd / scale, best_s)
            g = None
            if grad:
                g = ((dv_dm[:, None] * dm + dv_ds[:, None] * dsd) / scale)[:, float_cols]
                if enc.conditional:  # an inactive float's feature is a constant
                    g = g * enc.active(U)[:, enc.float_idx]
            if feasibility is not None:  # the probability of feasibility multiplies the acquisition
                log_p, dlog_p = feasibility.log_probability(F, grad)
                v = v + log_p
                if grad:
                    g = g + dlog_p[:, float_cols]
            if has_forbidden:  # never proposed: the lowest score
                v = np.where(enc.forbidden(U), FORBIDDEN_SCORE, v)
            if penalty_F is not None and radius > 0:
                diff = F[:, None, :] - penalty_F[None, :, :]
                d2 = np.einsum("ijk,ijk->ij", diff, diff)
                corr = np.exp(-0.5 * d2 / radius**2)
                j = corr.argmax(axis=1)
                c = corr[np.arange(len(F)), j]
                weight = 2.0
                v = v - weight * c
                if grad:
                    dc = -(c / radius**2)[:, None] * diff[np.arange(len(F)), j]
                    g = g - weight * dc[:, float_cols]
            return v, g

        return score
