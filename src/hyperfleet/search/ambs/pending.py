"""How AMBS proposes points while other evaluations are still running (pending).

* :class:`ConstantLiar` (``cl_min``, ``cl_mean``, ``cl_max``): every pending point — and every
  point already chosen in the same ``ask`` — enters the model with a made-up objective, the
  lowest / mean / highest value seen. ``cl_min`` is pessimistic (spreads a batch most), ``cl_max``
  optimistic. With a GP this costs a Cholesky update, not a refit.
* :class:`QUCB`: no refit at all; each point of a batch maximises UCB with its own kappa drawn
  from an exponential distribution of mean ``kappa``, minus a penalty near pending points.
"""

from __future__ import annotations

import numpy as np

from hyperfleet.search.ambs.acquisition import Acquisition, UpperConfidenceBound


class PendingStrategy:
    """Base class of the pending-evaluation strategies.

    ``propose`` is the entry point the settings check for; AMBS drives a strategy through
    :meth:`fantasize`, :meth:`acquisition` and :attr:`penalize`.
    """

    name = "base"
    #: whether the scores are penalised near pending points
    penalize = False

    def fantasize(self, model, F: np.ndarray, y_told: np.ndarray):
        """The model to use given pending feature rows ``F`` (default: unchanged)."""
        return model

    def acquisition(self, base: Acquisition, kappa: float,
                    rng: np.random.Generator) -> Acquisition:
        """The acquisition for the next point of a batch (default: ``base``)."""
        return base

    def propose(self, *args, **kwargs):  # pragma: no cover - marker for custom strategies
        raise NotImplementedError("AMBS drives pending strategies through fantasize/acquisition")


class ConstantLiar(PendingStrategy):
    """Constant liar: pending points are told to the model with a lie.

    Args:
        lie: ``"min"``, ``"mean"`` or ``"max"`` of the objectives seen.
    """

    def __init__(self, lie: str = "min") -> None:
        if lie not in ("min", "mean", "max"):
            raise ValueError(f"AMBS setting 'pending': unknown lie {lie!r}; choose min, mean or max")
        self.lie = lie
        self.name = f"cl_{lie}"

    def lie_value(self, y_told: np.ndarray) -> float:
        return float({"min": np.min, "mean": np.mean, "max": np.max}[self.lie](y_told))

    def fantasize(self, model, F, y_told):
        if len(F) == 0:
            return model
        return model.condition(F, np.full(len(F), self.lie_value(y_told)))


class QUCB(PendingStrategy):
    """q-UCB: a fresh exponential kappa per point and a penalty near pending points."""

    name = "qucb"
    penalize = True

    def acquisition(self, base, kappa, rng):
        return UpperConfidenceBound(float(rng.exponential(kappa)) if kappa > 0 else 0.0)


def make_pending(name, surrogate_cheap: bool | None = True) -> PendingStrategy:
    """Build a strategy from its name, or return an instance; ``auto`` picks ``cl_min`` for
    surrogates that condition cheaply (GPs) and ``qucb`` otherwise."""
    if not isinstance(name, str):
        return name
    if name == "auto":
        name = "cl_min" if surrogate_cheap else "qucb"
    if name.startswith("cl_"):
        return ConstantLiar(name[3:])
    if name == "qucb":
        return QUCB()
    raise ValueError(f"AMBS setting 'pending': unknown strategy {name!r}; "
                     f"choose auto, cl_min, cl_mean, cl_max or qucb")
