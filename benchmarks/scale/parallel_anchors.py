"""Search quality in simulated parallel against the anchors: best-so-far against simulated time
with W asynchronous workers, hyperfleet's AMBS and random search against Optuna TPE
(``constant_liar``) and DeepHyper CBO, all on one event-driven clock (parallel_engine.py).

    python benchmarks/scale/parallel_anchors.py --widths 8:64,64:256,512:1024 --seeds 0-2 \\
        --engines hf-ambs,hf-random,optuna-tpe:constant_liar=true:multivariate=true,dh-cbo:acq_optimizer=sampling \\
        --problems public+stybtang_mixed --limit dh-cbo=120 \\
        --out benchmarks/results/scale/parallel_anchors.jsonl
    python benchmarks/scale/parallel_anchors.py ... --report-only

Each run is its own subprocess: hf-* engines with this interpreter and src/ first on PYTHONPATH,
the others with --anchor-python. Runs go in order width, seed, problem, engine (a partial run of
the whole has every seed of the narrower widths), are appended to --out as they finish, and a rerun skips those already
there. ``--limit ENGINE=SECONDS`` stops an engine's run after that much real time; what it had
finished by then is reported (the times it did not reach are left out of the ranks).

The report: for each width, the mean regret (and its spread over the seeds) at 25 %, 50 % and
100 % of the simulated makespan, which is the same for every engine (the schedule depends on the
seed only), the mean rank of each engine at those times over problems x seeds, and each
engine's regret at one simulated time shared by all widths.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
SRC = BENCH.parent / "src"
ONE = HERE / "parallel_engine.py"
FRACTIONS = (0.25, 0.5, 1.0)
DEFAULT_ENGINES = ("hf-ambs,hf-random,optuna-tpe:constant_liar=true:multivariate=true,"
                   "dh-cbo:acq_optimizer=sampling")

sys.path.insert(0, str(HERE))
sys.path.insert(0, str(BENCH))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", default="8:64,64:256,512:1024", help="WORKERS:EVALS,...")
    parser.add_argument("--seeds", default="0-2")
    parser.add_argument("--engines", default=DEFAULT_ENGINES)
    parser.add_argument("--problems", default="public+stybtang_mixed",
                        help="comma-separated names; 'public' = every public problem")
    parser.add_argument("--limit", action="append", default=[], metavar="ENGINE=SECONDS",
                        help="real-time limit of each run of an engine (by name or name prefix)")
    parser.add_argument("--anchor-python", default="/work/venvs/anchors/bin/python")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "scale" / "parallel_anchors.jsonl")
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args(argv)
    import problems

    names = []
    for part in args.problems.replace("+", ",").split(","):
        names += sorted(problems.PUBLIC) if part == "public" else [part]
    args.problems = names
    args.widths = [tuple(int(v) for v in w.split(":")) for w in args.widths.split(",")]
    lo, _, hi = args.seeds.partition("-")
    args.seeds = list(range(int(lo), int(hi or lo) + 1))
    args.engines = [e for e in args.engines.split(",") if e]
    args.limit = {k: float(v) for k, v in (item.split("=", 1) for item in args.limit)}
    return args


def limit_of(engine: str, limits: dict) -> float | None:
    for key, seconds in limits.items():
        if engine == key or engine.split(":")[0] == key:
            return seconds
    return None


def run_one(engine, problem, seed, workers, evals, args) -> dict | None:
    env = dict(os.environ)
    if engine.startswith("hf-"):
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
        python = sys.executable
    else:
        python = args.anchor_python
    cmd = [python, str(ONE), engine, problem, str(seed), "--workers", str(workers), "--evals", str(evals)]
    limit = limit_of(engine, args.limit)
    if limit is not None:
        cmd += ["--wall-limit", str(limit)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False,
                          timeout=None if limit is None else 3 * limit + 120)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = "\n    ".join(proc.stderr.strip().splitlines()[-6:])
        print(f"FAILED {engine} {problem} seed {seed} W={workers}:\n    {tail}", file=sys.stderr)
        return None
    return json.loads(lines[-1])


def key(r) -> tuple:
    return r["engine"], r["problem"], r["seed"], r["workers"], r["evals"]


def load(path: Path) -> dict:
    if not path.exists():
        return {}
    return {key(r): r for r in (json.loads(line) for line in path.read_text().splitlines() if line)}


def run_missing(args, cache: dict) -> None:
    jobs = [(e, p, s, w, n) for (w, n) in args.widths for s in args.seeds for p in args.problems
            for e in args.engines]
    todo = [j for j in jobs if j not in cache]
    print(f"{len(jobs) - len(todo)} cached, {len(todo)} to run", file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for i, job in enumerate(todo, 1):
        t0 = time.perf_counter()
        record = run_one(*job, args)
        if record is None:
            continue
        cache[job] = record
        with args.out.open("a") as f:
            f.write(json.dumps(record) + "\n")
        best = max((v for v in record["values"] if v is not None), default=float("nan"))
        print(f"[{i}/{len(todo)}] {job[0]} {job[1]} seed {job[2]} W={job[3]}: best {best:.4g}, "
              f"{len(record['values'])}/{job[4]} finished, ask {record['ask_s']:.1f} s, "
              f"tell {record['tell_s']:.1f} s ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    from parallel_report import report

    arguments = parse_args()
    runs = load(arguments.out)
    if not arguments.report_only:
        run_missing(arguments, runs)
    print(report(arguments, runs, FRACTIONS))
