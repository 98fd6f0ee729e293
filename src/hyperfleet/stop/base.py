"""The stopper interface (stub of helper `stop`'s layer, only for testing the plumbing)."""

from __future__ import annotations

from typing import ClassVar, Optional


class Stopper:
    """Decides whether a running training goes on; see STOPPER-API (issue #11)."""

    name: ClassVar[str] = ""
    max_step: Optional[int] = None

    def __init__(self, *, seed: Optional[int] = None, **settings) -> None:
        self.seed = seed
        self.protected: set[str] = set()

    def report(self, eval_id: str, step: int, value: float) -> bool:
        """Record ``value`` at ``step`` of ``eval_id``; True: continue, False: stop it now."""
        raise NotImplementedError

    def finish(self, eval_id: str, *, stopped: bool) -> None:
        """The evaluation ended."""

    def protect(self, eval_id: str) -> None:
        """Never stop this evaluation."""
        self.protected.add(eval_id)
