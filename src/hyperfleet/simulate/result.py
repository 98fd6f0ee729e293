"""The result of a simulation: its figures, a text report and a JSON-ready dict."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from hyperfleet.search import Search
from hyperfleet.simulate.records import CallStats

__all__ = ["SimulationResult"]


@dataclass
class SimulationResult:
    """What a simulation measured. Times are virtual seconds unless named ``*_s``/real.

    Attributes:
        utilization: busy worker time / (workers x makespan).
        useful_utilization: the same, counting only evaluations that finished (without a drain,
            the partial work of the evaluations cancelled at the end is left out); equal to
            ``utilization`` with a drain.
        drain: whether the budget ended with a drain (see :func:`simulate`).
        release_idle: whether a worker the budget had no more work for was released (a worker
            job ended) instead of held idle until the end; ``n_released`` such workers.
        held_time: worker-seconds held: ``workers x makespan`` less the time after each
            release; ``held_utilization``: finished work / ``held_time`` (equal to
            ``useful_utilization`` without ``release_idle``).
        n_cancelled: evaluations cancelled at the end (without a drain).
        makespan: virtual time from the start until the last evaluation finished.
        steady_utilization: utilization from the start until ``last_start``, the start of the
            last evaluation (while the budget still had work for every worker): what a run
            bounded by time rather than by an evaluation count would see, without the drain
            at the end of a fixed budget, when the longest last evaluations keep a few workers
            busy and the others have nothing left to run.
        busy_time: total duration of all evaluations (worker-seconds).
        idle_driver: worker-seconds that free workers (with budget left for them) spent waiting
            while the driver was busy in ``tell``/``ask`` — including the wait of a finished
            evaluation for the driver's next cycle to notice it.
        idle_no_work: the rest of the idle time (``workers x makespan - busy_time -
            idle_driver``): free workers while the driver had nothing to give them (the end of the
            budget, or the search proposing fewer configurations than asked).
        launch_wait: :class:`CallStats` of how long a worker waited, from becoming free to its
            next evaluation (virtual seconds; only waits that ended in a launch).
        tell, ask, cycle: real wall-clock :class:`CallStats` of the search's ``tell`` calls,
            ``ask`` calls and of each driver cycle that asked (``tell`` + ``ask``; the cycles
            that only tell, in the drain at the end of the budget, are left out);
            ``cycle_cpu``: the CPU time of the same cycles (unaffected by other programs
            competing for the machine's cores).
        charge: ``"wall"`` or ``"cpu"``: which of the two the virtual clock was charged.
        trace: ``(virtual time, evaluations finished, best objective)`` at each improvement.
        cycles: every :class:`DriverCycle`; evaluations: every :class:`SimEvaluation`.
        drivers: drivers sharing the workers and the store (``store_latency``: seconds before
            one's results are visible to the others); ``driver_busy`` and the call statistics
            are over all of them; ``search`` is the first driver's.
    """

    search_name: str
    workers: int
    max_evals: int
    duration: str
    seed: Optional[int]
    overhead_scale: float
    latency: float
    charge: str
    n_evals: int
    n_failed: int
    makespan: float
    busy_time: float
    utilization: float
    steady_utilization: float
    last_start: float
    useful_utilization: float
    idle_driver: float
    idle_no_work: float
    driver_busy: float
    launch_wait: CallStats
    tell: CallStats
    ask: CallStats
    cycle: CallStats
    cycle_cpu: CallStats
    best_objective: Optional[float]
    best_config: Optional[dict]
    best_time: Optional[float]
    trace: list
    cycles: list
    evaluations: list
    stop_reason: str
    wall_time: float
    first_error: Optional[str] = None
    drain: bool = True
    n_cancelled: int = 0
    drivers: int = 1
    store_latency: float = 0.0
    release_idle: bool = False
    held_time: float = 0.0
    held_utilization: float = float("nan")
    n_released: int = 0
    search: Optional[Search] = field(default=None, repr=False)

    @property
    def evals_per_hour(self) -> float:
        return self.n_evals / self.makespan * 3600 if self.makespan > 0 else float("nan")

    @property
    def mean_duration(self) -> float:
        """Mean duration of the evaluations that finished."""
        useful = self.useful_utilization * self.workers * self.makespan
        return useful / self.n_evals if self.n_evals else float("nan")

    @property
    def ideal_makespan(self) -> float:
        """Makespan with a free driver and perfect packing: busy time / workers."""
        return self.busy_time / self.workers

    def summary(self) -> str:
        """A short text report."""
        total = self.workers * self.makespan
        pct = (lambda x: 100 * x / total) if total > 0 else (lambda x: float("nan"))
        lines = [
            f"simulated {self.n_evals:,} evaluations ({self.search_name}) on {self.workers:,} virtual "
            f"workers, durations {self.duration} (mean of those run {self.mean_duration:.3g} s)",
            f"utilization         {self.utilization:.4f}  (until the last evaluation started, "
            f"before the budget's drain: {self.steady_utilization:.4f})" if self.drain else
            f"utilization         {self.utilization:.4f}  (no drain: {self.n_cancelled:,} evaluations "
            f"cancelled at the end; counting only finished work: {self.useful_utilization:.4f})",
            f"makespan            {self.makespan / 3600:.4g} h virtual  "
            f"(ideal {self.ideal_makespan / 3600:.4g} h)  {self.evals_per_hour:,.0f} evaluations/hour",
            f"idle, driver busy   {pct(self.idle_driver):.2f} % of worker time; a free worker waited "
            f"{self.launch_wait.mean:.3g} s on average for its next evaluation "
            f"(p95 {self.launch_wait.p95:.3g} s, max {self.launch_wait.max:.3g} s)",
            f"idle, no work       {pct(self.idle_no_work):.2f} % of worker time "
            f"(the end of the budget; the search proposing fewer than asked)",
        ]
        if self.release_idle:
            lines.append(f"released idle       {self.n_released:,} workers once the budget had no more "
                         f"work for them; finished work / worker time held: {self.held_utilization:.4f} "
                         f"({self.held_time / 3600:,.4g} worker-hours held)")
        if self.best_objective is None:
            lines.append("best objective      none: no evaluation succeeded")
        else:
            lines.append(f"best objective      {self.best_objective:.6g} at {self.best_time / 3600:.4g} h "
                         f"virtual")
        if self.n_failed:
            lines.append(f"failed evaluations  {self.n_failed:,} (first: {self.first_error})")
        scale = "" if self.overhead_scale == 1 else f" x {self.overhead_scale:g}"
        latency = "" if not self.latency else f" + {self.latency:g} s latency"
        who = "driver" if self.drivers == 1 else \
            f"{self.drivers} drivers (store latency {self.store_latency:g} s)"
        lines += [
            f"{who} ({self.charge} time charged{scale}{latency}): {len(self.cycles):,} cycles "
            f"({self.cycle.calls:,} with an ask), busy {self.driver_busy / 3600:.3g} h virtual",
            f"  tell+ask per cycle  {_call_line(self.cycle)}",
            f"  (its CPU time)      {_call_line(self.cycle_cpu)}",
            f"  ask per call        {_call_line(self.ask)}",
            f"  tell per call       {_call_line(self.tell)}",
            f"stopped: {self.stop_reason}; wall time {self.wall_time:.1f} s",
        ]
        return "\n".join(lines)

    def to_dict(self, evaluations: bool = True, cycles: bool = True) -> dict:
        """JSON-ready dict of the result (every evaluation and cycle unless told otherwise)."""
        out = {
            "search": self.search_name, "workers": self.workers, "max_evals": self.max_evals,
            "duration": self.duration, "seed": self.seed, "overhead_scale": self.overhead_scale,
            "latency": self.latency, "charge": self.charge, "n_evals": self.n_evals,
            "n_failed": self.n_failed,
            "makespan": self.makespan, "makespan_hours": self.makespan / 3600,
            "busy_time": self.busy_time, "utilization": self.utilization,
            "steady_utilization": self.steady_utilization, "last_start": self.last_start,
            "useful_utilization": self.useful_utilization, "drain": self.drain,
            "n_cancelled": self.n_cancelled,
            "evals_per_hour": self.evals_per_hour, "idle_driver": self.idle_driver,
            "idle_no_work": self.idle_no_work, "driver_busy": self.driver_busy,
            "launch_wait": self.launch_wait.to_dict(), "tell": self.tell.to_dict(),
            "ask": self.ask.to_dict(), "cycle": self.cycle.to_dict(),
            "cycle_cpu": self.cycle_cpu.to_dict(),
            "best_objective": self.best_objective, "best_config": _jsonable(self.best_config),
            "best_time": self.best_time, "trace": [list(t) for t in self.trace],
            "stop_reason": self.stop_reason, "wall_time": self.wall_time,
            "first_error": self.first_error, "drivers": self.drivers,
            "store_latency": self.store_latency, "release_idle": self.release_idle,
            "held_time": self.held_time, "held_utilization": self.held_utilization,
            "n_released": self.n_released,
        }
        if cycles:
            out["cycles"] = [[c.start, c.tell_s, c.ask_s, c.charged, c.cpu_s, c.told, c.asked,
                              c.launched, c.history, c.free, c.driver] for c in self.cycles]
            out["cycle_columns"] = ["start", "tell_s", "ask_s", "charged", "cpu_s", "told", "asked",
                                    "launched", "history", "free", "driver"]
        if evaluations:
            out["evaluations"] = [[e.start, e.end, e.worker, e.objective] for e in self.evaluations]
            out["evaluation_columns"] = ["start", "end", "worker", "objective"]
        return out

    def busy_workers(self, times) -> np.ndarray:
        """How many workers were running an evaluation at each of the given virtual times."""
        times = np.asarray(times, dtype=float)
        starts = np.sort([e.start for e in self.evaluations])
        ends = np.sort([e.end for e in self.evaluations])
        return (np.searchsorted(starts, times, side="right")
                - np.searchsorted(ends, times, side="right"))


def _call_line(stats: CallStats) -> str:
    if not stats.calls:
        return "no calls"
    return (f"median {_ms(stats.median)}, p95 {_ms(stats.p95)}, max {_ms(stats.max)}, "
            f"total {stats.total:.4g} s over {stats.calls:,} calls")


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return value
