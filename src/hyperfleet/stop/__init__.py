"""Stoppers (stub of helper `stop`'s layer, only for testing the plumbing)."""

from __future__ import annotations

from typing import Any, Optional

from hyperfleet.stop.base import Stopper
from hyperfleet.stop.fixed import FixedStopper

STOPPERS: dict[str, type[Stopper]] = {FixedStopper.name: FixedStopper}


def make_stopper(name: str, seed: Optional[int] = None, **settings: Any) -> Stopper:
    """Build a stopper by its registry name; unknown name -> ValueError listing the names."""
    cls = STOPPERS.get(str(name).strip().lower())
    if cls is None:
        raise ValueError(f"unknown stopper {name!r}; choose one of {', '.join(STOPPERS)}")
    return cls(seed=seed, **settings)


__all__ = ["STOPPERS", "make_stopper", "Stopper", "FixedStopper"]
