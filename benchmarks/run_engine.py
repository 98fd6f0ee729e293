"""Run one (engine, problem, seed) with the benchmark protocol and print one JSON line.

    python benchmarks/run_engine.py ENGINE PROBLEM SEED [--budget N]
    python benchmarks/run_engine.py ENGINE --check        # exit 0 if the engine can be built

Protocol: one worker, sequential ask(1) -> evaluate -> tell, for the problem's budget, with
numpy/BLAS/torch pinned to one thread. The JSON line holds the objective value of each
evaluation (in order; null for a failure), the search's own time per evaluation
(ask + tell, ms) and the versions of the packages involved. Anything the libraries print
goes to stderr, so stdout carries only the JSON line.

Exit status 3 means the engine is not available in this interpreter (message on stderr).
"""
import pin_threads  # must come before numpy

# isort: split

import argparse
import contextlib
import json
import platform
import sys
import time

import engines
import problems

EXIT_UNAVAILABLE = 3


def evaluate(problem, config):
    """The objective, or None if the evaluation raised (counted as a failure)."""
    try:
        return problem(config)
    except Exception as exc:  # noqa: BLE001 - a failing evaluation is data, not a crash
        print(f"evaluation failed: {exc!r}", file=sys.stderr)
        return None


def run(engine, problem, budget):
    """Sequential ask -> evaluate -> tell loop; returns (values, ask+tell ms per evaluation)."""
    values, own_ms = [], []
    for _ in range(budget):
        t0 = time.perf_counter()
        [config] = engine.ask(1)
        t1 = time.perf_counter()
        value = evaluate(problem, config)
        t2 = time.perf_counter()
        engine.tell([(config, value)])
        t3 = time.perf_counter()
        pin_threads.pin_torch()  # torch may have been imported lazily by the first ask
        values.append(value)
        own_ms.append(round(1000 * ((t1 - t0) + (t3 - t2)), 3))
    return values, own_ms


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("engine", help="engine spec, e.g. hf-ambs or hf-ambs:surrogate=gp")
    parser.add_argument("problem", nargs="?", help=f"one of {', '.join(problems.ALL)}")
    parser.add_argument("seed", nargs="?", type=int)
    parser.add_argument("--budget", type=int, help="evaluations (default: the problem's budget)")
    parser.add_argument("--check", action="store_true", help="only check the engine can be built")
    args = parser.parse_args(argv)
    if not args.check and (args.problem is None or args.seed is None):
        parser.error("PROBLEM and SEED are required unless --check")
    return args


def main(argv=None):
    args = parse_args(argv)
    problem = problems.ALL[args.problem or "branin"]
    budget = args.budget or problem.budget
    try:
        with contextlib.redirect_stdout(sys.stderr):
            engine = engines.make_engine(args.engine, problem.space, args.seed or 0, budget)
            if args.check:
                return 0
            t0 = time.perf_counter()
            values, own_ms = run(engine, problem, budget)
            wall_s = time.perf_counter() - t0
    except engines.EngineUnavailable as exc:
        print(f"{args.engine} unavailable: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    record = {
        "engine": args.engine, "problem": args.problem, "seed": args.seed, "budget": budget,
        "values": values, "ask_tell_ms": own_ms, "wall_s": round(wall_s, 3),
        "versions": {"python": platform.python_version(), **engine.versions()},
    }
    print(json.dumps(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
