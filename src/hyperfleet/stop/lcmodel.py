"""A learning-curve model: stop a training unlikely to end among the best.

Each curve is extrapolated to ``max_step`` by Bayesian model averaging over a grid of two-parameter
learning-curve families, ``y(t) = y_T + b * (phi(t / T) - phi(1))`` with ``phi`` one of
``(t/T) ** -c`` (power law), ``exp(-c t/T)`` (exponential saturation) and ``log(t/T)``. The final
value ``y_T`` is then a linear parameter: with a flat prior on ``(y_T, b)`` and an inverse-gamma
prior on the noise variance centred on the noise pooled over all curves, each member's predictive
of ``y_T`` is a Student-t in closed form and its evidence weighs it. The sufficient statistics
are updated in O(grid) per report, so a decision costs microseconds whatever the number of
curves -- DeepHyper's ``LCModelStopper`` runs MCMC (numpyro) per decision instead.

An evaluation is stopped, from ``min_step`` on, when its probability of ending at or above the
``top_k``-th best level of the other curves is below ``min_prob``. A curve's level is its final
value if it completed, else the best value it reported (for rising curves a lower bound of
what it would have reached).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np
from scipy.special import stdtr

from hyperfleet.stop.base import Curve, Stopper, bad_setting

#: prior strength (pseudo-observations) of the pooled noise variance
NOISE_PRIOR_DOF = 2.0


def _basis_grid() -> tuple[list[str], np.ndarray]:
    names, params = [], []
    for c in (0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0):
        names.append(f"pow{c:g}")
        params.append((0, c))
    for c in (1.0, 2.0, 3.0, 4.5, 6.0, 8.0, 11.0, 15.0, 20.0, 30.0, 50.0):
        names.append(f"exp{c:g}")
        params.append((1, c))
    names.append("log")
    params.append((2, 0.0))
    return names, np.array(params)


BASIS_NAMES, _BASIS = _basis_grid()


def basis(x: np.ndarray | float) -> np.ndarray:
    """``phi(x) - phi(1)`` of every grid member at ``x = t / T`` (members along the last axis)."""
    x = np.asarray(x, dtype=float)[..., None]
    kind, c = _BASIS[:, 0], _BASIS[:, 1]
    pw = x ** -np.where(kind == 0, c, 1.0) - 1.0
    ex = np.exp(-np.where(kind == 1, c, 1.0) * x) - np.exp(-np.where(kind == 1, c, 1.0))
    lg = np.log(x)
    return np.where(kind == 0, pw, np.where(kind == 1, ex, lg))


@dataclass(frozen=True)
class LCModelSettings:
    """Settings of :class:`LCModelStopper`.

    Attributes:
        max_step: the full training's step count, where the final value is predicted (required).
        min_step: no evaluation is stopped before this step (and before 3 reports).
        top_k: the level to beat is the ``top_k``-th best of the other curves.
        min_prob: stop when the chance of reaching that level is below this.
        shape_prior: weigh the curve families by how well they fitted the completed curves
            (the curves of one task often share their shape) instead of equally; off by
            default (neutral on the benchmark's crossing curves, see benchmarks/RESULTS.md "lc").
    """

    max_step: int
    min_step: int = 3
    top_k: int = 1
    min_prob: float = 0.05
    shape_prior: bool = False

    def __post_init__(self) -> None:
        if self.max_step < 2:
            raise bad_setting("lcmodel", "max_step", "must be >= 2", self.max_step)
        if self.min_step < 1:
            raise bad_setting("lcmodel", "min_step", "must be >= 1", self.min_step)
        if self.top_k < 1:
            raise bad_setting("lcmodel", "top_k", "must be >= 1", self.top_k)
        if not 0 < self.min_prob < 1:
            raise bad_setting("lcmodel", "min_prob", "must be in (0, 1)", self.min_prob)


class CurveStats:
    """Sufficient statistics of one curve for every grid member (values offset by the first)."""

    __slots__ = ("offset", "n", "sy", "syy", "sz", "szz", "szy", "prev", "sq2", "n2")

    def __init__(self, offset: float, m: int) -> None:
        self.offset = offset
        self.n = 0
        self.sy = self.syy = 0.0
        self.sz = np.zeros(m)
        self.szz = np.zeros(m)
        self.szy = np.zeros(m)
        self.prev: list[float] = []  # the last two values, for second differences
        self.sq2 = 0.0
        self.n2 = 0

    def add(self, z: np.ndarray, y: float) -> Optional[float]:
        """Add a point (basis values ``z``); returns its squared second difference if any."""
        y = y - self.offset
        self.n += 1
        self.sy += y
        self.syy += y * y
        self.sz += z
        self.szz += z * z
        self.szy += z * y
        out = None
        if len(self.prev) == 2:
            out = (y - 2 * self.prev[1] + self.prev[0]) ** 2
            self.sq2 += out
            self.n2 += 1
        self.prev = [self.prev[-1], y] if self.prev else [y]
        return out

    def predict(self, noise_var: float, log_prior: Optional[np.ndarray] = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """Per grid member: weight, location and scale of the Student-t predictive of the final
        value (noise included), and its degrees of freedom; ``log_prior``: the members' log
        prior weights (None: uniform)."""
        n = self.n
        det = n * self.szz - self.sz ** 2
        det = np.maximum(det, 1e-12 * max(1.0, n) * np.maximum(self.szz, 1e-300))
        # least squares of y on [1, z]: [a, b] = S^-1 r; a is y_T - offset
        a = (self.szz * self.sy - self.sz * self.szy) / det
        b = (n * self.szy - self.sz * self.sy) / det
        rss = np.maximum(self.syy - a * self.sy - b * self.szy, 0.0)
        dof = n - 2 + NOISE_PRIOR_DOF
        s2 = (rss + NOISE_PRIOR_DOF * noise_var) / dof
        v00 = self.szz / det  # variance factor of a
        scale = np.sqrt(s2 * (1.0 + v00))
        log_ev = -0.5 * np.log(det) - 0.5 * dof * np.log(rss + NOISE_PRIOR_DOF * noise_var)
        if log_prior is not None:
            log_ev = log_ev + log_prior
        w = np.exp(log_ev - log_ev.max())
        return w / w.sum(), a + self.offset, scale, dof


class LCModelStopper(Stopper):
    """Learning-curve extrapolation with uncertainty; see the module docstring."""

    name = "lcmodel"
    Settings = LCModelSettings

    def __init__(self, *, seed: Optional[int] = None, **settings) -> None:
        super().__init__(seed=seed, **settings)
        self._levels = np.full(64, -np.inf)  # per curve (by arrival order): its level
        self._sq2 = 0.0  # pooled squared second differences of every curve
        self._n2 = 0
        self._range = [math.inf, -math.inf]
        self._basis: dict[int, np.ndarray] = {}  # step -> basis values (the same for every curve)
        # the family weights of the completed curves, summed (a uniform one counts once)
        self._shape_sum = np.full(len(BASIS_NAMES), 1.0 / len(BASIS_NAMES))
        self._shape_n = 1.0

    def _on_new(self, curve: Curve) -> None:
        if curve.order >= len(self._levels):
            self._levels = np.concatenate([self._levels, np.full(len(self._levels), -np.inf)])
        curve.data = None

    def noise_var(self) -> float:
        """The noise variance pooled over all curves (second differences; a floor from the
        values' range while there are too few)."""
        lo, hi = self._range
        floor = (1e-4 * (hi - lo)) ** 2 + 1e-18
        if self._n2 < 3:
            return max(floor, (0.01 * (hi - lo)) ** 2)
        return max(floor, self._sq2 / (6.0 * self._n2))

    def log_shape_prior(self) -> Optional[np.ndarray]:
        """The log prior weight of each family: the mean of the completed curves' posterior
        weights and a uniform one (None when ``shape_prior`` is off)."""
        if not self.settings.shape_prior:
            return None
        return np.log(self._shape_sum / self._shape_n)

    def predict(self, eval_id: str) -> tuple[float, float]:
        """The predicted final value of a curve with at least 3 reports: mean and standard
        deviation of the model average."""
        stats: CurveStats = self.curves[eval_id].data
        w, loc, scale, dof = stats.predict(self.noise_var(), self.log_shape_prior())
        mean = float(w @ loc)
        var_t = scale ** 2 * (dof / (dof - 2) if dof > 2 else 3.0)
        return mean, float(math.sqrt(w @ (var_t + (loc - mean) ** 2)))

    def prob_above(self, eval_id: str, level: float) -> float:
        """The model's probability that the curve ends at or above ``level``."""
        stats: CurveStats = self.curves[eval_id].data
        w, loc, scale, dof = stats.predict(self.noise_var(), self.log_shape_prior())
        return float(w @ stdtr(dof, (loc - level) / scale))

    def _decide(self, curve: Curve, step: int, value: float) -> bool:
        s = self.settings
        if curve.data is None:
            curve.data = CurveStats(value, len(BASIS_NAMES))
        z = self._basis.get(step)
        if z is None:
            z = self._basis[step] = basis(min(step, s.max_step) / s.max_step)
        sq2 = curve.data.add(z, value)
        if sq2 is not None:
            self._sq2 += sq2
            self._n2 += 1
        if value < self._range[0]:
            self._range[0] = value
        if value > self._range[1]:
            self._range[1] = value
        own = curve.order
        self._levels[own] = curve.best
        if step < s.min_step or curve.data.n < 3 or step >= s.max_step:
            return True
        level = self._level_to_beat(own)
        if level is None:
            return True
        return self.prob_above(curve.eval_id, level) >= s.min_prob

    def _level_to_beat(self, own: int) -> Optional[float]:
        k = self.settings.top_k
        n = len(self.curves)
        if n - 1 < k:
            return None
        levels = self._levels[:n].copy()
        levels[own] = -np.inf
        return float(np.partition(levels, n - k)[n - k])

    def _on_finish(self, curve: Curve) -> None:
        if curve.steps:
            self._levels[curve.order] = curve.last_value if curve.completed else curve.best
        if (self.settings.shape_prior and curve.completed and curve.data is not None
                and curve.data.n >= 3):
            self._shape_sum += curve.data.predict(self.noise_var())[0]
            self._shape_n += 1.0


__all__ = ["LCModelStopper", "LCModelSettings", "basis", "BASIS_NAMES"]
