"""Shared pieces of the reliability suite: a project on disk, the CLI as a subprocess, a search
whose driver 'died', and the check that results.csv, results.json and the store agree."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hyperfleet import HpProblem
from hyperfleet.report.exports import IDS_NAME, ROW_STATES, csv_row
from hyperfleet.store import EvaluationState, SearchState, SqlStore

PROBLEM = """
from hyperfleet import HpProblem
Problem = HpProblem()
Problem.add_dim('x', (0.0, 1.0))
Problem.add_dim('k', (0, 50))
Problem.add_starting_point(x=0.5, k=3)
"""
RUN = """
import os, random, time
def run(c):
    time.sleep(float(os.environ.get("RUN_SLEEP", "0.05")) * random.uniform(0.5, 1.5))
    if c['k'] % 7 == 6:
        raise RuntimeError("k % 7 == 6 fails")
    return c['x'] + c['k'] / 100
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "problem.py").write_text(PROBLEM)
    (tmp_path / "run.py").write_text(RUN)
    return tmp_path


def hf_start(args, cwd, env=None, **kwargs):
    """``hyperfleet ARGS`` as a process (in its own session, so its whole tree can be killed)."""
    return subprocess.Popen([sys.executable, "-m", "hyperfleet", *map(str, args)], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})}, start_new_session=True, **kwargs)


def hf(args, cwd, env=None, timeout=300):
    proc = hf_start(args, cwd, env)
    out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def search_args(label, max_evals=10, evaluator="serial", workers=1, extra=()):
    return ["search", "-p", "problem.py", "-r", "run.py", "--search", "random", "--max-evals", max_evals,
            "--evaluator", evaluator, "--workers", workers, "--name", label, "--seed", "0", "--quiet", *extra]


def problem_of(store, search):
    return HpProblem.from_dict(search.problem)


def crash(store: SqlStore, label: str, n_running: int = 2, pid: int = 99999999):
    """Make a finished search look like one whose driver was SIGKILLed: the last evaluations back
    to RUNNING without a row in results.csv, the search RUNNING with a dead driver's claim."""
    search = store.resolve_search(label)
    evaluations = store.list_evaluations(search.id)
    last = evaluations[-n_running:] if n_running else []
    for e in last:
        store.update_evaluation(e.id, state=EvaluationState.RUNNING, objective=None, end_time=None, error=None)
    folder = Path(search.folder)
    rows = list(csv.reader(open(folder / "results.csv")))
    ids = (folder / IDS_NAME).read_text().splitlines()
    gone = {e.id for e in last}
    keep = [i for i, eid in enumerate(ids) if eid not in gone]
    with open(folder / "results.csv", "w", newline="") as f:
        csv.writer(f).writerows([rows[0]] + [rows[i + 1] for i in keep])
    (folder / IDS_NAME).write_text("".join(ids[i] + "\n" for i in keep))
    import socket

    store.update_search(search.id, state=SearchState.RUNNING, end_time=None)
    assert store.claim_search(search.id, "dead-driver-token", 3600, driver_pid=pid,
                              driver_host=socket.gethostname(), driver_started=1.0, driver_boot_id=None)
    return store.get_search(search.id), last


def csv_rows(folder):
    with open(Path(folder) / "results.csv", newline="") as f:
        return list(csv.reader(f))[1:]


def check_agreement(store: SqlStore, search_id: str) -> dict:
    """results.csv (with its ids file), results.json and the store hold the same evaluations.

    Returns counts by state.
    """
    search = store.get_search(search_id)
    problem = problem_of(store, search)
    evaluations = store.list_evaluations(search_id)
    rowed = {e.id: e for e in evaluations if e.state in ROW_STATES}
    folder = Path(search.folder)
    rows = csv_rows(folder)
    ids = (folder / IDS_NAME).read_text().splitlines()
    assert len(ids) == len(rows), f"{len(rows)} rows but {len(ids)} ids"
    assert len(set(ids)) == len(ids), "a row is duplicated"
    assert set(ids) == set(rowed), (f"rows and the store disagree: {len(set(rowed) - set(ids))} missing, "
                                    f"{len(set(ids) - set(rowed))} extra")
    for eval_id, row in zip(ids, rows):
        expected = csv_row(problem, rowed[eval_id], search.start_time)
        assert row[:-1] == expected[:-1], f"row of {eval_id} is {row}, the store says {expected}"
    data = json.loads((folder / "results.json").read_text())
    in_json = {e["id"]: e["state"] for e in data["evaluations"]}
    finished = {e.id: e.state.value for e in evaluations if e.state.finished}
    assert in_json == finished, "results.json and the store disagree"
    counts: dict = {}
    for e in evaluations:
        counts[e.state.value] = counts.get(e.state.value, 0) + 1
    return counts
