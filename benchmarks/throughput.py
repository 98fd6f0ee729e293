"""Throughput and utilization of the executors, side by side with DeepHyper's evaluators.

    python benchmarks/throughput.py [--anchor-python /work/venvs/anchors/bin/python] [--evals 2000]
    python benchmarks/throughput.py --anchor-python ... --rounds 5     # interleaved rounds, medians
    python benchmarks/throughput.py --anchor-python ... --rounds 3 --mpi --skip-utilization  # + MPI (mpiexec -n 3)

1. Throughput: a no-op run function, random search, 2 workers; evaluations per second from the
   first evaluation's creation to the last one's end (DeepHyper: first submission to last
   gathering), for hyperfleet's ``process``, ``dask`` and
   ``thread`` evaluators and (with ``--anchor-python``) DeepHyper 0.13.2's ``process`` and
   ``thread`` evaluators, measured in the same run; each run in a fresh interpreter. With
   ``--rounds``, ``serial`` (1 worker) too, against DeepHyper's ``serial``, and every
   evaluator once per round. DeepHyper 0.13.2 has no Dask evaluator.
2. Utilization: AMBS, 2 workers, 40 evaluations each sleeping 0.5 s:
   sum of evaluation run times / (workers x wall time of the search), on ``process`` and ``dask``.

Prints a markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Optional

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

NOOP = "def run(config):\n    return 0.0\n"
SLEEP = "import time\n\ndef run(config):\n    time.sleep(0.5)\n    return config['x']\n"


def problem():
    from hyperfleet import HpProblem

    p = HpProblem()
    p.add_dim("x", (0.0, 1.0))
    p.add_dim("y", (0, 100))
    return p


def hyperfleet_run(evaluator: str, search: str, n: int, run_source: str, workers: int = 2,
                   keep_in: Optional[str] = None) -> dict:
    """One search in a new temporary folder, removed at the end, or (``keep_in``) a new folder
    there, left for the caller to remove later (see :func:`kept_folders`)."""
    from hyperfleet import run_search
    from hyperfleet.store import SqlStore

    with _work_folder(keep_in) as work:
        run_file = Path(work) / "run.py"
        run_file.write_text(run_source)
        store = SqlStore(Path(work) / "hf.db")
        start = time.time()
        result = run_search(problem(), str(run_file), search=search, max_evals=n, evaluator=evaluator,
                            workers=workers, store=store, seed=0)
        wall = time.time() - start
        records = store.list_evaluations(result.search.id)
        store.close()
    return _figures(records, wall, workers)


@contextlib.contextmanager
def _work_folder(keep_in: Optional[str]):
    if keep_in is None:
        with tempfile.TemporaryDirectory() as work:
            yield work
    else:
        yield tempfile.mkdtemp(dir=keep_in)


@contextlib.contextmanager
def kept_folders():
    """A folder for every run's files, removed only after the last run. Removing a run's
    thousands of evaluation folders right after it ends slows the next run on this machine's
    disk (ext4 mounted with ``discard``): in session 10, 3,000 no-op thread evaluations ran at
    1,676, 1,125, 802 /s in three rounds that each removed their folder, 1,300-1,700 /s in rounds
    that did not, and 1,360-1,833 /s on tmpfs either way. DeepHyper's runs write almost nothing."""
    root = tempfile.mkdtemp(prefix="throughput-")
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _figures(records, wall: float, workers: int) -> dict:
    """``evals_per_s`` from the first evaluation's creation to the last one's end (DeepHyper's:
    first submission to last gathering, the nearest it records)."""
    starts = [r.start_time for r in records]
    ends = [r.end_time for r in records]
    span = max(ends) - min(starts)
    busy = sum(e - s for s, e in zip(starts, ends))
    created = max(ends) - min(r.created_time for r in records)
    return {"n": len(records), "evals_per_s": len(records) / created, "span_s": created, "wall_s": wall,
            "run_span_s": span, "utilization": busy / (workers * span)}


