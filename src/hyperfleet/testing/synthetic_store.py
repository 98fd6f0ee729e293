"""A search with many finished evaluations written straight into a store's tables, for the
dashboard's and ``load_results``' tests and benchmarks (100,000 rows in seconds, not hours).

The rows are what a driver writes (states, objectives, times, workers, folders, reports); only
the way they arrive differs: bulk inserts into the real schema instead of one search.
"""

from __future__ import annotations

import time
import uuid
from typing import Optional

import numpy as np

from hyperfleet.problem import HpProblem
from hyperfleet.store.records import SearchState
from hyperfleet.store.schema import evaluations_table, reports_table
from hyperfleet.store.sql_store import SqlStore


def demo_problem() -> HpProblem:
    """Three dimensions of every kind: ``x`` (float), ``units`` (log int), ``opt`` (categorical)."""
    problem = HpProblem()
    problem.add_dim("x", (0.0, 1.0))
    problem.add_dim("units", (8, 512), log=True)
    problem.add_dim("opt", ["adam", "sgd", "rmsprop"])
    return problem


def fill_search(store: SqlStore, n: int, *, label: str = "synthetic", problem: Optional[HpProblem] = None,
                folder: str = "/nonexistent", seed: int = 0, workers: int = 8,
                curves: int = 0, state: SearchState = SearchState.FINISHED,
                failed_fraction: float = 0.05, batch: int = 20_000) -> str:
    """Create search ``label`` with ``n`` finished evaluations; returns its id.

    Objectives follow ``1 - (x - 0.3)^2`` plus noise, a fraction fail with an error; times are
    laid out on ``workers`` workers back to back, ending now. The first ``curves`` evaluations
    also get 5 intermediate values each (learning curves).
    """
    problem = problem or demo_problem()
    rng = np.random.default_rng(seed)
    record = store.create_search(label, folder, problem.to_dict(),
                                 {"search": "random", "max_evals": n})
    configs = problem.sample(n, seed=seed) if n else []
    durations = rng.uniform(0.5, 2.0, n)
    worker = np.arange(n) % workers
    ends = np.zeros(n)
    clock = np.zeros(workers)
    for i in range(n):  # back to back on each worker
        clock[worker[i]] += durations[i]
        ends[i] = clock[worker[i]]
    now = time.time()
    ends = now - ends.max(initial=0.0) + ends
    starts = ends - durations
    fails = rng.random(n) < failed_fraction
    rows = []
    for i, config in enumerate(configs):
        x = float(config.get("x", 0.5))
        objective = None if fails[i] else float(1 - (x - 0.3) ** 2 + rng.normal(0, 0.01))
        rows.append({
            "id": str(uuid.uuid4()), "search_id": record.id, "number": i, "config": config,
            "state": "FAILED" if fails[i] else "DONE", "objective": objective,
            "metadata": {"epochs": int(i % 7)},
            "error": f"RuntimeError: diverged at x={x:.3f}" if fails[i] else None,
            "created_time": float(starts[i] - 0.01), "start_time": float(starts[i]),
            "end_time": float(ends[i]), "worker": f"worker-{worker[i]}", "host": "node1",
            "folder": f"{folder}/evals/{i:06d}", "last_step": 5 if i < curves else None,
            "finish_seq": None,
        })
    with store.engine.begin() as conn:
        for k in range(0, n, batch):
            conn.execute(evaluations_table.insert(), rows[k:k + batch])
        if curves:
            reports = [{"search_id": record.id, "evaluation_id": rows[i]["id"], "seq": i * 5 + s,
                        "step": s + 1, "value": float((rows[i]["objective"] or 0) * (s + 1) / 5),
                        "time": float(starts[i] + durations[i] * (s + 1) / 5)}
                       for i in range(min(curves, n)) for s in range(5)]
            conn.execute(reports_table.insert(), reports)
    store.update_search(record.id, state=state, start_time=float(starts.min(initial=now)),
                        end_time=float(ends.max(initial=now)))
    return record.id

