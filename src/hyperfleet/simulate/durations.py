"""Evaluation durations of a simulation: distributions named by a text spec, or a function."""

from __future__ import annotations

import math
from typing import Callable, Optional, Union

import numpy as np

__all__ = ["Duration", "parse_duration", "DURATION_KINDS"]

#: the duration distributions a text spec can name, with their parameters
DURATION_KINDS = {
    "lognormal": "lognormal:MEAN:SIGMA (MEAN is the mean duration, SIGMA the std of its log)",
    "uniform": "uniform:LOW:HIGH",
    "constant": "constant:SECONDS",
    "exponential": "exponential:MEAN",
}


class Duration:
    """A distribution of evaluation durations in (virtual) seconds: ``duration(rng, config)``.

    Build one with :func:`parse_duration` from a spec such as ``"lognormal:60:0.5"``, or wrap a
    function ``f(rng, config) -> seconds``.
    """

    def __init__(self, sample: Callable[[np.random.Generator, dict], float], spec: str,
                 mean: Optional[float] = None) -> None:
        self._sample = sample
        self.spec = spec
        #: the distribution's mean, when known (``None`` for a user function)
        self.mean = mean

    def __call__(self, rng: np.random.Generator, config: dict) -> float:
        value = self._sample(rng, config)
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"duration {self.spec} returned {value!r}, not a number of seconds") \
                from None
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"duration {self.spec} returned {seconds!r}; durations must be finite "
                             f"and >= 0 seconds")
        return seconds

    def __repr__(self) -> str:
        return f"Duration({self.spec!r})"


def parse_duration(spec: Union[str, Duration, Callable]) -> Duration:
    """A :class:`Duration` from a spec (``lognormal:MEAN:SIGMA``, ``uniform:LOW:HIGH``,
    ``constant:S``, ``exponential:MEAN``; seconds) or a function ``f(rng, config) -> seconds``.

    Raises:
        ValueError: naming the problem, for an unknown kind or bad parameters.
    """
    if isinstance(spec, Duration):
        return spec
    if callable(spec):
        name = getattr(spec, "__name__", type(spec).__name__)
        return Duration(spec, f"{name}(rng, config)")
    if not isinstance(spec, str):
        raise ValueError(f"duration must be a spec like 'lognormal:60:0.5' or a function "
                         f"f(rng, config) -> seconds, got {type(spec).__name__}")
    text = spec.strip()
    kind, *params = [part.strip() for part in text.split(":")]
    kind = kind.lower()
    kinds = "; ".join(DURATION_KINDS.values())
    if kind not in DURATION_KINDS:
        raise ValueError(f"unknown duration distribution {kind!r} in {spec!r}; use one of: {kinds}")
    expected = DURATION_KINDS[kind]
    n_params = expected.split(" ")[0].count(":")
    if len(params) != n_params:
        raise ValueError(f"duration {spec!r}: {kind} takes {n_params} parameter"
                         f"{'s' if n_params > 1 else ''}, written {expected}")
    try:
        values = [float(p) for p in params]
    except ValueError:
        raise ValueError(f"duration {spec!r}: parameters must be numbers, written {expected}") from None
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"duration {spec!r}: parameters must be finite numbers")

    def need(ok: bool, why: str) -> None:
        if not ok:
            raise ValueError(f"duration {spec!r}: {why}")

    if kind == "lognormal":
        mean, sigma = values
        need(mean > 0, "the mean must be > 0 seconds")
        need(sigma >= 0, "sigma must be >= 0")
        mu = math.log(mean) - sigma ** 2 / 2  # so that the distribution's mean is `mean`
        return Duration(lambda rng, c: rng.lognormal(mu, sigma), text, mean)
    if kind == "uniform":
        low, high = values
        need(0 <= low <= high, "needs 0 <= LOW <= HIGH")
        need(high > 0, "HIGH must be > 0 seconds")
        return Duration(lambda rng, c: rng.uniform(low, high), text, (low + high) / 2)
    if kind == "constant":
        (seconds,) = values
        need(seconds > 0, "the duration must be > 0 seconds")
        return Duration(lambda rng, c: seconds, text, seconds)
    (mean,) = values  # exponential
    need(mean > 0, "the mean must be > 0 seconds")
    return Duration(lambda rng, c: rng.exponential(mean), text, mean)
