"""Hyperband's brackets over asynchronous successive halving.

Bracket ``b`` (0 = most aggressive) is an ASHA whose first rung is ``min_step * eta ** b``; the
last bracket has no rung below ``max_step`` and trains everyone fully. Each new evaluation is
assigned to one bracket at its first report, drawn from the seeded generator with Hyperband's
weights (the number of configurations Hyperband starts in each bracket), and competes only with
the evaluations of its bracket. This hedges ASHA's bet that early values predict final ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

from hyperfleet.stop.asha import Rungs, default_min_step, rung_steps
from hyperfleet.stop.base import Curve, Stopper, bad_setting


@dataclass(frozen=True)
class HyperbandSettings:
    """Settings of :class:`HyperbandStopper`.

    Attributes:
        max_step: the full training's step count (required).
        min_step: the first rung of the most aggressive bracket; None:
            ``max_step / reduction_factor ** 2`` rounded (see ``asha.default_min_step``).
        reduction_factor: eta of every bracket.
        n_brackets: how many brackets; None: all, ``floor(log_eta(max_step / min_step)) + 1``.
    """

    max_step: int
    min_step: Optional[int] = None
    reduction_factor: float = 3.0
    n_brackets: Optional[int] = None

    def __post_init__(self) -> None:
        if not self.reduction_factor > 1:
            raise bad_setting("hyperband", "reduction_factor", "must be > 1",
                              self.reduction_factor)
        if self.min_step is None:
            object.__setattr__(self, "min_step",
                               default_min_step(self.max_step, self.reduction_factor))
        if self.min_step < 1:
            raise bad_setting("hyperband", "min_step", "must be >= 1", self.min_step)
        if self.max_step < self.min_step:
            raise bad_setting("hyperband", "max_step", f"must be >= min_step ({self.min_step})",
                              self.max_step)
        if self.n_brackets is not None and self.n_brackets < 1:
            raise bad_setting("hyperband", "n_brackets", "must be >= 1 or None", self.n_brackets)


class HyperbandStopper(Stopper):
    """Hyperband brackets of ASHA; see the module docstring."""

    name = "hyperband"
    Settings = HyperbandSettings

    def __init__(self, *, seed: Optional[int] = None, **settings) -> None:
        super().__init__(seed=seed, **settings)
        s = self.settings
        eta = s.reduction_factor
        s_max = int(math.floor(math.log(s.max_step / s.min_step) / math.log(eta) + 1e-9))
        n = s_max + 1 if s.n_brackets is None else min(s.n_brackets, s_max + 1)
        self.brackets = [Rungs(rung_steps(int(round(s.min_step * eta ** b)), eta, s.max_step), eta)
                         for b in range(n)]
        # Hyperband starts ceil((s_max + 1) / (s + 1) * eta ** s) configurations in bracket s
        # (s = s_max - b: the most aggressive bracket gets the most)
        weights = np.array([math.ceil((s_max + 1) / (s_max - b + 1) * eta ** (s_max - b))
                            for b in range(n)], dtype=float)
        self.weights = weights / weights.sum()

    def _on_new(self, curve: Curve) -> None:
        bracket = int(self.rng.choice(len(self.brackets), p=self.weights))
        curve.data = [bracket, 0]

    def bracket_of(self, eval_id: str) -> int:
        """The bracket an evaluation was assigned to (it must have reported)."""
        return self.curves[eval_id].data[0]

    def _decide(self, curve: Curve, step: int, value: float) -> bool:
        bracket, k = curve.data
        curve.data[1], go = self.brackets[bracket].advance(k, step, value)
        return go
