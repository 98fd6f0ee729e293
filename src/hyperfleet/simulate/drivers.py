"""K simulated drivers cooperating on one search through a shared store (``simulate --drivers K``).

Each driver has its own search instance, its own share of the workers and its own simulated CPU:

* when one of its evaluations finishes, the driver (once free) runs a cycle: it records its
  finished evaluations in the store, reads every result the other drivers recorded at least
  ``store_latency`` seconds ago, tells all of them to its search in one ``tell``, and asks for
  its free workers in one ``ask``; the real CPU (or wall) time of the cycle is charged to that
  driver only, so a cycle delays its own workers and nobody else's;
* the budget is shared: with a drain, ``max_evals`` evaluations are started in all (each start
  is reserved in the store, atomically); without, every worker is kept busy until ``max_evals``
  results are recorded, then the evaluations still running are cancelled.

So no driver has every completion on its critical path: each one proposes only for its own
workers, from everything recorded so far.
"""

from __future__ import annotations

import heapq
import time
from typing import Any, Callable, Optional

import numpy as np

from hyperfleet.search import Search
from hyperfleet.simulate.durations import Duration
from hyperfleet.simulate.loop import Run, objective_of
from hyperfleet.simulate.records import DriverCycle, SimEvaluation, SimulationProgress

__all__ = ["run_drivers"]

_END, _CYCLE = 0, 1  # event kinds; at equal times, completions are seen before a cycle starts


def run_drivers(searches: list[Search], objective: Callable[[dict], Any], draw: Duration,
                rng: np.random.Generator, *, workers: int, max_evals: int, overhead_scale: float,
                latency: float, store_latency: float, charge: str, drain: bool,
                progress: Optional[Callable[[SimulationProgress], None]],
                release_idle: bool = False) -> Run:
    """Simulate ``len(searches)`` drivers sharing ``workers`` virtual workers (driver ``k`` owns
    workers ``k, k + K, k + 2K, ...``) and one store."""
    K = len(searches)
    run = Run()
    started = run.evaluations
    wall_start = time.perf_counter()
    # a stack per driver: its lowest worker is used first
    free = [[w for w in range(workers - 1, -1, -1) if w % K == k] for k in range(K)]
    free_since = [0.0] * workers
    owner = [w % K for w in range(workers)]
    busy_until = [0.0] * K
    done: list[list[int]] = [[] for _ in range(K)]  # finished evaluations not yet recorded
    store: list[tuple[float, int, int]] = []        # (recorded at, driver, evaluation number)
    cursor = [0] * K                                 # rows of the store each driver has read
    running: dict[int, tuple] = {}                   # number -> (end, number, worker)
    events: list[tuple] = [(0.0, _CYCLE, k, 0) for k in range(K)]  # (time, kind, driver, number)
    heapq.heapify(events)
    scheduled = [True] * K
    launched = 0
    recorded = 0

    while events:
        t, kind, k, number = heapq.heappop(events)
        if kind == _END:
            if number not in running:
                continue  # cancelled
            done[k].append(number)
            if not scheduled[k]:
                scheduled[k] = True
                heapq.heappush(events, (max(t, busy_until[k]), _CYCLE, k, 0))
            continue
        scheduled[k] = False
        search = searches[k]
        # record this driver's finished evaluations; they are the store's from now on
        own = []
        for n in done[k]:
            end, _, worker = running.pop(n)
            evaluation = started[n]
            free[k].append(worker)
            free_since[worker] = end
            if end < t:
                run.gaps.append((end, t))
            store.append((t, k, n))
            run.record_finished(evaluation)
            own.append(n)
        done[k] = []
        recorded += len(own)
        if not drain and recorded >= max_evals:
            for j in range(K):  # finished, about to be recorded by their drivers: not cancelled
                for n in done[j]:
                    running.pop(n)
                    run.record_finished(started[n])
            run.cancel_running(sorted(running.values()), t)
            running.clear()
            break
        others = []
        while cursor[k] < len(store) and store[cursor[k]][0] + store_latency <= t:
            at, by, n = store[cursor[k]]
            if by != k:
                others.append(n)
            cursor[k] += 1
        told = [(started[n].config, started[n].objective) for n in own + others]
        budget_left = max_evals - launched if drain else len(free[k])
        n_ask = min(len(free[k]), budget_left)
        if not told and not n_ask:
            continue
        n_free, history = len(free[k]), len(search.history) + len(told)
        c0, t0 = time.process_time(), time.perf_counter()
        if told:
            search.tell(told)
        t1 = time.perf_counter()
        configs = search.ask(n_ask) if n_ask else []
        t2, c2 = time.perf_counter(), time.process_time()
        if len(configs) > n_ask:
            raise RuntimeError(f"{type(search).__name__}.ask({n_ask}) returned {len(configs)} "
                               f"configurations")
        if told:
            run.tell_times.append(t1 - t0)
        if n_ask:
            run.ask_times.append(t2 - t1)
        charged = ((t2 - t0) if charge == "wall" else (c2 - c0)) * overhead_scale + latency
        run.cycles.append(DriverCycle(t, t1 - t0, t2 - t1, charged, c2 - c0, len(told), n_ask,
                                      len(configs), history, n_free, k))
        start = busy_until[k] = t + charged
        for config in configs:
            worker = free[k].pop()
            seconds = draw(rng, config)
            y, error = objective_of(objective, config)
            if error is not None and run.first_error is None:
                run.first_error = error
            started.append(SimEvaluation(launched, config, worker, start, start + seconds, y, error))
            running[launched] = (start + seconds, launched, worker)
            heapq.heappush(events, (start + seconds, _END, owner[worker], launched))
            run.launch_waits.append(start - free_since[worker])
            launched += 1
        if release_idle and drain and launched >= max_evals and free[k]:
            run.release(free[k], start)
        if progress is not None:
            progress(SimulationProgress(start, run.finished, launched, max_evals, len(running),
                                        run.best, len(run.cycles), t2 - t0,
                                        time.perf_counter() - wall_start))
    if (launched if drain else run.finished) < max_evals and not running:
        run.stop_reason = (f"the searches proposed no configuration with nothing running, after "
                           f"{launched} evaluations")
    return run
