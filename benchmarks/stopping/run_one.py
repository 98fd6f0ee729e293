"""One (engine, task, seed) run of the early-stopping benchmark -> one JSON line on stdout.

    python benchmarks/stopping/run_one.py hf-ambs+asha sim-cross 0 --budget 810
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))  # benchmarks/: pin_threads
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "src"))

import pin_threads  # noqa: E402,F401  (one BLAS thread, before numpy)
from loop import run_loop  # noqa: E402
from stopping_engines import make_engine  # noqa: E402
from tasks import make_task  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("engine")
    parser.add_argument("task")
    parser.add_argument("seed", type=int)
    parser.add_argument("--budget", type=int, required=True, help="epochs in all")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    task = make_task(args.task, args.seed)
    engine = make_engine(args.engine, task.space, args.seed, task.max_step)
    start = time.perf_counter()
    retrain = args.engine.partition(":")[0].endswith("+fixed")
    out = run_loop(engine, task, args.budget, workers=args.workers, retrain_best=retrain)
    out.update(engine=args.engine, task=args.task, seed=args.seed, budget=args.budget,
               workers=args.workers, wall_seconds=round(time.perf_counter() - start, 2))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
