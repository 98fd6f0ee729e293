"""Peak memory of AMBS ask/tell against a categorical's size and the number of dimensions.

Each point runs in a subprocess of its own (so ``ru_maxrss`` is that point's peak): build the
problem, then ~30 evaluations of sequential ``ask(1)`` / ``tell`` on a cheap synthetic objective.
It prints a markdown table: the problem build time, the search's peak traced allocation
(tracemalloc) and the process's peak resident memory (ru_maxrss, including Python and numpy).

    python benchmarks/memory.py                       # both sweeps
    python benchmarks/memory.py --cats 10,1000 --dims 5 --evals 30
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _point(n_choices: int, n_dims: int, evals: int) -> dict:
    """One measurement, in this process (called in a subprocess by :func:`main`)."""
    import resource
    import time
    import tracemalloc

    sys.path.insert(0, str(HERE.parent / "src"))
    from hyperfleet import HpProblem
    from hyperfleet.search.ambs import AMBS

    start = time.perf_counter()
    problem = HpProblem()
    problem.add_dim("c0", [f"choice-{i}" for i in range(n_choices)])
    for k in range(1, n_dims):  # the others: floats, ints and 10-choice categoricals in turn
        kind = k % 3
        if kind == 0:
            problem.add_dim(f"x{k}", (-1.0, 1.0))
        elif kind == 1:
            problem.add_dim(f"i{k}", (0, 100))
        else:
            problem.add_dim(f"c{k}", [f"v{j}" for j in range(10)])
    build_s = time.perf_counter() - start

    def objective(config: dict) -> float:
        value = -abs(int(config["c0"].rsplit("-", 1)[1]) - n_choices // 3) / n_choices
        for name, v in config.items():
            if name.startswith("x"):
                value -= v * v
            elif name.startswith("i"):
                value -= abs(v - 30) / 100
            elif name != "c0":
                value -= 0.1 * (v != "v3")
        return value

    tracemalloc.start()
    start = time.perf_counter()
    search = AMBS(problem, seed=0)
    for _ in range(evals):
        [config] = search.ask(1)
        search.tell([(config, objective(config))])
    search_s = time.perf_counter() - start
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"choices": n_choices, "dims": n_dims, "evals": evals, "build_s": build_s,
            "search_s": search_s, "traced_mb": traced / 1e6, "maxrss_mb": rss_kb / 1e3}


def measure(n_choices: int, n_dims: int, evals: int, timeout: float) -> dict:
    """Run one point in a fresh interpreter and return its record."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, __file__, "--point", f"{n_choices},{n_dims},{evals}"],
                          capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        return {"choices": n_choices, "dims": n_dims, "evals": evals,
                "error": (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cats", default="10,100,1000,10000,100000",
                        help="sizes of the first categorical (with --cat-dims dimensions)")
    parser.add_argument("--cat-dims", type=int, default=5)
    parser.add_argument("--dims", default="5,20,50,100",
                        help="dimension counts (the first a 10-choice categorical)")
    parser.add_argument("--evals", type=int, default=30)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per point")
    parser.add_argument("--point", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.point:
        n, d, e = (int(v) for v in args.point.split(","))
        print(json.dumps(_point(n, d, e)))
        return
    points = [(int(c), args.cat_dims) for c in args.cats.split(",") if c]
    points += [(10, int(d)) for d in args.dims.split(",") if d]
    print("| choices of c0 | dimensions | build (s) | ask/tell (s) | peak traced (MB) | peak RSS (MB) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n, d in points:
        r = measure(n, d, args.evals, args.timeout)
        if "error" in r:
            print(f"| {n:,} | {d} | – | – | – | error: {r['error']} |", flush=True)
            continue
        print(f"| {n:,} | {d} | {r['build_s']:.2f} | {r['search_s']:.1f} | "
              f"{r['traced_mb']:.1f} | {r['maxrss_mb']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
