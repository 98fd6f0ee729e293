"""Maximising the acquisition over a mixed space of floats, integers and categories.

:class:`AcquisitionOptimizer` scores a pool of random candidates plus perturbations of the best
evaluated points, then refines the best few by local search that alternates

* L-BFGS-B on the continuous dimensions (when the surrogate gives gradients; otherwise Gaussian
  steps at shrinking scales), and
* discrete moves: integer and ordinal-level steps (±1, ±2 and a few larger jumps) and every
  other choice of each
  categorical (at most :data:`MAX_CHOICE_MOVES` random other choices of a larger one, so that
  the moves of a start stay bounded whatever the space),

until no move improves. Everything happens on canonical unit vectors (``Encoder.snap``), so
integers and categories are always exact values of the problem.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import optimize

from hyperfleet.search.ambs.encoding import Encoder

#: ``score(U, grad) -> (values, gradient w.r.t. the float columns of U or None)``
Scorer = Callable[[np.ndarray, bool], tuple]

#: other choices of one categorical tried as discrete moves from one point, at most
MAX_CHOICE_MOVES = 64


class AcquisitionOptimizer:
    """Propose unit vectors that maximise a score.

    Args:
        encoder: the problem's :class:`~hyperfleet.search.ambs.encoding.Encoder`.
        n_candidates: random candidates per call.
        n_local: best candidates refined by local search.
        rng: random generator.
        max_rounds: local-search rounds (continuous polish + discrete moves) at most.
    """

    def __init__(self, encoder: Encoder, n_candidates: int = 1024, n_local: int = 5,
                 rng: np.random.Generator | None = None, max_rounds: int = 4) -> None:
        self.encoder = encoder
        self.n_candidates = int(n_candidates)
        self.n_local = int(n_local)
        self.rng = rng if rng is not None else np.random.default_rng()
        self.max_rounds = int(max_rounds)
        self.spread = 0.25

    # ----- candidate generation ----------------------------------------------------------
    def perturb(self, anchors: np.ndarray, n_each: int) -> np.ndarray:
        """Random neighbours of ``anchors``: Gaussian steps on numeric entries, choice flips."""
        if len(anchors) == 0 or n_each <= 0:
            return np.empty((0, self.encoder.d))
        enc, rng = self.encoder, self.rng
        U = np.repeat(anchors, n_each, axis=0)
        scales = rng.choice([0.005, 0.02, 0.06, 0.15], size=(len(U), 1))
        numeric = np.concatenate([enc.float_idx, enc.int_idx, enc.ord_idx]).astype(int)
        if len(numeric):
            # move a random subset of numeric dimensions (at least one)
            mask = rng.random((len(U), len(numeric))) < max(0.5, 2.0 / max(1, len(numeric)))
            step = rng.normal(size=(len(U), len(numeric))) * scales * mask
            U[:, numeric] += step
            for k, j in enumerate(numeric):  # make sure an integer moves when it was picked
                if enc.kinds[j] in ("int", "ord"):
                    card = enc.cards[j]
                    moved = mask[:, k] & (np.abs(step[:, k]) * card < 1.0)
                    U[moved, j] += np.sign(step[moved, k] + 1e-12) / card
        for j in enc.cat_idx:
            flip = rng.random(len(U)) < 1.0 / max(2, enc.d)
            U[flip, j] = rng.random(int(flip.sum()))
        return enc.snap(U)

    def discrete_neighbours(self, u: np.ndarray) -> np.ndarray:
        """All one-move neighbours of ``u`` in its integer and categorical dimensions."""
        enc = self.encoder
        out = []
        for j in np.concatenate([enc.int_idx, enc.ord_idx]).astype(int):
            dim = enc.dims[j]
            v = int(enc.index(u[None, :], j)[0])
            card = enc.cards[j]
            values = {v - 1, v + 1, v - 2, v + 2}
            for frac in (0.05, 0.15, 0.35):
                jump = max(3, round(frac * card))
                values.update((v - jump, v + jump))
            if dim.kind == "ord":  # level indices
                low, high = 0, card - 1
            else:
                low, high = int(dim.low), int(dim.high)
                if dim.log:
                    values.update((round(v * 1.5), round(v / 1.5), v * 2, v // 2))
            values = [w for w in values if low <= w <= high and w != v]
            if values:
                block = np.repeat(u[None, :], len(values), axis=0)
                block[:, j] = enc.unit(np.array(values), j)
                out.append(block)
        for j in enc.cat_idx:
            idx = int(enc.index(u[None, :], j)[0])
            card = enc.cards[j]
            if card - 1 > MAX_CHOICE_MOVES:
                picks = self.rng.choice(card - 1, size=MAX_CHOICE_MOVES, replace=False)
                others = picks + (picks >= idx)  # skip idx itself
            else:
                others = np.array([c for c in range(card) if c != idx], dtype=int)
            if len(others):
                block = np.repeat(u[None, :], len(others), axis=0)
                block[:, j] = enc.unit(others, j)
                out.append(block)
        return np.vstack(out) if out else np.empty((0, enc.d))

    # ----- local refinement --------------------------------------------------------------
    def _polish_continuous(self, starts: np.ndarray, values: np.ndarray, score: Scorer,
                           has_grad: bool, max_iter: int = 40) -> tuple[np.ndarray, np.ndarray]:
        fi = self.encoder.float_idx
        if len(fi) == 0:
            return starts, values
        if has_grad:
            k = len(starts)
            base = starts.copy()

            def fun(x):
                U = base.copy()
                U[:, fi] = x.reshape(k, len(fi))
                v, g = score(U, True)
                return -float(np.sum(v)), -g.ravel()

            x0 = starts[:, fi].ravel()
            try:
                res = optimize.minimize(fun, x0, jac=True, method="L-BFGS-B",
                                        bounds=[(0.0, 1.0)] * len(x0),
                                        options={"maxiter": max_iter})
                cand = base.copy()
                cand[:, fi] = np.clip(res.x.reshape(k, len(fi)), 0.0, 1.0)
            except (ValueError, FloatingPointError):
                return starts, values
            cand_values = score(cand, False)[0]
        else:
            k = len(starts)
            n_each = 24
            U = np.repeat(starts, n_each, axis=0)
            scales = np.tile(np.repeat([0.002, 0.01, 0.04], n_each // 3), k)[:, None]
            U[:, fi] += self.rng.normal(size=(len(U), len(fi))) * scales
            U = np.clip(U, 0.0, 1.0)
            v = score(U, False)[0].reshape(k, n_each)
            best = v.argmax(axis=1)
            cand = U.reshape(k, n_each, -1)[np.arange(k), best]
            cand_values = v[np.arange(k), best]
        better = cand_values > values
        starts = np.where(better[:, None], cand, starts)
        values = np.where(better, cand_values, values)
        return starts, values

    def _discrete_moves(self, starts, values, score: Scorer):
        enc = self.encoder
        if len(enc.int_idx) + len(enc.cat_idx) + len(enc.ord_idx) == 0:
            return starts, values, False
        blocks = [self.discrete_neighbours(u) for u in starts]
        sizes = [len(b) for b in blocks]
        if sum(sizes) == 0:
            return starts, values, False
        allU = np.vstack(blocks)
        allv = score(allU, False)[0]
        improved = False
        pos = 0
        starts, values = starts.copy(), values.copy()
        for i, size in enumerate(sizes):
            if size:
                j = int(np.argmax(allv[pos:pos + size]))
                if allv[pos + j] > values[i] + 1e-12:
                    starts[i], values[i] = allU[pos + j], allv[pos + j]
                    improved = True
            pos += size
        return starts, values, improved

    # ----- main entry ----------------------------------------------------------------------
    def optimize(self, score: Scorer, anchors: np.ndarray, has_grad: bool = False,
                 n_candidates: int | None = None, n_local: int | None = None,
                 quick: bool = False, local_only: bool = False):
        """Candidates sorted by decreasing score: ``(U, values)`` (local optima first).

        ``quick`` shortens the local search (used for the points of large batches);
        ``local_only`` draws the candidates around the first two anchors only (the best points)
        instead of over the whole space.
        """
        enc = self.encoder
        n_candidates = self.n_candidates if n_candidates is None else int(n_candidates)
        n_local = self.n_local if n_local is None else int(n_local)
        if local_only and len(anchors):
            pool = [self.perturb(anchors[:2], max(1, n_candidates // min(2, len(anchors))))]
        else:
            pool = [enc.snap(self.rng.random((n_candidates, enc.d)))]
        if len(anchors):
            pool.append(self.perturb(anchors, max(1, n_candidates // (4 * len(anchors)))))
            pool.append(np.asarray(anchors, dtype=float))
        U = np.vstack(pool)
        values = score(U, False)[0]
        if n_local > 0:
            order = np.argsort(-values)
            starts_idx = _distinct_top(U, order, n_local, self.spread)
            starts, svals = U[starts_idx].copy(), values[starts_idx].copy()
            has_discrete = len(enc.int_idx) + len(enc.cat_idx) + len(enc.ord_idx) > 0
            for round_ in range(2 if quick else self.max_rounds):
                before = svals.copy()
                # a full polish first; later rounds only re-adjust after discrete moves
                iters = 12 if quick else (40 if round_ == 0 else 15)
                starts, svals = self._polish_continuous(starts, svals, score, has_grad, iters)
                starts, svals, moved = self._discrete_moves(starts, svals, score)
                if not moved and (np.all(svals <= before + 1e-9) or not has_discrete):
                    break
            U = np.vstack([starts, U])
            values = np.concatenate([svals, values])
        order = np.argsort(-values, kind="stable")
        return U[order], values[order]


def _distinct_top(U: np.ndarray, order: np.ndarray, k: int, spread: float = 0.0) -> list:
    """The best ``k`` distinct rows; after the first ``ceil(k/2)``, only rows farther than
    ``spread`` (max-norm) from every row already chosen, so that some starts explore other
    basins of the acquisition."""
    chosen: list = []
    for i in order:
        gap = spread if len(chosen) >= (k + 1) // 2 else 1e-9
        if all(np.max(np.abs(U[i] - U[j])) > gap for j in chosen):
            chosen.append(int(i))
        if len(chosen) >= k:
            break
    return chosen
