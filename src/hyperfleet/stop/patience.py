"""Patience: stop an evaluation whose value has not improved for a while."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from hyperfleet.stop.base import Curve, Stopper, bad_setting


@dataclass(frozen=True)
class PatienceSettings:
    """Settings of :class:`PatienceStopper`.

    Attributes:
        patience: stop once ``patience`` steps have passed since the last improvement.
        min_delta: an improvement is a value above the last improving one by more than this.
        min_step: no evaluation is stopped before this step.
        max_step: the full training's step count (informative only); None: unknown.
    """

    patience: int = 5
    min_delta: float = 0.0
    min_step: int = 1
    max_step: Optional[int] = None

    def __post_init__(self) -> None:
        if self.patience < 1:
            raise bad_setting("patience", "patience", "must be >= 1", self.patience)
        if not self.min_delta >= 0:
            raise bad_setting("patience", "min_delta", "must be >= 0", self.min_delta)
        if self.min_step < 1:
            raise bad_setting("patience", "min_step", "must be >= 1", self.min_step)
        if self.max_step is not None and self.max_step < 1:
            raise bad_setting("patience", "max_step", "must be >= 1 or None", self.max_step)


class PatienceStopper(Stopper):
    """Stop when no value improved by more than ``min_delta`` for ``patience`` steps.

    Examples:
        >>> s = PatienceStopper(patience=2)
        >>> [s.report("a", t, v) for t, v in enumerate([0.5, 0.6, 0.6, 0.55], start=1)]
        [True, True, True, False]
    """

    name = "patience"
    compares_curves = False
    Settings = PatienceSettings

    def _decide(self, curve: Curve, step: int, value: float) -> bool:
        s = self.settings
        if curve.data is None or value > curve.data[1] + s.min_delta:
            curve.data = (step, value)  # the last improvement
            return True
        return step < s.min_step or step - curve.data[0] < s.patience
