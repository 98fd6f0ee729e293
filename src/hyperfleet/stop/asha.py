"""Asynchronous successive halving (ASHA, Li et al. 2020), in its stopping form.

The rungs are the steps ``min_step * reduction_factor ** k`` below ``max_step``. An evaluation
reaching a rung records its value there and goes on only if that value is among the top
``1 / reduction_factor`` of all values recorded at the rung so far (itself included; with fewer
than ``reduction_factor`` values, only the best goes on) -- it never waits for a rung to fill.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Optional

from hyperfleet.stop.base import Curve, Stopper, bad_setting


def default_min_step(max_step: Optional[int], reduction_factor: float) -> int:
    """The grace period when none is given: ``max_step / reduction_factor ** 2`` rounded (at
    least 1), so the first rung is two reductions below the full training (27 steps, eta 3:
    rungs 3 and 9); 1 without a ``max_step``. A first rung at step 1 judges slow starters on
    their first epoch, which on curves that cross stops the configurations that end best."""
    if max_step is None:
        return 1
    return max(1, int(round(max_step / reduction_factor ** 2)))


def rung_steps(min_step: int, reduction_factor: float, max_step: Optional[int],
               limit: int = 10_000_000) -> list[int]:
    """The rungs' steps, ``min_step * reduction_factor ** k`` rounded, strictly below
    ``max_step`` (below ``limit`` when there is no ``max_step``)."""
    top = max_step if max_step is not None else limit
    out: list[int] = []
    k = 0
    while True:
        step = int(round(min_step * reduction_factor ** k))
        if step >= top:
            return out
        if not out or step > out[-1]:
            out.append(step)
        k += 1


@dataclass(frozen=True)
class ASHASettings:
    """Settings of :class:`ASHAStopper`.

    Attributes:
        min_step: the first rung (no evaluation is stopped before it); None:
            :func:`default_min_step` (``max_step / reduction_factor ** 2``, or 1 without
            ``max_step``).
        max_step: the full training's step count (no rung at or beyond it); None: unbounded.
        reduction_factor: eta; the top 1/eta of each rung goes on.
    """

    min_step: Optional[int] = None
    max_step: Optional[int] = None
    reduction_factor: float = 3.0

    stopper = "asha"  # the name bad settings are reported under (not a field)

    def __post_init__(self) -> None:
        if not self.reduction_factor > 1:
            raise bad_setting(self.stopper, "reduction_factor", "must be > 1", self.reduction_factor)
        if self.min_step is None:
            object.__setattr__(self, "min_step",
                               default_min_step(self.max_step, self.reduction_factor))
        if self.min_step < 1:
            raise bad_setting(self.stopper, "min_step", "must be >= 1", self.min_step)
        if self.max_step is not None and self.max_step < self.min_step:
            raise bad_setting(self.stopper, "max_step", f"must be >= min_step ({self.min_step})",
                              self.max_step)


class Rungs:
    """The values recorded at each rung, kept sorted: a decision is a binary insertion."""

    def __init__(self, steps: list[int], reduction_factor: float) -> None:
        self.steps = steps
        self.eta = reduction_factor
        self.values: list[list[float]] = [[] for _ in steps]

    def advance(self, k: int, step: int, value: float) -> tuple[int, bool]:
        """Record ``value`` at every rung from index ``k`` up to ``step``; returns the next rung
        index and whether the evaluation goes on (False at the first rung it does not pass)."""
        while k < len(self.steps) and step >= self.steps[k]:
            recorded = self.values[k]
            bisect.insort(recorded, value)
            top = max(1, int(len(recorded) // self.eta))
            k += 1
            if value < recorded[-top]:
                return k, False
        return k, True


class ASHAStopper(Stopper):
    """Asynchronous successive halving; see the module docstring.

    Examples:
        >>> s = ASHAStopper(min_step=1, max_step=9, reduction_factor=3)
        >>> s.report("a", 1, 0.5), s.report("b", 1, 0.4), s.report("c", 1, 0.9)
        (True, False, True)
    """

    name = "asha"
    Settings = ASHASettings

    def __init__(self, *, seed: Optional[int] = None, **settings) -> None:
        super().__init__(seed=seed, **settings)
        s = self.settings
        self.rungs = Rungs(rung_steps(s.min_step, s.reduction_factor, s.max_step),
                           s.reduction_factor)

    def _on_new(self, curve: Curve) -> None:
        curve.data = 0  # the next rung to reach

    def _decide(self, curve: Curve, step: int, value: float) -> bool:
        curve.data, go = self.rungs.advance(curve.data, step, value)
        return go
