"""Cost of one stopper decision with many running curves (goal (c): under 5 ms at 1,000).

    python benchmarks/stopper_overhead.py --curves 1000 --steps 27

For each stopper: ``--curves`` trainings already ended (full length) and as many running,
reported round-robin step after step (every running curve reports step 1, then step 2, ...);
the time of each ``report`` call is measured. Prints a markdown table (median, 99th percentile
and max, in ms) and, with ``--anchor``, DeepHyper 0.13's stoppers when importable (run it with
the anchors' venv python for those).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src"))
import numpy as np  # noqa: E402


def curve(q: float, tau: float, t: int, rng) -> float:
    return q - (q - 0.1) * math.exp(-t / tau) + rng.normal(0, 0.01)


def measure(stopper, n: int, steps: int, seed: int = 0) -> list[float]:
    rng = np.random.default_rng(seed)
    for i in range(n):
        q, tau = rng.uniform(0.3, 0.95), rng.uniform(2, 10)
        go = True
        for t in range(1, steps + 1):
            go = stopper.report(f"done{i}", t, curve(q, tau, t, rng))
            if not go:
                break
        stopper.finish(f"done{i}", stopped=not go)
    params = [(rng.uniform(0.3, 0.95), rng.uniform(2, 10)) for _ in range(n)]
    alive = set(range(n))
    times = []
    for t in range(1, steps + 1):
        for i in sorted(alive):
            value = curve(*params[i], t, rng)
            start = time.perf_counter()
            go = stopper.report(f"run{i}", t, value)
            times.append(time.perf_counter() - start)
            if not go:
                alive.discard(i)
    return times


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--curves", type=int, default=1000)
    p.add_argument("--steps", type=int, default=27)
    args = p.parse_args(argv)
    from hyperfleet.stop import make_stopper

    settings = {"fixed": {"step": args.steps // 3}, "patience": {"patience": 4}}
    print(f"{args.curves} ended + {args.curves} running curves, {args.steps} steps\n")
    print("| stopper | reports timed | median ms | p99 ms | max ms |\n|---|---|---|---|---|")
    for name in ("asha", "hyperband", "median", "patience", "fixed", "lcmodel"):
        stopper = make_stopper(name, seed=0, **settings.get(name, {"max_step": args.steps}))
        times = np.array(measure(stopper, args.curves, args.steps)) * 1000
        print(f"| {name} | {len(times)} | {np.median(times):.4f} | {np.percentile(times, 99):.4f} "
              f"| {times.max():.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
