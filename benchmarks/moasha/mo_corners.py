"""Where does MO-AMBS propose? Fraction of proposals on the box's boundary, and hypervolume.

    python benchmarks/moasha/mo_corners.py --problems dtlz2_2 c2dtlz2 --seeds 0 1 2 --budget 50 \\
        [--setting KEY=VALUE ...]

For each run: normalized hypervolume at half and full budget (``benchmarks/multiobjective``'s
definition) and the share of AMBS's model-based proposals (after the initial design) with a
float coordinate within 1e-6 of a bound; at the end, how many local-search starts of the
acquisition optimizer were on a bound before and after the continuous polish (L-BFGS-B).
Held-out problems (not in the public benchmark): ``dtlz2_shift`` (DTLZ2 whose distance
variables are optimal at 0.3 instead of 0.5) and ``dtlz2_warp`` (DTLZ2 with the position
variable squared, so the front's middle sits at x0 = 0.71, off the box's middle).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MO = os.path.join(os.path.dirname(HERE), "multiobjective")
sys.path[:0] = [MO, os.path.dirname(HERE), os.path.join(os.path.dirname(os.path.dirname(HERE)), "src")]

import pin_threads  # noqa: E402,F401,I001  (one BLAS thread, before numpy)

# isort: split

import dataclasses  # noqa: E402

import mo_problems  # noqa: E402
import mo_report  # noqa: E402
import numpy as np  # noqa: E402


def _dtlz2_shift(config):
    x = np.array([float(config[f"x{i}"]) for i in range(6)])
    g = float(np.sum((x[1:] - 0.3) ** 2))
    a = x[0] * math.pi / 2
    return ((1 + g) * math.cos(a), (1 + g) * math.sin(a)), ()


def _dtlz2_warp(config):
    x = np.array([float(config[f"x{i}"]) for i in range(6)])
    g = float(np.sum((x[1:] - 0.5) ** 2))
    a = (x[0] ** 2) * math.pi / 2  # the front's middle (a = pi/4) at x0 = 0.71
    return ((1 + g) * math.cos(a), (1 + g) * math.sin(a)), ()


def held_out() -> dict:
    base = mo_problems.ALL["dtlz2_2"]
    return {"dtlz2_shift": dataclasses.replace(base, name="dtlz2_shift", evaluate=_dtlz2_shift),
            "dtlz2_warp": dataclasses.replace(base, name="dtlz2_warp", evaluate=_dtlz2_warp)}


def run(problem, seed: int, budget: int, settings: dict) -> dict:
    import mo_engines

    engine = mo_engines.make_engine("hf-ambs", problem, seed, budget)
    if settings:
        engine.search = type(engine.search)(engine.search.problem, seed=seed, **settings)
        engine.search.set_budget(budget)
    objectives, constraints, on_bound = [], [], []
    n_initial = engine.search.n_initial
    for i in range(budget):
        [config] = engine.ask(1)
        f, g = problem.evaluate(config)
        engine.tell([(config, f, g)])
        objectives.append(list(f))
        constraints.append(list(g))
        if i >= n_initial:
            x = np.array([float(config[d[0]]) for d in problem.space if d[1] == "float"])
            on_bound.append(bool(np.any((x < 1e-6) | (x > 1 - 1e-6))))
    record = {"objectives": objectives, "constraints": constraints}
    if problem.name not in mo_problems.ALL:  # held out: same reference front as DTLZ2
        problem_for_hv = dataclasses.replace(problem, name="dtlz2_2")
    else:
        problem_for_hv = problem
    return {"problem": problem.name, "seed": seed,
            "hv_half": round(mo_report.normalized_hv(problem_for_hv, record, budget // 2), 4),
            "hv_full": round(mo_report.normalized_hv(problem_for_hv, record), 4),
            "on_bound": round(float(np.mean(on_bound)) if on_bound else 0.0, 3)}


#: local-search starts of the acquisition optimizer on a bound, before and after the polish
POLISH = {"starts": 0, "on_bound_before": 0, "on_bound_after": 0}


def _trace_polish() -> None:
    from hyperfleet.search.ambs import optimizer

    original = optimizer.AcquisitionOptimizer._polish_continuous

    def polish(self, starts, values, score, has_grad, max_iter=40):
        fi = self.encoder.float_idx

        def on_bound(U):
            return np.any((U[:, fi] < 1e-6) | (U[:, fi] > 1 - 1e-6), axis=1)

        POLISH["starts"] += len(starts)
        POLISH["on_bound_before"] += int(on_bound(starts).sum())
        out = original(self, starts, values, score, has_grad, max_iter)
        POLISH["on_bound_after"] += int(on_bound(out[0]).sum())
        return out

    optimizer.AcquisitionOptimizer._polish_continuous = polish


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", nargs="+", default=["dtlz2_2", "c2dtlz2"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--budget", type=int, default=50)
    parser.add_argument("--setting", action="append", default=[], help="AMBS setting KEY=VALUE")
    args = parser.parse_args(argv)
    settings = {}
    for item in args.setting:
        key, _, value = item.partition("=")
        settings[key] = json.loads(value) if value[:1].isdigit() or value in ("true", "false") else value
    problems = {**mo_problems.ALL, **held_out()}
    _trace_polish()
    rows = []
    for name in args.problems:
        for seed in args.seeds:
            row = run(problems[name], seed, args.budget, settings)
            rows.append(row)
            print(json.dumps({**row, "settings": settings}), flush=True)
    for name in args.problems:
        mine = [r for r in rows if r["problem"] == name]
        print(f"{name}: HV half {np.mean([r['hv_half'] for r in mine]):.3f} full "
              f"{np.mean([r['hv_full'] for r in mine]):.3f}, proposals on a bound "
              f"{np.mean([r['on_bound'] for r in mine]):.2f}")
    print(f"local-search starts: {POLISH['starts']}, on a bound before the polish "
          f"{POLISH['on_bound_before']}, after {POLISH['on_bound_after']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
