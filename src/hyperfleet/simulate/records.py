"""What a simulation records: call statistics, driver cycles, evaluations, progress."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Optional

import numpy as np

__all__ = ["CallStats", "DriverCycle", "SimEvaluation", "SimulationProgress"]


@dataclass(frozen=True)
class CallStats:
    """Real wall-clock seconds of a kind of call: count, total, mean, median, p95, max."""

    calls: int
    total: float
    mean: float
    median: float
    p95: float
    max: float

    @classmethod
    def of(cls, seconds) -> "CallStats":
        values = np.asarray(list(seconds), dtype=float)
        if len(values) == 0:
            return cls(0, 0.0, 0.0, 0.0, 0.0, 0.0)
        return cls(int(len(values)), float(values.sum()), float(values.mean()),
                   float(np.median(values)), float(np.percentile(values, 95)), float(values.max()))

    def to_dict(self) -> dict:
        return dict(calls=self.calls, total=self.total, mean=self.mean, median=self.median,
                    p95=self.p95, max=self.max)


@dataclass(frozen=True)
class DriverCycle:
    """One cycle of the driver: ``tell`` what finished, ``ask`` for the free workers.

    Times in seconds: ``start`` is virtual, ``tell_s``/``ask_s`` are the measured real (wall)
    times, ``cpu_s`` the process CPU time of both, ``charged`` what the virtual clock advanced by
    (``(tell_s + ask_s) * overhead_scale + latency``, or ``cpu_s`` instead of the wall times
    with ``charge="cpu"``). ``asked`` is the ``n`` of ``ask(n)`` (0: no ask call), ``launched`` how many
    configurations it returned, ``history`` the results told before this cycle's ask,
    ``free`` the free workers at the cycle's start (of that driver's, with several drivers).
    """

    start: float
    tell_s: float
    ask_s: float
    charged: float
    cpu_s: float
    told: int
    asked: int
    launched: int
    history: int
    free: int
    driver: int = 0  #: which driver ran the cycle (``simulate(drivers=K)``)


@dataclass(frozen=True)
class SimEvaluation:
    """One simulated evaluation: virtual ``start``/``end``, its worker, its objective
    (``None``: failed, ``error`` says why)."""

    number: int
    config: dict
    worker: int
    start: float
    end: float
    objective: Optional[float]
    error: Optional[str] = None
    cancelled: bool = False  #: still running when a search without a drain reached its budget

    @property
    def duration(self) -> float:
        return self.end - self.start


class SimulationProgress(NamedTuple):
    """What a progress callback receives after each driver cycle."""

    clock: float        #: virtual seconds since the start
    finished: int       #: evaluations finished (told or about to be)
    launched: int       #: evaluations started
    max_evals: int
    running: int
    best: Optional[float]
    cycles: int
    last_cycle_s: float  #: real seconds of the last tell + ask
    wall_s: float        #: real seconds since the simulation began
