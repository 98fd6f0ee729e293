"""Search quality in simulated parallel: AMBS's best regret with W asynchronous virtual workers
(hyperfleet.simulate, durations lognormal:60:0.5, the driver's time not charged so that only the
decisions differ), for the code under one or more source trees (before/after a change).

    python benchmarks/scale/parallel_quality.py --src before=/work/main/src --src after=src \\
        --workers 128 --evals 640 --problems all --seeds 0-2 [--setting key=value] \\
        --out benchmarks/results/scale/parallel_quality.jsonl

Each (tree, problem, seed) runs in its own subprocess with that tree first on PYTHONPATH; rows go
to --out as JSON lines; the table (mean regret at half and at the full budget, per tree) to stdout.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent

ONE = r"""
import json, sys
sys.path.insert(0, {bench!r})
import pin_threads  # noqa: F401
import problems
from hyperfleet import HpProblem
from hyperfleet.simulate import simulate
bench = problems.ALL[{problem!r}]
p = HpProblem()
for dim in bench.space:
    if dim[1] == "cat":
        p.add_dim(dim[0], list(dim[2]))
    else:
        p.add_dim(dim[0], (dim[2], dim[3]))
r = simulate(p, bench, search="ambs", workers={workers}, max_evals={evals}, seed={seed},
             duration="lognormal:60:0.5", overhead_scale=0.0, search_settings={settings!r})
values = [e.objective for e in sorted(r.evaluations, key=lambda e: e.end) if e.objective is not None]
half = max(values[: len(values) // 2])
print(json.dumps(dict(regret=bench.optimum - r.best_objective, regret_half=bench.optimum - half,
                      ask_total=r.ask.total, wall=r.wall_time)))
"""


def main(argv=None) -> int:
    sys.path.insert(0, str(BENCH))
    import problems

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", action="append", required=True, metavar="NAME=PATH")
    parser.add_argument("--workers", type=int, default=128)
    parser.add_argument("--evals", type=int, default=640)
    parser.add_argument("--problems", default="all")
    parser.add_argument("--seeds", default="0-2")
    parser.add_argument("--setting", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "scale" / "parallel_quality.jsonl")
    args = parser.parse_args(argv)
    names = sorted(problems.PUBLIC) if args.problems == "all" else args.problems.split(",")
    lo, _, hi = args.seeds.partition("-")
    seeds = range(int(lo), int(hi or lo) + 1)
    settings = dict(item.split("=", 1) for item in args.setting)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for problem in names:
        for seed in seeds:
            for spec in args.src:  # trees side by side, so that a partial run compares them
                tree, _, path = spec.partition("=")
                env = dict(os.environ, PYTHONPATH=str(Path(path).resolve()))
                code = ONE.format(bench=str(BENCH), problem=problem, workers=args.workers,
                                  evals=args.evals, seed=seed, settings=settings)
                done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                      text=True, check=True)
                row = dict(tree=tree, problem=problem, seed=seed, workers=args.workers,
                           evals=args.evals, settings=settings, **json.loads(done.stdout.splitlines()[-1]))
                rows.append(row)
                with args.out.open("a") as f:
                    f.write(json.dumps(row) + "\n")
                print(f"{tree} {problem} seed {seed}: regret {row['regret']:.4g} "
                      f"(half {row['regret_half']:.4g}), ask {row['ask_total']:.1f} s", file=sys.stderr)
    trees = [s.partition("=")[0] for s in args.src]
    print(f"| problem ({args.workers} workers, {args.evals} evaluations, seeds {args.seeds}) | "
          + " | ".join(f"{t}: regret at half / full" for t in trees) + " |")
    print("|---|" + "---|" * len(trees))
    for problem in names:
        cells = []
        for t in trees:
            mine = [r for r in rows if r["tree"] == t and r["problem"] == problem]
            half = sum(r["regret_half"] for r in mine) / len(mine)
            full = sum(r["regret"] for r in mine) / len(mine)
            cells.append(f"{half:.4g} / {full:.4g}")
        print(f"| {problem} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
