"""From what a simulated run recorded to its figures: utilization, idle time and its causes."""

from __future__ import annotations

from hyperfleet.simulate.loop import Run
from hyperfleet.simulate.records import CallStats
from hyperfleet.simulate.result import SimulationResult

__all__ = ["account"]


def account(run: Run, *, workers: int, **fields) -> SimulationResult:
    """The :class:`SimulationResult` of ``run`` on ``workers`` workers; ``fields`` are the
    simulation's settings (search name, max_evals, duration, seed, ...) and ``wall_time``."""
    evaluations, cycles = run.evaluations, run.cycles
    makespan = max((e.end for e in evaluations), default=0.0)
    busy = float(sum(e.end - e.start for e in evaluations))
    # idle time of workers with work to get while the driver was busy, within [0, makespan]
    idle_driver = sum(c.asked * max(0.0, min(c.start + c.charged, makespan) - c.start) for c in cycles)
    idle_driver += sum(max(0.0, min(noticed, makespan) - end) for end, noticed in run.gaps)
    total = workers * makespan
    last_start = max((e.start for e in evaluations), default=0.0)
    busy_early = float(sum(min(e.end, last_start) - e.start for e in evaluations if e.start < last_start))
    steady = busy_early / (workers * last_start) if last_start > 0 else float("nan")
    idle_no_work = max(0.0, total - busy - idle_driver)
    useful = float(sum(e.end - e.start for e in evaluations if not e.cancelled))
    driver_busy = sum(c.charged for c in cycles)
    # worker time held: until the end, or until the worker was released (``release_idle``)
    held = float(sum(min(run.released.get(w, makespan), makespan) for w in range(workers)))
    return SimulationResult(
        workers=workers, n_evals=run.finished, n_failed=run.n_failed,
        makespan=makespan, busy_time=busy, utilization=busy / total if total > 0 else float("nan"),
        steady_utilization=steady, last_start=last_start,
        useful_utilization=useful / total if total > 0 else float("nan"),
        n_cancelled=run.n_cancelled, held_time=held, n_released=len(run.released),
        held_utilization=useful / held if held > 0 else float("nan"),
        idle_driver=idle_driver, idle_no_work=idle_no_work, driver_busy=driver_busy,
        launch_wait=CallStats.of(run.launch_waits), tell=CallStats.of(run.tell_times),
        ask=CallStats.of(run.ask_times), cycle=CallStats.of(c.tell_s + c.ask_s for c in cycles if c.asked),
        cycle_cpu=CallStats.of(c.cpu_s for c in cycles if c.asked),
        best_objective=run.best, best_config=run.best_config, best_time=run.best_time, trace=run.trace,
        cycles=cycles, evaluations=evaluations, stop_reason=run.stop_reason,
        first_error=run.first_error, **fields)
