"""Acquisition functions (to MAXIMISE) scoring candidates from a surrogate's mean and std.

Each acquisition's ``evaluate(mean, std, best)`` returns the value and its partial derivatives
with respect to ``mean`` and ``std`` (for gradient-based polishing). Values are computed on the
surrogate's output divided by ``scale`` (the objectives' spread), so ``xi`` is in those units.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_SQRT_HALF_PI = math.sqrt(math.pi / 2)


class Acquisition:
    """Base class: ``evaluate(mean, std, best) -> (value, d value/d mean, d value/d std)``."""

    name = "base"

    def evaluate(self, mean: np.ndarray, std: np.ndarray, best: float):  # pragma: no cover
        raise NotImplementedError

    def __call__(self, mean, std, best) -> np.ndarray:
        return self.evaluate(mean, std, best)[0]


def _log_h(z: np.ndarray) -> np.ndarray:
    """log(phi(z) + z Phi(z)), stable for very negative z."""
    out = np.empty_like(z)
    big = z > -1.0
    zb = z[big]
    out[big] = np.log(np.exp(-0.5 * zb * zb - _LOG_SQRT_2PI) + zb * special.ndtr(zb))
    zs = -z[~big]  # > 1
    # h(z) = phi(z) * (1 - |z| * erfcx(|z|/sqrt2) * sqrt(pi/2)) for z < 0
    inner = 1.0 - zs * special.erfcx(zs / math.sqrt(2)) * _SQRT_HALF_PI
    tiny = inner <= 1e-12
    inner_log = np.where(tiny, -2.0 * np.log(np.maximum(zs, 1.0)), np.log(np.maximum(inner, 1e-300)))
    out[~big] = -0.5 * zs * zs - _LOG_SQRT_2PI + inner_log
    return out


class ExpectedImprovement(Acquisition):
    """Log of the expected improvement over the best value seen (numerically stable).

    Args:
        xi: improvement margin in units of the objectives' standard deviation.
    """

    name = "ei"

    def __init__(self, xi: float = 0.0) -> None:
        self.xi = float(xi)

    def evaluate(self, mean, std, best):
        std = np.maximum(std, 1e-12)
        z = (mean - best - self.xi) / std
        log_h = _log_h(z)
        value = log_h + np.log(std)
        # d log EI / d mean = Phi(z) / (std h(z)); d / d std = phi(z) / (std h(z))
        log_phi = -0.5 * z * z - _LOG_SQRT_2PI
        d_mean = np.exp(special.log_ndtr(z) - log_h) / std
        d_std = np.exp(log_phi - log_h) / std
        return value, d_mean, d_std


class ProbabilityOfImprovement(Acquisition):
    """Log of the probability of improving on the best value seen by at least ``xi`` (in units
    of the objectives' standard deviation)."""

    name = "pi"

    def __init__(self, xi: float = 0.0) -> None:
        self.xi = float(xi)

    def evaluate(self, mean, std, best):
        std = np.maximum(std, 1e-12)
        z = (mean - best - self.xi) / std
        value = special.log_ndtr(z)
        ratio = np.exp(-0.5 * z * z - _LOG_SQRT_2PI - value)
        return value, ratio / std, -ratio * z / std


class UpperConfidenceBound(Acquisition):
    """``mean + kappa * std`` (objectives are maximised).

    Args:
        kappa: exploration weight (>= 0).
    """

    name = "ucb"

    def __init__(self, kappa: float = 1.96) -> None:
        if kappa < 0:
            raise ValueError(f"AMBS setting 'kappa': must be >= 0 (got {kappa!r})")
        self.kappa = float(kappa)

    def evaluate(self, mean, std, best):
        return mean + self.kappa * std, np.ones_like(mean), np.full_like(std, self.kappa)


def make_acquisition(name, kappa: float = 1.96, xi: float = 0.0) -> Acquisition:
    """Build an acquisition from its name (``ei``, ``ucb``, ``pi``) or return an instance."""
    if isinstance(name, Acquisition) or not isinstance(name, str):
        return name
    if name == "ei":
        return ExpectedImprovement(xi)
    if name == "pi":
        return ProbabilityOfImprovement(xi)
    if name == "ucb":
        return UpperConfidenceBound(kappa)
    raise ValueError(f"AMBS setting 'acquisition': unknown acquisition {name!r}; "
                     f"choose ei, ucb or pi")


def scheduled_kappa(kappa: float, decay: float, kappa_min: float, n_told: int,
                    n_initial: int) -> float:
    """UCB kappa after ``n_told`` results: ``max(kappa_min, kappa * decay ** (n_told - n_initial))``
    once the initial design is done."""
    steps = max(0, n_told - n_initial)
    return max(kappa_min, kappa * decay ** steps) if decay < 1 else kappa


__all__ = ["Acquisition", "ExpectedImprovement", "ProbabilityOfImprovement",
           "UpperConfidenceBound", "make_acquisition", "scheduled_kappa"]
