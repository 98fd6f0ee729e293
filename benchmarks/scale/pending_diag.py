"""AMBS settings side by side on parallel_engine's simulated clock, in one process (no anchors).

    python benchmarks/scale/pending_diag.py PROBLEMS VARIANTS SEEDS WORKERS EVALS
    python benchmarks/scale/pending_diag.py stybtang_mixed,mlp_cancer \\
        hf-ambs,hf-ambs:pending=cl_mean,hf-ambs:pending=qucb 4 8 64
    python benchmarks/scale/pending_diag.py rosen_int,cell_diabetes hf-ambs,hf-ambs:pending=qucb,hf-ambs@1 4 8 64

A variant ending in ``@1`` runs with one worker (the sequential reference). Prints the mean final
regret over seeds 0..SEEDS-1 and each seed's.
"""
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import engines  # noqa: E402
import parallel_engine as pe  # noqa: E402
from aside_problems import find_problem  # noqa: E402


def main() -> None:
    probs, variants = sys.argv[1].split(","), sys.argv[2].split(",")
    seeds, workers, evals = range(int(sys.argv[3])), int(sys.argv[4]), int(sys.argv[5])
    for name in probs:
        problem = find_problem(name)
        for variant in variants:
            w = 1 if variant.endswith("@1") else workers
            spec = variant.removesuffix("@1")
            regrets, t0 = [], time.time()
            for seed in seeds:
                engine = engines.make_engine(spec, problem.space, seed, evals)
                run = pe.simulate(engine, problem, workers=w, evals=evals,
                                  seconds=pe.durations(seed, evals, 60, 0.5), wall_limit=float("inf"))
                regrets.append(problem.optimum - max(v for v in run["values"] if v is not None))
            print(f"{name:15s} {variant:40s} mean {sum(regrets) / len(regrets):.4g}  "
                  + " ".join(f"{r:.3g}" for r in regrets) + f"  ({time.time() - t0:.0f}s)", flush=True)


if __name__ == "__main__":
    main()