DEEPHYPER_SCRIPT = textwrap.dedent("""
    import json, os, sys, time, tempfile
    from deephyper.evaluator import Evaluator
    from deephyper.hpo import HpProblem, RandomSearch
    sys.path.insert(0, sys.argv[3])
    from dh_noop import run
    method, n = sys.argv[1], int(sys.argv[2])
    if method == "serial":  # DeepHyper's serial evaluator takes coroutines only
        sync_run = run
        async def run(config):
            return sync_run(config)
    p = HpProblem()
    p.add_hyperparameter((0.0, 1.0), "x")
    p.add_hyperparameter((0, 100), "y")
    ev = Evaluator.create(run, method=method, method_kwargs={"num_workers": int(sys.argv[4])})
    os.chdir(sys.argv[3])
    search = RandomSearch(p, random_state=0)
    t0 = time.time()
    df = search.search(ev, max_evals=n)
    wall = time.time() - t0
    # DeepHyper 0.13.2 records when each evaluation was submitted and gathered, not when it ran
    span = float(df["m:timestamp_gather"].max() - df["m:timestamp_submit"].min())
    print(json.dumps({"n": len(df), "evals_per_s": len(df) / span, "span_s": float(span), "wall_s": wall}))
""")


def deephyper_run(python: str, method: str, n: int, keep_in: Optional[str] = None, workers: int = 2) -> dict:
    with _work_folder(keep_in) as work:
        (Path(work) / "dh_noop.py").write_text(NOOP)
        script = Path(work) / "dh_bench.py"
        script.write_text(DEEPHYPER_SCRIPT)
        env = {**os.environ, "PYTHONPATH": ""}
        out = subprocess.run([python, str(script), method, str(n), work, str(workers)], capture_output=True, text=True,
                             env=env, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(f"DeepHyper {method} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


DEEPHYPER_MPI_SCRIPT = textwrap.dedent("""
    import json, os, sys, time
    from deephyper.evaluator import Evaluator
    from deephyper.hpo import HpProblem, RandomSearch
    sys.path.insert(0, sys.argv[2])
    from dh_noop import run
    n = int(sys.argv[1])
    p = HpProblem()
    p.add_hyperparameter((0.0, 1.0), "x")
    p.add_hyperparameter((0, 100), "y")
    with Evaluator.create(run, method="mpicomm") as ev:
        from mpi4py import MPI
        if MPI.COMM_WORLD.Get_rank() == 0:  # the root; the others have served evaluations until here
            os.chdir(sys.argv[2])
            t0 = time.time()
            df = RandomSearch(p, random_state=0).search(ev, max_evals=n)
            wall = time.time() - t0
            span = float(df["m:timestamp_gather"].max() - df["m:timestamp_submit"].min())
            print("RESULT " + json.dumps({"n": len(df), "evals_per_s": len(df) / span, "span_s": span, "wall_s": wall}))
""")

HYPERFLEET_PROBLEM = textwrap.dedent("""
    from hyperfleet import HpProblem
    Problem = HpProblem()
    Problem.add_dim("x", (0.0, 1.0))
    Problem.add_dim("y", (0, 100))
""")


def _mpiexec(ranks: int) -> list[str]:
    extra = ["--oversubscribe"] if "open" in subprocess.run(["mpiexec", "--version"], capture_output=True,
                                                          text=True).stdout.lower() else []
    return ["mpiexec", *extra, "-n", str(ranks)]


def deephyper_mpi(python: str, n: int, keep_in: Optional[str] = None, workers: int = 2) -> dict:
    """DeepHyper's ``mpicomm`` evaluator: ``workers`` + 1 ranks, the root drives."""
    with _work_folder(keep_in) as work:
        (Path(work) / "dh_noop.py").write_text(NOOP)
        script = Path(work) / "dh_mpi.py"
        script.write_text(DEEPHYPER_MPI_SCRIPT)
        env = {**os.environ, "PYTHONPATH": ""}
        out = subprocess.run([*_mpiexec(workers + 1), python, str(script), str(n), work], capture_output=True,
                             text=True, env=env, timeout=1800)
    results = [line[7:] for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if out.returncode != 0 or not results:
        raise RuntimeError(f"DeepHyper mpicomm failed:\n{out.stderr[-2000:]}")
    return json.loads(results[-1])


def hyperfleet_mpi(n: int, isolate: bool, keep_in: Optional[str] = None, workers: int = 2,
                   fork_server: bool = True) -> dict:
    """``mpiexec -n workers+1 hyperfleet search --evaluator mpi`` (rank 0 drives), read back from
    its store; ``isolate``: each evaluation in a child process of its rank (the default under MPI),
    forked by the rank's fork server or (``fork_server=False``) a new interpreter."""
    from hyperfleet.store import SqlStore

    with _work_folder(keep_in) as work:
        (Path(work) / "problem.py").write_text(HYPERFLEET_PROBLEM)
        (Path(work) / "run.py").write_text(NOOP)
        cmd = [*_mpiexec(workers + 1), sys.executable, "-m", "hyperfleet", "search", "-p", "problem.py", "-r",
               "run.py", "--search", "random", "--max-evals", str(n), "--evaluator", "mpi", "--quiet",
               "--isolate" if isolate else "--no-isolate", "--name", "mpi", "--store", "hf.db"]
        start = time.time()
        env = {**os.environ, "HYPERFLEET_FORK_SERVER": "1" if fork_server else "0"}
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=work, timeout=1800, env=env)
        wall = time.time() - start
        if out.returncode != 0:
            raise RuntimeError(f"hyperfleet mpi failed:\n{out.stderr[-2000:]}")
        store = SqlStore(Path(work) / "hf.db")
        records = store.list_evaluations(store.resolve_search("mpi").id)
        store.close()
    return _figures(records, wall, workers)


def hyperfleet_fresh(evaluator: str, n: int, workers: int = 2, keep_in: Optional[str] = None) -> dict:
    """:func:`hyperfleet_run` of a no-op random search in a fresh interpreter, as DeepHyper's runs
    are, so that no state of an earlier run weighs on a later one (its files kept in ``keep_in``)."""
    keep = ["--keep-in", keep_in] if keep_in else []
    out = subprocess.run([sys.executable, __file__, "--one", evaluator, "--evals", str(n), "--workers", str(workers),
                          *keep], capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(f"hyperfleet {evaluator} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--anchor-python", help="python of the virtual environment with deephyper==0.13.2")
    parser.add_argument("--evals", type=int, default=2000, help="no-op evaluations per throughput run")
    parser.add_argument("--skip-utilization", action="store_true")
    parser.add_argument("--rounds", type=int, default=0,
                        help="instead of one table: this many interleaved rounds of every evaluator "
                             "(hyperfleet's and, with --anchor-python, DeepHyper's), then their medians")
    parser.add_argument("--mpi", action="store_true",
                        help="with --rounds: also hyperfleet's mpi evaluator (isolated, the default, and "
                             "not) and DeepHyper's mpicomm (needs mpiexec, and mpi4py in both environments)")
    parser.add_argument("--mpi-evals", type=int, default=300, help="evaluations per MPI run")
    parser.add_argument("--mpi-only", action="store_true", help="with --rounds --mpi: only the MPI evaluators")
    parser.add_argument("--one", metavar="EVALUATOR", help=argparse.SUPPRESS)  # one run, JSON (fresh interpreter)
    parser.add_argument("--workers", type=int, default=2, help=argparse.SUPPRESS)
    parser.add_argument("--keep-in", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(hyperfleet_run(args.one, "random", args.evals, NOOP, workers=args.workers,
                                        keep_in=args.keep_in)))
        return
    with kept_folders() as keep:
        if args.rounds:
            rounds(args, keep)
        else:
            table(args, keep)


def table(args, keep: str) -> None:
    rows = []
    for evaluator in ("process", "dask", "thread"):
        f = hyperfleet_fresh(evaluator, args.evals, keep_in=keep)
        rows.append((f"hyperfleet {evaluator}", f))
        print(f"hyperfleet {evaluator}: {f['evals_per_s']:.0f} evals/s", file=sys.stderr, flush=True)
    if args.anchor_python:
        for method in ("process", "thread"):
            f = deephyper_run(args.anchor_python, method, args.evals, keep_in=keep)
            rows.append((f"DeepHyper 0.13.2 {method}", f))
            print(f"deephyper {method}: {f['evals_per_s']:.0f} evals/s", file=sys.stderr, flush=True)

    print(f"\n### Throughput: no-op run function, random search, 2 workers, {args.evals} evaluations\n")
    print("| library / evaluator | evaluations/s (first created to last ended) | wall s (whole search) |")
    print("|---|---|---|")
    for name, f in rows:
        print(f"| {name} | {f['evals_per_s']:.0f} | {f['wall_s']:.1f} |")
    dh = dict(rows).get("DeepHyper 0.13.2 process")
    if dh:
        ratio = dict(rows)["hyperfleet process"]["evals_per_s"] / dh["evals_per_s"]
        print(f"\nhyperfleet process / DeepHyper process: {ratio:.1f}x")

    if not args.skip_utilization:
        print("\n### Utilization: AMBS, 2 workers, 40 evaluations sleeping 0.5 s\n")
        print("| evaluator | utilization (busy / (workers x span)) | span s |")
        print("|---|---|---|")
        for evaluator in ("process", "dask"):
            f = hyperfleet_run(evaluator, "ambs", 40, SLEEP, keep_in=keep)
            print(f"| {evaluator} | {f['utilization']:.3f} | {f['span_s']:.1f} |", flush=True)


def rounds(args, keep: str) -> None:
    """Interleaved rounds: each round runs every evaluator once, so that a machine whose speed
    drifts (a shared or virtual one) affects them alike; prints each run and the medians."""
    import statistics

    runs = [(f"hyperfleet {e}", lambda e=e: hyperfleet_fresh(e, args.evals, workers=1 if e == "serial" else 2,
                                                             keep_in=keep))
            for e in ("process", "thread", "serial", "dask")]
    if args.mpi and args.mpi_only:
        runs = []
    elif args.anchor_python:
        runs += [(f"DeepHyper 0.13.2 {m}", lambda m=m: deephyper_run(args.anchor_python, m, args.evals, keep_in=keep,
                                                                      workers=1 if m == "serial" else 2))
                 for m in ("process", "thread", "serial")]
    if args.mpi:
        n = args.mpi_evals
        runs += [(f"hyperfleet mpi (isolated, the default; {n} evaluations)", lambda: hyperfleet_mpi(n, True, keep)),
                 (f"hyperfleet mpi --no-isolate ({n} evaluations)", lambda: hyperfleet_mpi(n, False, keep)),
                 (f"hyperfleet mpi isolated, HYPERFLEET_FORK_SERVER=0 ({n} evaluations)",
                  lambda: hyperfleet_mpi(n, True, keep, fork_server=False))]
        if args.anchor_python:
            runs.append((f"DeepHyper 0.13.2 mpicomm ({n} evaluations)",
                         lambda: deephyper_mpi(args.anchor_python, n, keep)))
    seen: dict = {}
    for r in range(args.rounds):
        for name, run in runs:
            seen.setdefault(name, []).append(run()["evals_per_s"])
            print(f"round {r + 1}: {name} {seen[name][-1]:.0f} evaluations/s", file=sys.stderr, flush=True)
    print(f"\n### Throughput, {args.rounds} interleaved rounds: no-op run function, random search, "
          f"2 workers (serial: 1), {args.evals} evaluations\n")
    print("| library / evaluator | evaluations/s, each round | median |")
    print("|---|---|---|")
    for name, values in seen.items():
        print(f"| {name} | {', '.join(f'{v:.0f}' for v in values)} | {statistics.median(values):.0f} |")


if __name__ == "__main__":
    main()
