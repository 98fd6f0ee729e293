"""A 2-worker ask / report / tell loop on a simulated clock, the same for every engine.

Each worker trains one configuration epoch by epoch; the clock advances by each epoch's time
(measured or modelled by the task) plus the engine's own measured time (ask, report, tell). The
run ends once ``budget`` epochs have been spent. The best objective counts only trainings that
reached ``max_step`` (a stopped training's value is not a full training's).
"""

from __future__ import annotations

import heapq
import time


def run_loop(engine, task, budget: int, workers: int = 2, retrain_best: bool = False) -> dict:
    """Run ``engine`` on ``task`` for ``budget`` epochs; returns the trajectory and counts.

    ``retrain_best`` (the fixed-k baseline, where no training reaches ``max_step``): the search
    gets ``budget - max_step`` epochs, then the configuration with the best value at its stop
    is trained fully (its epochs and time charged) and that is the best objective.

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
    best_stopped = None  # (value, config) of the best stopped training
    if retrain_best:
        budget -= max_step

    def launch(worker: int, now: float) -> None:
        nonlocal seq, engine_time
        t0 = time.perf_counter()
        handle, config = engine.ask()
        dt = time.perf_counter() - t0
        engine_time += dt
        training = task.start(config)
        value, seconds = training.step()
        running[worker] = {"handle": handle, "training": training, "step": 1, "value": value,
                           "config": config}
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
                if best_stopped is None or value > best_stopped[0]:
                    best_stopped = (value, job["config"])
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
    if retrain_best and best_stopped is not None:
        training = task.start(best_stopped[1])
        clock = max(p[1] for p in trajectory)
        for _ in range(max_step):
            value, seconds = training.step()
            clock += seconds
        epochs += max_step
        n_full += 1
        best = value if best is None else max(best, value)
        trajectory.append([epochs, round(clock, 4), best])
    report_times.sort()
    return {"trajectory": trajectory, "epochs": epochs, "n_full": n_full, "n_stopped": n_stopped,
            "engine_seconds": round(engine_time, 3),
            "report_ms_median": round(1000 * report_times[len(report_times) // 2], 4)
            if report_times else None}
