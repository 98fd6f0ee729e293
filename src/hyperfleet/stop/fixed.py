"""The baseline: stop every evaluation at the same step (stub)."""

from __future__ import annotations

from typing import Optional

from hyperfleet.stop.base import Stopper


class FixedStopper(Stopper):
    """Stop everyone (but protected evaluations) at step ``step``."""

    name = "fixed"

    def __init__(self, *, seed: Optional[int] = None, step: int = None, max_step: Optional[int] = None,
                 **unknown) -> None:
        if unknown:
            raise ValueError(f"unknown setting {sorted(unknown)[0]!r} of stopper fixed; known: step, max_step")
        if not isinstance(step, int) or step < 1:
            raise ValueError(f"stopper fixed: step must be an integer >= 1, got {step!r}")
        super().__init__(seed=seed)
        self.step, self.max_step = step, max_step

    def report(self, eval_id: str, step: int, value: float) -> bool:
        return eval_id in self.protected or step < self.step
