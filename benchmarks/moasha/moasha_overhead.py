"""Cost of one MO-ASHA decision with many curves (two objectives), as stopper_overhead.py.

    python benchmarks/moasha/moasha_overhead.py --curves 1000 --steps 27
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "src"))
import numpy as np  # noqa: E402

from hyperfleet.stop import MOASHAStopper, MOValue  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--curves", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=27)
    parser.add_argument("--objectives", type=int, default=2)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    stopper = MOASHAStopper(max_step=args.steps, reduction_factor=3)
    k = args.objectives

    def value(q, t):
        return MOValue(tuple(q * (1 - math.exp(-t / 5)) + rng.normal(0, 0.01, k)))

    for i in range(args.curves):  # ended curves fill the rungs
        q = rng.uniform(0.2, 1.0, k)
        for t in range(1, args.steps + 1):
            if not stopper.report(f"done{i}", t, value(q, t)):
                break
        stopper.finish(f"done{i}", stopped=False)
    qs = rng.uniform(0.2, 1.0, (args.curves, k))
    times = []
    for t in range(1, args.steps + 1):  # running ones, round robin
        for i in range(args.curves):
            start = time.perf_counter()
            stopper.report(f"run{i}", t, value(qs[i], t))
            times.append(time.perf_counter() - start)
    ms = 1000 * np.array(times)
    print(f"| moasha ({k} objectives) | {args.curves} | {np.median(ms):.3f} | "
          f"{np.percentile(ms, 99):.3f} | {ms.max():.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
