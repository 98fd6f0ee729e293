"""Batch proposals for many free workers at once: one surrogate fit and one candidate pool per
driver cycle, kept warm between cycles.

With hundreds of evaluations pending, AMBS's per-point proposal (an acquisition optimisation with
local search for every point, each scored against a penalty over every pending point) costs
tens of milliseconds per point and grows with the number pending, so one ``ask(4096)`` takes
minutes. :class:`BatchProposer` replaces it in that regime (the ``qucb`` regime: ``pending=qucb``,
or ``auto`` past ``batch_above`` pending evaluations) by

* **one candidate pool** scored once by the surrogate: random points, neighbours of the best
  results (for the exploiting end of a budget too) and the local optima of one acquisition
  optimisation, sized to the batch;
* **qUCB picks from the pool**: each point maximises UCB with its own kappa drawn from an
  exponential distribution of mean ``kappa`` (as :class:`~hyperfleet.search.ambs.pending.QUCB`
  does), minus the same local penalty near pending and already-chosen points — kept as one
  running maximum per candidate, updated in O(pool) per pick instead of recomputed;
* **a surrogate reused between completions**: the pool (and the model that scored it) serves the
  next cycles until ``batch_refit`` x (history + pending) new results have arrived (at least one), the
  pool is a quarter used, or the final exploiting phase begins. Results told meanwhile are still
  penalised as the pending points they were, so nothing the model does not know yet is proposed
  again nearby.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hyperfleet.search.ambs.acquisition import UpperConfidenceBound

#: largest candidate pool (rows); the pool is sized to the batch below this
MAX_POOL = 65_536
#: weight of the penalty near pending points, in standardised objective units (as qUCB's)
PENALTY_WEIGHT = 2.0
#: feature-distance computations are chunked to about this many values
CHUNK_VALUES = 4_000_000


@dataclass
class CandidatePool:
    """Candidates scored by one fitted surrogate.

    ``U``/``F``: unit vectors and model features; ``base``/``sd``: standardised posterior mean and
    standard deviation; ``local``: neighbours of the best results (the final phase picks among
    them); ``alive``: not picked yet; ``d2``: squared feature distance to the nearest pending or
    picked point; ``model_n``: results the model knew; ``final``: built for the final phase.
    """

    U: np.ndarray
    F: np.ndarray
    base: np.ndarray
    sd: np.ndarray
    local: np.ndarray
    alive: np.ndarray
    d2: np.ndarray
    model_n: int
    final: bool
    picks: int = 0


def min_sq_distance(F: np.ndarray, P: np.ndarray) -> np.ndarray:
    """For each row of ``F``, the squared Euclidean distance to the nearest row of ``P``
    (``inf`` when ``P`` is empty), by blocks so that memory stays bounded."""
    out = np.full(len(F), np.inf)
    if len(P) == 0 or len(F) == 0:
        return out
    f2 = np.einsum("ij,ij->i", F, F)
    p2 = np.einsum("ij,ij->i", P, P)
    step = max(1, CHUNK_VALUES // max(1, len(F)))
    for i in range(0, len(P), step):
        block = f2[:, None] + p2[None, i:i + step] - 2.0 * (F @ P[i:i + step].T)
        np.minimum(out, block.min(axis=1), out=out)
    return np.maximum(out, 0.0)


class BatchProposer:
    """Proposes batches for an :class:`~hyperfleet.search.ambs.AMBS` from a warm candidate pool
    (see the module docstring). One per search; it reads the search's model and settings."""

    def __init__(self, above: int, refit: float) -> None:
        self.above = int(above)
        self.refit = float(refit)
        self.pool: CandidatePool | None = None
        #: pools built and cycles served from a warm pool (for reports and tests)
        self.builds = 0
        self.reuses = 0

    def applies(self, n_pending: int) -> bool:
        """Whether a proposal with ``n_pending`` pending or already chosen points (the new
        ones included) is a batch proposal."""
        return self.above >= 0 and n_pending > self.above

    def refit_after(self, n_told: int, n_pending: int) -> int:
        """New results that make the next proposal refit: ``batch_refit`` x (results told +
        evaluations pending), at least one — with 4,096 evaluations running, the first few
        results back change little of what the next ones will be."""
        return max(1, math.ceil(self.refit * (n_told + n_pending)))

    def refit_due(self, search) -> bool:
        """Whether the pool must be rebuilt (and the surrogate refitted) before the next picks."""
        pool = self.pool
        if pool is None:
            return True
        grown = search._n - pool.model_n
        if grown >= self.refit_after(pool.model_n, len(search.pending)):
            return True
        if pool.picks * 4 >= len(pool.U):
            return True
        return search._in_final_phase() and not pool.final

    # ----- the pool ----------------------------------------------------------------------
    def build(self, search, q: int, chosen: list) -> CandidatePool:
        """A fresh pool for about ``q`` picks (and those of the next cycles), scored by the
        search's surrogate refitted on everything told."""
        s, enc, rng = search.settings, search.encoder, search.rng
        model = search._surrogate()
        U_told, y_told = search._training_data()
        y_mean = float(y_told.mean())
        scale = float(y_told.std()) or 1.0
        n_until_refit = self.refit_after(search._n, len(search.pending))
        n_rows = int(min(MAX_POOL, max(s.n_candidates, 4 * (q + n_until_refit))))
        top = np.argsort(-y_told, kind="stable")[:5]
        anchors = U_told[top]
        has_grad = hasattr(model, "predict_grad")
        # the local optima of one acquisition optimisation (UCB with the mean kappa)
        score = search._scorer(model, UpperConfidenceBound(s.kappa), y_mean, scale, 0.0, None)
        polished, _ = search.optimizer.optimize(score, anchors, has_grad, s.n_candidates,
                                                s.n_local, quick=True)
        parts = [
            polished[: max(1, s.n_local)],
            np.asarray(anchors, dtype=float),
            search.optimizer.perturb(anchors, max(1, n_rows // (4 * len(anchors)))),
            enc.snap(rng.random((n_rows, enc.d))),
        ]
        local = search.optimizer.perturb(anchors[:2], max(1, n_rows // 8 // min(2, len(anchors))))
        U = np.vstack(parts + [local])
        is_local = np.zeros(len(U), dtype=bool)
        is_local[len(U) - len(local):] = True
        F = enc.features(U, snapped=True)
        mean, sd = self._predict(model, F)
        pending_U = search.encoder.encode(list(search.pending.values()) + list(chosen))
        P = enc.features(pending_U, snapped=True) if len(pending_U) else np.empty((0, F.shape[1]))
        self.builds += 1
        return CandidatePool(U=U, F=F, base=(mean - y_mean) / scale, sd=sd / scale, local=is_local,
                             alive=np.ones(len(U), dtype=bool), d2=min_sq_distance(F, P),
                             model_n=search._n, final=search._in_final_phase(len(chosen)))

    @staticmethod
    def _predict(model, F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        step = 8192
        means, sds = [], []
        for i in range(0, len(F), step):
            m, sd = model.predict(F[i:i + step])
            means.append(np.asarray(m, dtype=float))
            sds.append(np.asarray(sd, dtype=float))
        return np.concatenate(means), np.concatenate(sds)

    # ----- proposals ---------------------------------------------------------------------
    def propose(self, search, q: int, seen: set, chosen: list) -> list[dict]:
        """``q`` configurations not in ``seen`` (which it extends), after ``chosen``."""
        s = search.settings
        if self.refit_due(search):
            self.pool = self.build(search, q, chosen)
        else:
            self.reuses += 1
            if chosen:  # chosen in this call before the batch (initial design): penalise them
                P = search.encoder.features(search.encoder.encode(list(chosen)), snapped=True)
                np.minimum(self.pool.d2, min_sq_distance(self.pool.F, P), out=self.pool.d2)
        pool = self.pool
        radius2 = s.exclusion_radius ** 2
        out: list[dict] = []
        misses = 0
        while len(out) < q:
            final = search._in_final_phase(len(chosen) + len(out))
            kappa = s.final_kappa if final else (float(search.rng.exponential(s.kappa))
                                                 if s.kappa > 0 else 0.0)
            value = pool.base + kappa * pool.sd
            if radius2 > 0:
                value = value - PENALTY_WEIGHT * np.exp(-0.5 * pool.d2 / radius2)
            mask = pool.alive & pool.local if final else pool.alive
            if not mask.any() or misses > 64:
                config = search._random_unseen(seen)
                u = search.encoder.encode([config])[0]
            else:
                j = int(np.argmax(np.where(mask, value, -np.inf)))
                pool.alive[j] = False
                u = pool.U[j]
                config = search.encoder.decode(u)
                if search.problem.key(config) in seen:
                    misses += 1
                    continue
            seen.add(search.problem.key(config))
            out.append(config)
            pool.picks += 1
            f = search.encoder.features(u[None, :], snapped=True)[0]
            np.minimum(pool.d2, np.einsum("ij,ij->i", pool.F - f, pool.F - f), out=pool.d2)
        return out
