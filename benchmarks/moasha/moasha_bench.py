"""MO-ASHA benchmark: hypervolume of the fully trained front against epochs spent.

    python benchmarks/moasha/moasha_bench.py --tasks sim-cross-cost mlp-digits-size --seeds 0 1 2 \\
        --out benchmarks/moasha/results.json

Two-objective learning-curve tasks (``benchmarks/stopping/tasks.py`` gives the curves):

* ``mlp-digits-size``: a scikit-learn MLP on ``load_digits`` trained epoch by epoch
  (``partial_fit``): validation accuracy (maximized) against the model's size, log10 of its
  parameter count (minimized; known from the configuration, reported every epoch);
* ``sim-cross-cost`` / ``sim-late-cost`` (held out): the stopping simulator's curves (the better
  configurations start slower: curves cross, early values mislead) against the epoch time
  (minimized); ``sim-plain-cost``: the same without crossing.

Engines (hyperfleet's own objects, asked and told as the driver does): ``ambs`` (MO-AMBS, every
training to the end), ``ambs+moasha``, ``random+moasha``, ``random``. Two workers on a simulated
clock, ``budget`` epochs in all. Only trainings that reached ``max_step`` count for the front (a
stopped training's vector is not a full training's). Hypervolume: objectives scaled to [0, 1]
by fixed task bounds (accuracy / value as is; size or time mapped from its range), reference
point (0, 0). Optuna cannot prune a multi-objective study (``Trial.report`` raises
NotImplementedError there), so it has no MO-ASHA counterpart here.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "stopping"))
sys.path.insert(0, os.path.dirname(HERE))  # benchmarks/: pin_threads
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "src"))

import pin_threads  # noqa: E402,F401,I001  (one BLAS thread, before numpy)

# isort: split

import numpy as np  # noqa: E402
from tasks import MLPTask, SimTask  # noqa: E402

MAX_STEP = 27
ENGINES = ("ambs", "ambs+moasha", "random+moasha", "random")
TASKS = ("sim-cross-cost", "mlp-digits-size", "sim-late-cost", "sim-plain-cost")


class TwoObjectiveTask:
    """A learning-curve task with a second objective to minimize (``cost(config)``), both mapped
    to [0, 1] (1 best) for the hypervolume by ``scale``."""

    def __init__(self, name: str, seed: int) -> None:
        self.name = name
        if name == "mlp-digits-size":
            self.curves = MLPTask(name, "load_digits", "accuracy", seed)
            lo, hi = math.log10(8 * 75 + 10), math.log10(256 * 75 + 10)
            self.cost = lambda c: math.log10(2 ** int(c["log2_hidden"]) * 75 + 10)
        else:
            self.curves = SimTask(name.removesuffix("-cost"), seed)
            lo, hi = 0.5, 2.5
            self.cost = lambda c: 0.5 + 1.5 * float(c["x3"]) + (0.5 if c["kind"] == "c" else 0.0)
        self.cost_range = (lo, hi)
        self.space = self.curves.space
        self.max_step = MAX_STEP

    def scaled(self, vector) -> tuple[float, float]:
        lo, hi = self.cost_range
        return float(np.clip(vector[0], 0, 1)), float(np.clip((hi - vector[1]) / (hi - lo), 0, 1))


def make_problem(space):
    from hyperfleet import HpProblem

    problem = HpProblem()
    for dim in space:
        problem.add_dim(dim[0], list(dim[2]) if dim[1] == "cat" else (dim[2], dim[3]))
    problem.add_objective("value")
    problem.add_objective("cost", "minimize")
    return problem


class Engine:
    """hyperfleet's search (``ambs`` / ``random``) with or without ``moasha``."""

    def __init__(self, spec: str, space, seed: int) -> None:
        from hyperfleet.search import make_search
        from hyperfleet.stop import MOASHAStopper

        search, _, stopper = spec.partition("+")
        self.search = make_search(search, make_problem(space), seed=seed)
        self.stopper = MOASHAStopper(seed=seed, max_step=MAX_STEP, reduction_factor=3) if stopper else None
        self.ids = itertools.count()
        self.configs: dict = {}

    def ask(self):
        [config] = self.search.ask(1)
        handle = f"e{next(self.ids)}"
        self.configs[handle] = config
        return handle, config

    def report(self, handle, step, vector) -> bool:
        from hyperfleet.stop import MOValue

        if self.stopper is None:
            return True
        return self.stopper.report(handle, step, MOValue((vector[0], -vector[1])))

    def tell(self, handle, vector, stopped_step) -> None:
        if self.stopper is not None:
            self.stopper.finish(handle, stopped=stopped_step is not None)
        self.search.tell([(self.configs.pop(handle), tuple(vector), stopped_step)])


