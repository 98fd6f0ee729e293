"""Stoppers: whether a running training should go on (``report``), beside the search.

===============  ==========================================================================
name             rule (settings)
===============  ==========================================================================
``asha``         asynchronous successive halving (``min_step``, ``max_step``,
                 ``reduction_factor``)
``hyperband``    Hyperband brackets of ASHA (``max_step``, ``min_step``, ``reduction_factor``,
                 ``n_brackets``)
``median``       median stopping rule (``min_step``, ``min_curves``)
``patience``     no improvement for a while (``patience``, ``min_delta``, ``min_step``)
``fixed``        everyone stops at one step (``step``)
``moasha``       successive halving with several objectives: non-dominated sorting, then
                 crowding distance, at each rung (``min_step``, ``max_step``,
                 ``reduction_factor``)
``lcmodel``      learning-curve extrapolation with uncertainty (``max_step``, ``min_step``,
                 ``top_k``, ``min_prob``)
===============  ==========================================================================
"""

from __future__ import annotations

from typing import Any, Optional

from hyperfleet.stop.asha import ASHAStopper
from hyperfleet.stop.base import Curve, Stopper
from hyperfleet.stop.fixed import FixedStopper
from hyperfleet.stop.hyperband import HyperbandStopper
from hyperfleet.stop.lcmodel import LCModelStopper
from hyperfleet.stop.median import MedianStopper
from hyperfleet.stop.moasha import MOASHAStopper, MOValue
from hyperfleet.stop.patience import PatienceStopper

STOPPERS: dict[str, type[Stopper]] = {
    cls.name: cls for cls in (ASHAStopper, HyperbandStopper, MedianStopper, PatienceStopper,
                              FixedStopper, LCModelStopper, MOASHAStopper)
}


def make_stopper(name: str, seed: Optional[int] = None, **settings: Any) -> Stopper:
    """Build a stopper by its registry name.

    Raises:
        ValueError: one line, for an unknown name (listing the names) or setting.

    Examples:
        >>> make_stopper("asha", max_step=20, reduction_factor=4)
        ASHAStopper(min_step=1, max_step=20, reduction_factor=4.0)
    """
    cls = STOPPERS.get(str(name).strip().lower())
    if cls is None:
        raise ValueError(f"unknown stopper {name!r}; choose one of {', '.join(STOPPERS)}")
    return cls(seed=seed, **settings)


__all__ = ["STOPPERS", "make_stopper", "Stopper", "Curve", "ASHAStopper", "HyperbandStopper",
           "MedianStopper", "PatienceStopper", "FixedStopper", "LCModelStopper",
           "MOASHAStopper", "MOValue"]
