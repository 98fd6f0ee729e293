"""Speed of hyperfleet.pareto on large sets of points: the non-dominated mask, non-dominated
sorting and the hypervolume of the front, for 2, 3 and 4 objectives.

    python benchmarks/pareto_speed.py [--n 100000] [--repeat 3]

Random points in the unit cube (a small front, the usual case) and points near a concave
front with noise (a large front, the hard case for the mask)."""

from __future__ import annotations

import argparse
import time

import numpy as np

from hyperfleet.pareto import hypervolume, non_dominated_sort, pareto_mask


def timed(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def points(kind: str, n: int, k: int, rng) -> np.ndarray:
    if kind == "uniform":
        return rng.random((n, k))
    # near the sphere front: many non-dominated points
    X = np.abs(rng.normal(size=(n, k)))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X * (1 - 0.02 * rng.random((n, 1)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print("| points | objectives | kind | front size | mask (s) | sort, 3 fronts (s) | hypervolume of front (s) |")
    print("|---:|---:|---|---:|---:|---:|---:|")
    for k in (2, 3, 4):
        for kind in ("uniform", "sphere"):
            Y = points(kind, args.n, k, rng)
            t_mask, mask = timed(lambda Y=Y: pareto_mask(Y), args.repeat)
            size = int(mask.sum())
            sub = Y[: min(len(Y), 20_000)]
            t_sort, _ = timed(lambda sub=sub: non_dominated_sort(sub[:2000]), 1)
            front = Y[mask]
            if k <= 3 and size <= 5000 or size <= 300:
                t_hv, _ = timed(lambda front=front, k=k: hypervolume(front, np.zeros(k)), 1)
                hv = f"{t_hv:.3f}"
            else:
                hv = "-"
            print(f"| {args.n:,} | {k} | {kind} | {size:,} | {t_mask:.3f} | {t_sort:.3f} (2,000 pts) | {hv} |",
                  flush=True)


if __name__ == "__main__":
    main()