def hypervolume_2d(points) -> float:
    """Area dominated by ``points`` (both maximized, in [0, 1]) above the reference (0, 0)."""
    from hyperfleet.pareto import hypervolume

    return hypervolume(np.asarray(points), [0.0, 0.0]) if points else 0.0


def run(engine_spec: str, task_name: str, seed: int, budget: int, workers: int = 2) -> dict:
    task = TwoObjectiveTask(task_name, seed)
    engine = Engine(engine_spec, task.space, seed)
    events, running, seq, epochs = [], {}, 0, 0
    front: list = []
    trajectory = []  # [epochs spent, normalized hypervolume of the full trainings]
    n_full = n_stopped = 0
    own = 0.0

    def launch(worker: int, now: float) -> None:
        nonlocal seq, own
        t0 = time.perf_counter()
        handle, config = engine.ask()
        own += time.perf_counter() - t0
        training = task.curves.start(config)
        running[worker] = {"handle": handle, "training": training, "step": 0, "config": config}
        advance(worker, now)

    def advance(worker: int, now: float) -> None:
        nonlocal seq
        job = running[worker]
        value, seconds = job["training"].step()
        job["step"] += 1
        job["vector"] = (value, task.cost(job["config"]))
        seq += 1
        heapq.heappush(events, (now + seconds, seq, worker))

    for w in range(workers):
        launch(w, 0.0)
    while events and epochs < budget:
        now, _, worker = heapq.heappop(events)
        job = running[worker]
        epochs += 1
        t0 = time.perf_counter()
        go = engine.report(job["handle"], job["step"], job["vector"])
        if job["step"] >= task.max_step or not go:
            stopped = None if job["step"] >= task.max_step else job["step"]
            engine.tell(job["handle"], job["vector"], stopped)
            own += time.perf_counter() - t0
            if stopped is None:
                n_full += 1
                front.append(task.scaled(job["vector"]))
                trajectory.append([epochs, round(hypervolume_2d(front), 5)])
            else:
                n_stopped += 1
            if epochs < budget:
                launch(worker, now)
        else:
            own += time.perf_counter() - t0
            advance(worker, now)
    return {"engine": engine_spec, "task": task_name, "seed": seed, "budget": budget,
            "trajectory": trajectory, "n_full": n_full, "n_stopped": n_stopped,
            "own_s": round(own, 3)}


def hv_at(trajectory, epochs: int) -> float:
    """The hypervolume reached once ``epochs`` epochs were spent."""
    best = 0.0
    for spent, hv in trajectory:
        if spent > epochs:
            break
        best = hv
    return best


def table(rows: list[dict]) -> str:
    """Markdown: mean (std) normalized hypervolume at 1/4, 1/2 and all of the budget."""
    lines = ["| task | engine | seeds | HV @ 1/4 | HV @ 1/2 | HV @ budget | full / stopped trainings | own s |",
             "|---|---|---|---|---|---|---|---|"]
    for task in dict.fromkeys(r["task"] for r in rows):
        for engine in ENGINES:
            runs = [r for r in rows if r["task"] == task and r["engine"] == engine]
            if not runs:
                continue
            cells = []
            for frac in (0.25, 0.5, 1.0):
                hv = [hv_at(r["trajectory"], int(r["budget"] * frac)) for r in runs]
                cells.append(f"{np.mean(hv):.3f} ({np.std(hv):.3f})")
            full = np.mean([r["n_full"] for r in runs])
            stopped = np.mean([r["n_stopped"] for r in runs])
            own = np.mean([r["own_s"] for r in runs])
            lines.append(f"| {task} | {engine} | {len(runs)} | " + " | ".join(cells)
                         + f" | {full:.1f} / {stopped:.1f} | {own:.1f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=ENGINES)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--budget", type=int, default=27 * 30, help="epochs per run (default 810)")
    parser.add_argument("--out", default=os.path.join(HERE, "results.json"))
    parser.add_argument("--table-only", action="store_true", help="print the table of --out")
    args = parser.parse_args(argv)
    rows = []
    if os.path.exists(args.out):
        with open(args.out) as f:
            rows = [json.loads(line) for line in f if line.strip()]
    if not args.table_only:
        done = {(r["engine"], r["task"], r["seed"], r["budget"]) for r in rows}
        for task, seed, engine in itertools.product(args.tasks, args.seeds, args.engines):
            if (engine, task, seed, args.budget) in done:
                continue
            row = run(engine, task, seed, args.budget)
            rows.append(row)
            with open(args.out, "a") as f:
                f.write(json.dumps(row) + "\n")
            print(f"{task} {engine} seed {seed}: HV {hv_at(row['trajectory'], args.budget):.3f}, "
                  f"{row['n_full']} full / {row['n_stopped']} stopped, own {row['own_s']} s",
                  flush=True)
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
