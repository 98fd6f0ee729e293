"""Multi-objective benchmark: engines x problems x seeds in subprocesses, cached, then tables.

    python benchmarks/multiobjective/run.py \\
        --engines hf-ambs,hf-random,optuna-nsga2,optuna-tpe,optuna-gp,dh-cbo \\
        --problems all --seeds 0-2 --jobs 1 --anchor-python /work/venvs/anchors/bin/python \\
        --out benchmarks/results/mo.jsonl

Each (engine, problem, seed) runs run_one.py in its own interpreter: hyperfleet's engines with
this one (the working tree's src/ first on PYTHONPATH), the anchors with --anchor-python.
Finished runs are appended to --out as they complete; a rerun skips cached runs (same engine
spec, problem, seed and budget). ``--only ENGINE=SEEDS`` limits an engine to fewer seeds (e.g.
a slow one). The markdown report (mo_report.py) goes to stdout, progress to stderr.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import mo_engines  # noqa: E402
import mo_problems  # noqa: E402
import mo_report  # noqa: E402

SRC = HERE.parent.parent / "src"
RUN_ONE = HERE / "run_one.py"


def parse_seeds(text: str) -> list[int]:
    """'0-9' or '0,3,5' or '0-4,7' -> sorted list of seeds (as benchmarks/run.py)."""
    seeds = set()
    for part in text.split(","):
        low, _, high = part.partition("-")
        seeds.update(range(int(low), int(high or low) + 1))
    return sorted(seeds)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", required=True, help="comma-separated engine specs")
    parser.add_argument("--problems", default="all", help="comma-separated names, or 'all'")
    parser.add_argument("--seeds", default="0-2", type=parse_seeds)
    parser.add_argument("--only", action="append", default=[], metavar="ENGINE=SEEDS",
                        help="run ENGINE with these seeds only (repeatable)")
    parser.add_argument("--budget", type=int, help="evaluations per run (default: each problem's)")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--anchor-python", default="/work/venvs/anchors/bin/python")
    parser.add_argument("--out", type=Path, default=HERE.parent / "results" / "mo.jsonl")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args(argv)
    args.engines = [e for e in args.engines.split(",") if e]
    names = list(mo_problems.ALL) if args.problems == "all" else args.problems.split(",")
    unknown = [n for n in names if n not in mo_problems.ALL]
    if unknown:
        parser.error(f"unknown problems {unknown}; known: {', '.join(mo_problems.ALL)}")
    args.problems = names
    only = {}
    for item in args.only:
        engine, sep, seeds = item.partition("=")
        if not sep:
            parser.error(f"--only {item!r}: expected ENGINE=SEEDS, e.g. optuna-gp=0-1")
        only[engine] = parse_seeds(seeds)
    args.only = only
    return args


def command_env(engine: str, anchor_python: str) -> tuple[list[str], dict]:
    env = dict(os.environ)
    if mo_engines.is_project_engine(engine):
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
        return [sys.executable, str(RUN_ONE)], env
    return [anchor_python, str(RUN_ONE)], env


def available(engine: str, anchor_python: str) -> bool:
    cmd, env = command_env(engine, anchor_python)
    proc = subprocess.run(cmd + [engine, "--check"], env=env, capture_output=True, text=True,
                          check=False)
    if proc.returncode == 0:
        return True
    lines = proc.stderr.strip().splitlines()
    print(f"SKIPPING {lines[-1] if lines else f'{engine}: exit {proc.returncode}'}", file=sys.stderr)
    return False


def run_one(job, anchor_python: str, timeout: float) -> dict | None:
    engine, problem, seed, budget = job
    cmd, env = command_env(engine, anchor_python)
    try:
        proc = subprocess.run(cmd + [engine, problem, str(seed), "--budget", str(budget)], env=env,
                              capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        print(f"TIMEOUT {engine} {problem} seed {seed} after {timeout:.0f} s", file=sys.stderr)
        return None
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = "\n    ".join(proc.stderr.strip().splitlines()[-8:])
        print(f"FAILED {engine} {problem} seed {seed} (exit {proc.returncode}):\n    {tail}",
              file=sys.stderr)
        return None
    return json.loads(lines[-1])


def load_cache(path: Path) -> dict[tuple, dict]:
    if not path.exists():
        return {}
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {(r["engine"], r["problem"], r["seed"], r["budget"]): r for r in records}


def run_missing(jobs: list[tuple], args, cache: dict) -> None:
    todo = [j for j in jobs if j not in cache]
    print(f"{len(jobs) - len(todo)} runs cached, {len(todo)} to run, {args.jobs} at a time",
          file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    lock, done = threading.Lock(), [0]

    def task(job):
        t0 = time.perf_counter()
        record = run_one(job, args.anchor_python, args.timeout)
        with lock:
            done[0] += 1
            if record is None:
                return
            cache[job] = record
            with args.out.open("a") as f:
                f.write(json.dumps(record) + "\n")
            hv = mo_report.normalized_hv(mo_problems.ALL[job[1]], record)
            print(f"[{done[0]}/{len(todo)}] {job[0]} {job[1]} seed {job[2]}: HV {hv:.3f} "
                  f"({time.perf_counter() - t0:.1f} s)", file=sys.stderr)

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        list(pool.map(task, todo))


def main(argv=None) -> int:
    args = parse_args(argv)
    engines = args.engines
    if not args.report_only:
        engines = [e for e in engines if available(e, args.anchor_python)]
    # seed-major order: a first table for every engine comes before the later seeds
    seeds = sorted(set(args.seeds).union(*args.only.values()))
    jobs = [(e, p, s, args.budget or mo_problems.ALL[p].budget)
            for s in seeds for p in args.problems for e in engines
            if s in args.only.get(e, args.seeds)]
    cache = load_cache(args.out)
    if not args.report_only:
        run_missing(jobs, args, cache)
    rows = []
    for p in args.problems:
        for e in engines:
            records = sorted((cache[j] for j in jobs if j[:2] == (e, p) and j in cache),
                             key=lambda r: r["seed"])
            if records:
                rows.append(mo_report.summarize(records, mo_problems.ALL[p], e))
    if not rows:
        print("no results to report", file=sys.stderr)
        return 1
    print(mo_report.format_report(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
