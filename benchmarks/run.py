"""Run engines × problems × seeds with the benchmark protocol and print the comparison.

    python benchmarks/run.py --engines hf-ambs,hf-random,optuna-tpe,optuna-gp --problems all \\
        --seeds 0-9 --jobs 2 --anchor-python /work/venvs/anchors/bin/python \\
        --out benchmarks/results/quality.jsonl [--anchors-table]

Each (engine, problem, seed) runs in its own subprocess (run_engine.py): hyperfleet's
engines with this interpreter and the working tree's src/ first on PYTHONPATH, anchors with
--anchor-python. Finished runs are appended to --out as they complete, and a rerun skips
what is already there (same engine spec, problem, seed and budget). An engine that cannot
be built in its interpreter (e.g. hf-ambs before AMBS exists) is skipped with a message.

The report (markdown, see report.py) goes to stdout; progress goes to stderr.
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

import engines
import problems
import report

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
RUN_ENGINE = HERE / "run_engine.py"
DEFAULT_ANCHOR_PYTHON = "/work/venvs/anchors/bin/python"
DEFAULT_ANCHORS_MD = HERE.parent.parent / "shared" / "bench" / "ANCHORS.md"
EXIT_UNAVAILABLE = 3


# ---------------------------------------------------------------- arguments

def parse_seeds(text: str) -> list[int]:
    """'0-9' or '0,3,5' or '0-4,7' -> sorted list of seeds."""
    seeds = set()
    for part in text.split(","):
        low, _, high = part.partition("-")
        seeds.update(range(int(low), int(high or low) + 1))
    return sorted(seeds)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", required=True,
                        help="comma-separated engine specs; settings as NAME:key=value:key=value")
    parser.add_argument("--problems", default="all", help="comma-separated names, or 'all'")
    parser.add_argument("--seeds", default="0-9", type=parse_seeds, help="e.g. 0-9 or 0,2,4")
    parser.add_argument("--budget", type=int, help="evaluations per run (default: each problem's)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time")
    parser.add_argument("--anchor-python", default=DEFAULT_ANCHOR_PYTHON,
                        help="interpreter of the anchor venv (for non-hf engines)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "quality.jsonl",
                        help="jsonl cache of finished runs")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per run")
    parser.add_argument("--anchors-table", nargs="?", type=Path, const=DEFAULT_ANCHORS_MD,
                        metavar="ANCHORS_MD",
                        help="merge ANCHORS.md's rows for engines not run (default path: "
                             "shared/bench/ANCHORS.md beside the repo)")
    parser.add_argument("--report-only", action="store_true", help="run nothing, report the cache")
    args = parser.parse_args(argv)
    args.engines = [e for e in args.engines.split(",") if e]
    names = list(problems.ALL) if args.problems == "all" else args.problems.split(",")
    unknown = [n for n in names if n not in problems.ALL]
    if unknown:
        parser.error(f"unknown problems {unknown}; known: {', '.join(problems.ALL)}")
    args.problems = names
    return args


# ---------------------------------------------------------------- subprocesses

def command_env(engine: str, anchor_python: str) -> tuple[list[str], dict]:
    """Interpreter and environment for an engine's subprocess."""
    env = dict(os.environ)
    if engines.is_project_engine(engine):
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
        return [sys.executable, str(RUN_ENGINE)], env
    return [anchor_python, str(RUN_ENGINE)], env


def available(engine: str, anchor_python: str) -> bool:
    """Whether run_engine.py can build the engine in its interpreter (prints why not)."""
    cmd, env = command_env(engine, anchor_python)
    proc = subprocess.run(cmd + [engine, "--check"], env=env, capture_output=True, text=True,
                          check=False)
    if proc.returncode == 0:
        return True
    reason = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
    print(f"SKIPPING {reason}", file=sys.stderr)
    return False


def run_one(job, anchor_python: str, timeout: float) -> dict | None:
    """Run one (engine, problem, seed, budget) job; its record, or None on failure."""
    engine, problem, seed, budget = job
    cmd, env = command_env(engine, anchor_python)
    cmd += [engine, problem, str(seed), "--budget", str(budget)]
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except subprocess.TimeoutExpired:
        print(f"TIMEOUT {engine} {problem} seed {seed} after {timeout:.0f} s", file=sys.stderr)
        return None
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = "\n    ".join(proc.stderr.strip().splitlines()[-8:])
        print(f"FAILED {engine} {problem} seed {seed} (exit {proc.returncode}):\n    {tail}", file=sys.stderr)
        return None
    return json.loads(lines[-1])


# ---------------------------------------------------------------- cache

def job_key(record: dict) -> tuple:
    return record["engine"], record["problem"], record["seed"], record["budget"]


def load_cache(path: Path) -> dict[tuple, dict]:
    if not path.exists():
        return {}
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {job_key(r): r for r in records}


def run_missing(jobs: list[tuple], args, cache: dict) -> None:
    """Run the jobs not in the cache, appending each finished record to args.out."""
    todo = [j for j in jobs if j not in cache]
    print(f"{len(jobs) - len(todo)} runs cached, {len(todo)} to run with {args.jobs} at a time",
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
            best = max(v for v in record["values"] if v is not None)
            print(f"[{done[0]}/{len(todo)}] {job[0]} {job[1]} seed {job[2]}: best {best:.4g} "
                  f"({time.perf_counter() - t0:.1f} s)", file=sys.stderr)

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        list(pool.map(task, todo))


# ---------------------------------------------------------------- report

def build_rows(jobs: list[tuple], cache: dict, anchors_md: Path | None) -> list[report.Row]:
    """Rows for every (problem, engine) with results, plus ANCHORS.md rows for engines not run."""
    rows = []
    for problem in dict.fromkeys(j[1] for j in jobs):
        for engine in dict.fromkeys(j[0] for j in jobs):
            records = [cache[j] for j in jobs if j[:2] == (engine, problem) and j in cache]
            if records:
                rows.append(report.summarize(records, problems.ALL[problem], engine))
    if anchors_md is not None:
        run_engines = {j[0] for j in jobs}
        wanted = {(j[1], j[3]) for j in jobs}
        rows += [r for r in report.anchor_rows(anchors_md)
                 if r.engine not in run_engines and (r.problem, r.budget) in wanted]
    order = {p: i for i, p in enumerate(dict.fromkeys(j[1] for j in jobs))}
    return sorted(rows, key=lambda r: order[r.problem])


def main(argv=None) -> int:
    args = parse_args(argv)
    engine_list = args.engines
    if not args.report_only:
        engine_list = [e for e in args.engines if available(e, args.anchor_python)]
    jobs = [(e, p, s, args.budget or problems.ALL[p].budget)
            for p in args.problems for e in engine_list for s in args.seeds]
    cache = load_cache(args.out)
    if not args.report_only:
        run_missing(jobs, args, cache)
    rows = build_rows(jobs, cache, args.anchors_table)
    if not rows:
        print("no results to report", file=sys.stderr)
        return 1
    print(report.format_report(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
