"""A 2-worker ask / report / tell loop on a simulated clock, the same for every engine.

Each worker trains one configuration epoch by epoch; the clock advances by each epoch's time
(measured or modelled by the task) plus the engine's own measured time (ask, report, tell). The
run ends once ``budget`` epochs have been spent. The best objective counts only trainings that
reached ``max_step`` (a stopped training's value is not a full training's).
"""

from __future__ import annotations

import heapq
import time


def run_loop(engine, task, budget: int, workers: int = 2) -> dict:
    """Run ``engine`` on ``task`` for ``budget`` epochs; returns the trajectory and counts.

    ``engine`` has ``ask() -> (handle, config)``, ``report(handle, step, value) -> bool``
    (False: stop this training) and ``tell(handle, value, stopped_step or None)``.
    """
    max_step = task.max_step
    events: list = []  # (time the epoch ends, sequence, worker)
    running: dict[int, dict] = {}
    seq = 0
    epochs = 0
    best = None
    trajectory = []  # [epochs spent, clock, best full-training objective]
    n_full = n_stopped = 0
    engine_time = 0.0
    report_times: list[float] = []

    def launch(worker: int, now: float) -> None:
        nonlocal seq, engine_time
        t0 = time.perf_counter()
        handle, config = engine.ask()
        dt = time.perf_counter() - t0
        engine_time += dt
        training = task.start(config)
        value, seconds = training.step()
        running[worker] = {"handle": handle, "training": training, "step": 1, "value": value}
        seq += 1
        heapq.heappush(events, (now + dt + seconds, seq, worker))

    for w in range(workers):
        launch(w, 0.0)
    while events and epochs < budget:
        now, _, worker = heapq.heappop(events)
        job = running[worker]
        epochs += 1
        step, value = job["step"], job["value"]
        t0 = time.perf_counter()
        go = engine.report(job["handle"], step, value)
        dt = time.perf_counter() - t0
        report_times.append(dt)
        if step >= max_step or not go:
            stopped = None if step >= max_step else step
            t1 = time.perf_counter()
            engine.tell(job["handle"], value, stopped)
            dt += time.perf_counter() - t1
            if stopped is None:
                n_full += 1
                if best is None or value > best:
                    best = value
            else:
                n_stopped += 1
            trajectory.append([epochs, round(now, 4), best])
            engine_time += dt
            if epochs < budget:
                launch(worker, now + dt)
        else:
            engine_time += dt
            value, seconds = job["training"].step()
            job["step"], job["value"] = step + 1, value
            seq += 1
            heapq.heappush(events, (now + dt + seconds, seq, worker))
    report_times.sort()
    return {"trajectory": trajectory, "epochs": epochs, "n_full": n_full, "n_stopped": n_stopped,
            "engine_seconds": round(engine_time, 3),
            "report_ms_median": round(1000 * report_times[len(report_times) // 2], 4)
            if report_times else None}
