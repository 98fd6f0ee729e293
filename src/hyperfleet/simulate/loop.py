"""The simulated run: a virtual clock, virtual workers and one centralized driver.

The driver, like :class:`~hyperfleet.driver.Driver`, tells the search every evaluation that has
finished, in one ``tell``, then asks for as many configurations as there are free workers, in one
``ask``. The real (wall or CPU) time of that ``tell`` + ``ask`` advances the virtual clock.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

from hyperfleet.search import Search
from hyperfleet.simulate.durations import Duration
from hyperfleet.simulate.records import DriverCycle, SimEvaluation, SimulationProgress

__all__ = ["Run", "run_one_driver", "objective_of"]


def objective_of(objective: Callable[[dict], Any], config: dict) -> tuple[Optional[float], Optional[str]]:
    """The objective of ``config`` and the error that failed it, judged like a run function's."""
    from hyperfleet.execute.worker import judge_result

    try:
        value = objective(dict(config))
    except Exception as err:  # noqa: BLE001 - a failed evaluation, as in a real run
        return None, f"{type(err).__name__}: {err}"
    y, _, error = judge_result(value)
    return y, error


@dataclass
class Run:
    """What the simulated run recorded, before any accounting (see :mod:`.accounting`)."""

    evaluations: list = field(default_factory=list)   #: every SimEvaluation, by number
    cycles: list = field(default_factory=list)        #: every DriverCycle
    tell_times: list = field(default_factory=list)    #: real seconds of each tell
    ask_times: list = field(default_factory=list)     #: real seconds of each ask
    gaps: list = field(default_factory=list)          #: (finished, noticed by the driver)
    launch_waits: list = field(default_factory=list)  #: virtual seconds from free to launched
    finished: int = 0
    n_failed: int = 0
    best: Optional[float] = None
    best_config: Optional[dict] = None
    best_time: Optional[float] = None
    first_error: Optional[str] = None
    trace: list = field(default_factory=list)         #: (virtual time, finished, best)
    stop_reason: str = "max_evals reached"
    n_cancelled: int = 0
    released: dict = field(default_factory=dict)      #: worker -> virtual time it was released

    def release(self, free: list, clock: float) -> None:
        """Release the workers of ``free`` now: the budget has nothing left for them to run."""
        for worker in free:
            self.released[worker] = clock
        free.clear()

    def record_finished(self, evaluation: SimEvaluation) -> None:
        """Count a finished evaluation and keep the best-so-far trace."""
        self.finished += 1
        if evaluation.objective is None:
            self.n_failed += 1
        elif self.best is None or evaluation.objective > self.best:
            self.best, self.best_config, self.best_time = (evaluation.objective, evaluation.config,
                                                           evaluation.end)
            self.trace.append((evaluation.end, self.finished, self.best))

    def cancel_running(self, running: list, clock: float) -> None:
        """Cancel the evaluations of ``running`` (``(end, number, worker)``) now (no drain)."""
        self.n_cancelled = len(running)
        for _, number, _worker in running:  # busy until this moment
            e = self.evaluations[number]
            self.evaluations[number] = SimEvaluation(e.number, e.config, e.worker, e.start, clock, None,
                                                     "cancelled: max_evals finished (no drain)", True)


def run_one_driver(search: Search, objective: Callable[[dict], Any], draw: Duration,
                   rng: np.random.Generator, *, workers: int, max_evals: int, overhead_scale: float,
                   latency: float, charge: str, drain: bool,
                   progress: Optional[Callable[[SimulationProgress], None]],
                   release_idle: bool = False) -> Run:
    """Simulate one driver cycling ``tell`` + ``ask`` for ``workers`` virtual workers; with
    ``release_idle`` (and a drain), a worker the budget has no more work for is released."""
    search_name = type(search).__name__
    run = Run()
    wall_start = time.perf_counter()
    clock = 0.0
    free: list[int] = list(range(workers - 1, -1, -1))  # a stack: worker 0 is used first
    free_since = [0.0] * workers
    heap: list[tuple] = []  # (end, number, worker)
    started = run.evaluations
    launched = 0

    while True:
        told: list[tuple[dict, Optional[float]]] = []
        # workers freed beyond the budget have no work to wait for
        budget_left = max_evals - launched if drain else (workers if run.finished < max_evals else 0)
        while heap and heap[0][0] <= clock:
            end, number, worker = heapq.heappop(heap)
            evaluation = started[number]
            told.append((evaluation.config, evaluation.objective))
            free.append(worker)
            free_since[worker] = end
            if end < clock and len(told) <= budget_left:
                run.gaps.append((end, clock))
            run.record_finished(evaluation)
        n = min(len(free), budget_left)
        if not drain and run.finished >= max_evals:
            if told:
                search.tell(told)  # after the end: not charged
            run.cancel_running(heap, clock)
            heap.clear()
            break
        if told or n:
            n_free, history = len(free), len(search.history) + len(told)
            c0, t0 = time.process_time(), time.perf_counter()
            if told:
                search.tell(told)
            t1 = time.perf_counter()
            configs = search.ask(n) if n else []
            t2, c2 = time.perf_counter(), time.process_time()
            if len(configs) > n:
                raise RuntimeError(f"{search_name}.ask({n}) returned {len(configs)} configurations")
            if told:
                run.tell_times.append(t1 - t0)
            if n:
                run.ask_times.append(t2 - t1)
            charged = ((t2 - t0) if charge == "wall" else (c2 - c0)) * overhead_scale + latency
            run.cycles.append(DriverCycle(clock, t1 - t0, t2 - t1, charged, c2 - c0, len(told), n,
                                          len(configs), history, n_free))
            clock += charged
            for config in configs:
                worker = free.pop()
                seconds = draw(rng, config)
                y, error = objective_of(objective, config)
                if error is not None and run.first_error is None:
                    run.first_error = error
                started.append(SimEvaluation(launched, config, worker, clock, clock + seconds, y, error))
                heapq.heappush(heap, (clock + seconds, launched, worker))
                run.launch_waits.append(clock - free_since[worker])
                launched += 1
            if release_idle and drain and launched >= max_evals and free:
                run.release(free, clock)
            if progress is not None:
                progress(SimulationProgress(clock, run.finished, launched, max_evals, len(heap), run.best,
                                            len(run.cycles), t2 - t0, time.perf_counter() - wall_start))
        if not heap:
            if (launched if drain else run.finished) < max_evals:
                run.stop_reason = (f"the search proposed no configuration with nothing running, after "
                                   f"{launched} evaluations")
            break
        clock = max(clock, heap[0][0])
    return run
