"""Run one (engine, problem, seed) of the multi-objective benchmark and print one JSON line.

    python benchmarks/multiobjective/run_one.py ENGINE PROBLEM SEED [--budget N]
    python benchmarks/multiobjective/run_one.py ENGINE --check   # exit 0 if it can be built

Protocol (as benchmarks/run_engine.py): one worker, sequential ask(1) -> evaluate -> tell for
the budget, numpy/BLAS/torch pinned to one thread. The JSON line holds every evaluation's
objectives and constraint values in order (null for a failure), the engine's own time per
evaluation (ask + tell, ms) and the package versions. Library output goes to stderr.
Exit status 3: the engine is not available in this interpreter.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]

import pin_threads  # noqa: E402,I001 - must come before numpy

# isort: split

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import mo_engines  # noqa: E402
import mo_problems  # noqa: E402

EXIT_UNAVAILABLE = 3


def run(engine, problem, budget):
    """Sequential loop; (objectives, constraints, ask+tell ms) per evaluation."""
    objectives, constraints, own_ms = [], [], []
    for _ in range(budget):
        t0 = time.perf_counter()
        [config] = engine.ask(1)
        t1 = time.perf_counter()
        try:
            f, g = problem.evaluate(config)
        except Exception as exc:  # noqa: BLE001 - a failing evaluation is data
            print(f"evaluation failed: {exc!r}", file=sys.stderr)
            f, g = None, ()
        t2 = time.perf_counter()
        engine.tell([(config, f, g)])
        t3 = time.perf_counter()
        pin_threads.pin_torch()
        objectives.append(None if f is None else [float(v) for v in f])
        constraints.append([float(v) for v in g])
        own_ms.append(round(1000 * ((t1 - t0) + (t3 - t2)), 3))
    return objectives, constraints, own_ms


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("engine")
    parser.add_argument("problem", nargs="?", help=f"one of {', '.join(mo_problems.ALL)}")
    parser.add_argument("seed", nargs="?", type=int)
    parser.add_argument("--budget", type=int)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    if not args.check and (args.problem is None or args.seed is None):
        parser.error("PROBLEM and SEED are required unless --check")
    return args


def main(argv=None):
    args = parse_args(argv)
    problem = mo_problems.ALL[args.problem or "c2dtlz2"]
    budget = args.budget or problem.budget
    try:
        with contextlib.redirect_stdout(sys.stderr):
            engine = mo_engines.make_engine(args.engine, problem, args.seed or 0, budget)
            if args.check:
                return 0
            t0 = time.perf_counter()
            objectives, constraints, own_ms = run(engine, problem, budget)
            wall_s = time.perf_counter() - t0
    except mo_engines.EngineUnavailable as exc:
        print(f"{args.engine} unavailable: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    print(json.dumps({
        "engine": args.engine, "problem": args.problem, "seed": args.seed, "budget": budget,
        "objectives": objectives, "constraints": constraints, "ask_tell_ms": own_ms,
        "wall_s": round(wall_s, 3),
        "versions": {"python": platform.python_version(), **engine.versions()},
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
