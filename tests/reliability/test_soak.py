"""The crash-and-resume soak: drivers killed with SIGKILL at random moments, worker processes too,
across the process, thread and Dask evaluators; after every round results.csv, results.json and
the store agree exactly (no row lost, none duplicated).

Each round starts a driver (``search``, then ``resume``), kills one of its worker processes at a
random moment with probability 0.7 (process and Dask workers), then kills the driver and everything it started. The store is
then settled the way a user would: a ``resume`` on the serial evaluator with the budget set to
what has finished, which catches the exports up and cancels what the dead driver left running;
then the three are compared. A last resume runs each search to its end. The figures go to the
test's output and to ``soak-summary.txt`` in the test's folder (``$HYPERFLEET_SOAK_SUMMARY``
names another file).
"""

import os
import random
import signal
import time
from pathlib import Path

import psutil

from hyperfleet.api import continue_search
from hyperfleet.report.exports import ROW_STATES
from hyperfleet.store import EvaluationState, SqlStore

from .conftest import check_agreement, csv_rows, hf_start, search_args

ROUNDS = {"process": 7, "thread": 7, "dask": 6}
TARGET = 100_000  # never reached: every round is killed
EARLY_KILL = 0.15  # rounds killed while the driver starts up (before or while it claims the search)


def _descendants(pid):
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _finished(store, search_id):
    return sum(1 for e in store.list_evaluations(search_id) if e.state in ROW_STATES)


def _wait_driving(store, label, pid, limit=120.0):
    """Until the driver ``pid`` holds the search and has finished an evaluation of its own (start-up
    takes seconds on a loaded machine, worker processes more)."""
    deadline, before = time.time() + limit, None
    while time.time() < deadline:
        found = store.find_searches(label)
        if found and found[-1].driver_pid == pid and found[-1].driver_token:
            if before is None:
                before = _finished(store, found[-1].id)
            elif _finished(store, found[-1].id) > before:
                return True
        time.sleep(0.1)
    return False


def _kill_tree(proc, store, label, rng, stats):
    """Kill a worker now and then, then the driver and all it started, at a random moment."""
    if rng.random() < EARLY_KILL:
        time.sleep(rng.uniform(0.2, 3.0))
        stats["start-up kills"] += 1
    else:
        _wait_driving(store, label, proc.pid)
        wait = rng.uniform(0.2, 3.0)
        if rng.random() < 0.7:
            first = rng.uniform(0.1, wait)
            time.sleep(first)
            workers = [p for p in _descendants(proc.pid) if "python" in " ".join(_cmdline(p))]
            if workers:
                try:
                    rng.choice(workers).kill()
                    stats["worker kills"] += 1
                except psutil.Error:
                    pass
            wait -= first
        time.sleep(max(0.0, wait))
    family = _descendants(proc.pid)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)  # the driver's whole session: it was started in its own
        stats["driver kills"] += 1
    proc.communicate()
    for child in family:
        try:
            child.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(family, timeout=10)


def _cmdline(p):
    try:
        return p.cmdline()
    except psutil.Error:
        return []


def _settle_and_check(store, label, previous_rows):
    search = store.resolve_search(label)
    folder = Path(search.folder)
    rows = csv_rows(folder) if (folder / "results.csv").exists() else []
    assert rows[:len(previous_rows)] == previous_rows[:len(rows)], "rows written before a crash changed"
    kept = [e for e in store.list_evaluations(search.id)
            if e.state.finished and e.state != EvaluationState.CANCELLED]
    continue_search(label, store=store, max_evals=max(1, len(kept)), evaluator="serial")
    counts = check_agreement(store, search.id)
    return counts, csv_rows(folder)


def test_sigkill_soak_across_evaluators(project, tmp_path):
    rng = random.Random(20261201)
    store = SqlStore(project / "hyperfleet.db")
    stats = {"rounds": 0, "driver kills": 0, "start-up kills": 0, "worker kills": 0}
    lines, started = [], time.time()
    env = {"RUN_SLEEP": "0.04"}
    for evaluator, rounds in ROUNDS.items():
        label, previous_rows = f"soak-{evaluator}", []
        for n in range(rounds):
            if n == 0 or not store.find_searches(label):
                args = search_args(label, max_evals=TARGET, evaluator=evaluator, workers=2)
            else:
                args = ["resume", label, "--max-evals", TARGET, "--evaluator", evaluator, "--workers", 2, "--quiet"]
            proc = hf_start(args, project, env)
            _kill_tree(proc, store, label, rng, stats)
            stats["rounds"] += 1
            if not store.find_searches(label):
                lines.append(f"{evaluator} round {n}: killed before the search was recorded")
                continue
            counts, previous_rows = _settle_and_check(store, label, previous_rows)
            lines.append(f"{evaluator} round {n}: {len(previous_rows)} rows = store {counts}")
        search = store.resolve_search(label)
        finished = len(previous_rows)
        result = continue_search(label, store=store, max_evals=finished + 10, evaluator=evaluator, workers=2)
        counts = check_agreement(store, search.id)
        rows = csv_rows(search.folder)
        assert result.stats.finished == finished + 10 == len(rows)
        lines.append(f"{evaluator} final: {len(rows)} rows, store {counts}")
    summary = (f"soak: {stats['rounds']} rounds, {stats['driver kills']} driver SIGKILLs, "
               f"({stats['start-up kills']} during start-up), {stats['worker kills']} worker SIGKILLs, "
               f"{time.time() - started:.0f} s\n" + "\n".join(lines))
    print(summary)
    Path(os.environ.get("HYPERFLEET_SOAK_SUMMARY", tmp_path / "soak-summary.txt")).write_text(summary + "\n")
    assert stats["rounds"] >= 20 and stats["driver kills"] >= 15 and stats["worker kills"] >= 1
