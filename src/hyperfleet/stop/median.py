"""The median stopping rule (Golovin et al. 2017, Google Vizier).

At step ``t`` (from ``min_step`` on), an evaluation is stopped if the best value it has reported
is below the median of the other evaluations' running averages at ``t`` (the mean of what each
reported up to ``t``), counted over the curves that reported at step ``t`` -- running or ended
--, once there are at least ``min_curves`` of them.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Optional

from hyperfleet.stop.base import Curve, Stopper, bad_setting


@dataclass(frozen=True)
class MedianSettings:
    """Settings of :class:`MedianStopper`.

    Attributes:
        min_step: the warm-up; no evaluation is stopped before this step.
        min_curves: the fewest other curves at a step for the rule to apply.
        max_step: the full training's step count (informative only); None: unknown.
    """

    min_step: int = 1
    min_curves: int = 3
    max_step: Optional[int] = None

    def __post_init__(self) -> None:
        if self.min_step < 1:
            raise bad_setting("median", "min_step", "must be >= 1", self.min_step)
        if self.min_curves < 1:
            raise bad_setting("median", "min_curves", "must be >= 1", self.min_curves)
        if self.max_step is not None and self.max_step < 1:
            raise bad_setting("median", "max_step", "must be >= 1 or None", self.max_step)


class MedianStopper(Stopper):
    """The median stopping rule; see the module docstring."""

    name = "median"
    Settings = MedianSettings

    def __init__(self, *, seed: Optional[int] = None, **settings) -> None:
        super().__init__(seed=seed, **settings)
        self._averages: dict[int, list[float]] = {}  # step -> sorted running averages there

    def _on_new(self, curve: Curve) -> None:
        curve.data = 0.0  # sum of the values reported so far

    def _decide(self, curve: Curve, step: int, value: float) -> bool:
        curve.data += value
        others = self._averages.setdefault(step, [])
        go = True
        if step >= self.settings.min_step and len(others) >= self.settings.min_curves:
            n = len(others)
            median = others[n // 2] if n % 2 else 0.5 * (others[n // 2 - 1] + others[n // 2])
            go = curve.best >= median
        bisect.insort(others, curve.data / len(curve.values))
        return go
