"""Early-stopping benchmark: every (engine, task, seed) in a subprocess, cached, then tables.

    python benchmarks/stopping/run.py --engines hf-ambs,hf-ambs+asha,optuna-tpe+hb \\
        --tasks sim-cross,mlp-digits --seeds 0-4 --budget 540 --jobs 2 \\
        --anchor-python /work/venvs/anchors/bin/python --out benchmarks/results/stopping.jsonl

Hyperfleet engines run with this interpreter (the working tree's ``src`` first on the path),
the anchors (``optuna-*``, ``dh-*``, ``ray-*``) with ``--anchor-python``. ``--report-only``
prints the tables from the cache. See ``report.py`` for what the tables say.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from report import markdown  # noqa: E402
from stopping_engines import is_anchor  # noqa: E402


def seeds(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


def load(path: str) -> list[dict]:
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--engines", required=True)
    p.add_argument("--tasks", required=True)
    p.add_argument("--seeds", default="0-4")
    p.add_argument("--budget", type=int, default=540)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--anchor-python", default=sys.executable)
    p.add_argument("--out", default="benchmarks/results/stopping.jsonl")
    p.add_argument("--report-only", action="store_true")
    args = p.parse_args(argv)
    engines, tasks = args.engines.split(","), args.tasks.split(",")
    done = {(r["engine"], r["task"], r["seed"], r["budget"]) for r in load(args.out)}
    todo = [(e, t, s) for t in tasks for s in seeds(args.seeds) for e in engines
            if (e, t, s, args.budget) not in done]
    if not args.report_only and todo:
        os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)

        def one(job):
            engine, task, seed = job
            python = args.anchor_python if is_anchor(engine) else sys.executable
            cmd = [python, os.path.join(HERE, "run_one.py"), engine, task, str(seed),
                   "--budget", str(args.budget)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                print(f"FAILED {engine} {task} {seed}: {proc.stderr.strip().splitlines()[-1:]}",
                      file=sys.stderr)
                return
            with open(args.out, "a") as f:
                f.write(proc.stdout.strip().splitlines()[-1] + "\n")
            print(f"done {engine} {task} {seed}", file=sys.stderr)

        with ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(one, todo))
    rows = [r for r in load(args.out) if r["budget"] == args.budget and r["engine"] in engines
            and r["task"] in tasks and r["seed"] in seeds(args.seeds)]
    print(markdown(rows, engines, tasks, args.budget))
    return 0


if __name__ == "__main__":
    sys.exit(main())
