"""How well a learning-curve task's early values rank its final ones: random configurations
trained to the end, then Spearman's rank correlation of the value at each rung with the final
value, and where the best finals stood early.

    OMP_NUM_THREADS=1 python benchmarks/stopping/curve_ranks.py mlp-cancer --configs 40 --seed 1
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.stats import spearmanr
from tasks import make_task


def sample(space, rng) -> dict:
    config = {}
    for name, kind, *rest in space:
        if kind == "float":
            config[name] = float(rng.uniform(*rest))
        elif kind == "int":
            config[name] = int(rng.integers(rest[0], rest[1] + 1))
        else:
            config[name] = str(rng.choice(rest[0]))
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task")
    parser.add_argument("--configs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1, help="draws the configurations")
    parser.add_argument("--task-seed", type=int, default=0)
    parser.add_argument("--rungs", default="3,9")
    args = parser.parse_args()
    task = make_task(args.task, args.task_seed)
    rng = np.random.default_rng(args.seed)
    curves = []
    for _ in range(args.configs):
        training = task.start(sample(task.space, rng))
        curves.append([training.step()[0] for _ in range(task.max_step)])
    curves = np.array(curves)
    final = curves[:, -1]
    rank_final = (-final).argsort().argsort()
    print(f"{args.task}: {args.configs} random configurations, {task.max_step} epochs each")
    for rung in (int(r) for r in args.rungs.split(",")):
        early = curves[:, rung - 1]
        rank_early = (-early).argsort().argsort()
        top = np.argsort(-final)[:5]
        print(f"  epoch {rung}: Spearman with the final value {spearmanr(early, final)[0]:.2f}; "
              f"the 5 best finals ranked {sorted(int(r) + 1 for r in rank_early[top])} there; "
              f"the 5 best there end {sorted(int(r) + 1 for r in rank_final[np.argsort(-early)[:5]])}")
    below = np.mean(final < curves.max(axis=1) - 0.01)
    print(f"  ending more than 0.01 below their own peak: {below:.0%}")


if __name__ == "__main__":
    main()
