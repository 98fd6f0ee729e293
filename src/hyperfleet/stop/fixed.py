"""The baseline: stop every evaluation at the same step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from hyperfleet.stop.base import Curve, Stopper, bad_setting


@dataclass(frozen=True)
class FixedSettings:
    """Settings of :class:`FixedStopper`.

    Attributes:
        step: every evaluation is stopped at its report of this step (it trains ``step`` steps).
        max_step: the full training's step count (informative only); None: unknown.
    """

    step: int
    max_step: Optional[int] = None

    def __post_init__(self) -> None:
        if self.step < 1:
            raise bad_setting("fixed", "step", "must be >= 1", self.step)
        if self.max_step is not None and self.max_step < 1:
            raise bad_setting("fixed", "max_step", "must be >= 1 or None", self.max_step)


class FixedStopper(Stopper):
    """Stop everyone (but protected evaluations) at step ``step``.

    Examples:
        >>> s = FixedStopper(step=2)
        >>> [s.report("a", t, 0.1 * t) for t in (1, 2)]
        [True, False]
    """

    name = "fixed"
    compares_curves = False
    Settings = FixedSettings

    def _decide(self, curve: Curve, step: int, value: float) -> bool:
        return step < self.settings.step
