"""One (engine, problem, seed, workers) run on an event-driven simulated clock; one JSON line out.

    python benchmarks/scale/parallel_engine.py ENGINE PROBLEM SEED --workers W --evals N \\
        [--duration-mean 60 --duration-sigma 0.5] [--wall-limit SECONDS]

Runs in the project's interpreter (hf-* engines) or in the anchors' venv (every other engine of
benchmarks/engines.py): it imports only numpy, the bench's engines.py / problems.py and the
engine's own library.

Protocol, the same for every engine (and what hyperfleet's driver and DeepHyper's own search
loop do): W virtual workers are filled with one ``ask(W)``; then, at each completion on the
virtual clock, the finished evaluations (all those ending at that instant) are told in one
``tell`` and the engine is asked for as many configurations as there are free workers. The
engines' own pending handling applies (AMBS: asked-but-not-told points are pending; Optuna: the
RUNNING trials, what ``constant_liar`` lies about; DeepHyper CBO: its optimizer's sampled points
and its multi-point strategy inside one ask).

The k-th evaluation launched gets the k-th duration of a lognormal sequence drawn from the seed
alone, so with the search's own time not charged the schedule (which evaluation finishes when)
is identical for every engine: only the configurations differ. The real time of ask/tell is
measured and reported, never charged to the clock. With ``--wall-limit`` the run stops after
that many real seconds and reports what had finished (``complete: false``).
"""
from __future__ import annotations

import argparse
import heapq
import json
import math
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import pin_threads  # noqa: E402,F401 - before numpy

# isort: split
import contextlib  # noqa: E402

import engines  # noqa: E402
import numpy as np  # noqa: E402
from aside_problems import find_problem  # noqa: E402


def durations(seed: int, n: int, mean: float, sigma: float) -> np.ndarray:
    """The launch-ordered durations of a run: from the seed alone (the same for every engine)."""
    mu = math.log(mean) - sigma ** 2 / 2
    return np.random.default_rng([seed, 20261202]).lognormal(mu, sigma, size=n)


def evaluate(problem, config):
    """The objective, or None if the evaluation raised (a failure)."""
    try:
        value = problem(config)
    except Exception as exc:  # noqa: BLE001 - a failing evaluation is data
        print(f"evaluation failed: {exc!r}", file=sys.stderr)
        return None
    return value if math.isfinite(value) else None


def simulate(engine, problem, *, workers: int, evals: int, seconds: np.ndarray,
             wall_limit: float) -> dict:
    """The event loop; the record of what finished when (virtual time) and the real costs."""
    wall0 = time.perf_counter()
    clock, launched = 0.0, 0
    heap: list[tuple[float, int, dict, object]] = []
    ends, values, asks, tells = [], [], [], []
    free = workers
    complete = True
    while True:
        n = min(free, evals - launched)
        if n:
            t0 = time.perf_counter()
            configs = engine.ask(n)
            asks.append(time.perf_counter() - t0)
            for config in configs[:n]:
                heapq.heappush(heap, (clock + float(seconds[launched]), launched, config,
                                      evaluate(problem, config)))
                launched += 1
                free -= 1
        if not heap:
            break
        if time.perf_counter() - wall0 > wall_limit:
            complete = False
            break
        clock = heap[0][0]
        told = []
        while heap and heap[0][0] <= clock:
            end, _, config, value = heapq.heappop(heap)
            told.append((config, value))
            ends.append(end)
            values.append(value)
            free += 1
        t0 = time.perf_counter()
        engine.tell(told)
        tells.append(time.perf_counter() - t0)
    return dict(ends=[round(e, 4) for e in ends], values=values, launched=launched,
                complete=complete and len(values) == evals, ask_s=round(sum(asks), 3),
                ask_max_s=round(max(asks, default=0.0), 3), tell_s=round(sum(tells), 3),
                n_asks=len(asks), wall_s=round(time.perf_counter() - wall0, 3))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("engine")
    parser.add_argument("problem")
    parser.add_argument("seed", type=int)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--evals", type=int, required=True)
    parser.add_argument("--duration-mean", type=float, default=60.0)
    parser.add_argument("--duration-sigma", type=float, default=0.5)
    parser.add_argument("--wall-limit", type=float, default=float("inf"))
    args = parser.parse_args(argv)
    problem = find_problem(args.problem)
    seconds = durations(args.seed, args.evals, args.duration_mean, args.duration_sigma)
    with contextlib.redirect_stdout(sys.stderr):
        engine = engines.make_engine(args.engine, problem.space, args.seed, args.evals)
        out = simulate(engine, problem, workers=args.workers, evals=args.evals, seconds=seconds,
                       wall_limit=args.wall_limit)
    record = dict(engine=args.engine, problem=args.problem, seed=args.seed, workers=args.workers,
                  evals=args.evals, duration=f"lognormal:{args.duration_mean:g}:{args.duration_sigma:g}",
                  versions=engine.versions(), **out)
    print(json.dumps(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
