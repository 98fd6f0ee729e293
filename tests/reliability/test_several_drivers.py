"""Several real drivers (subprocesses) on one search, on SQLite and on PostgreSQL: nothing lost,
nothing duplicated, the budget never exceeded; cancel stops them all; a member killed with
SIGKILL is recovered by the others."""

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid

import pytest

from hyperfleet.report.exports import IDS_NAME
from hyperfleet.store import EvaluationState, MemberState, SearchState, SqlStore
from tests.reliability.conftest import hf, hf_start

# a small discrete space (80 points): random proposals collide often, the store's check must catch them
SMALL = """
from hyperfleet import HpProblem
Problem = HpProblem()
Problem.add_dim('k', (0, 79))
Problem.add_dim('c', ['a'])
"""
RUN = """
import os, random, time
def run(c):
    time.sleep(float(os.environ.get("RUN_SLEEP", "0.2")) * random.uniform(0.5, 1.5))
    return c['k'] / 100
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def where(request, tmp_path):
    """The --store of the test: a SQLite file beside the project, or the test PostgreSQL server."""
    if request.param == "postgresql":  # a new, empty schema of the test server per test
        return request.getfixturevalue("postgres_schema_url")
    return str(tmp_path / "hyperfleet.db")


@pytest.fixture
def small(tmp_path):
    (tmp_path / "problem.py").write_text(SMALL)
    (tmp_path / "run.py").write_text(RUN)
    return tmp_path


def start_primary(cwd, store, label, max_evals, env, workers=2):
    return hf_start(["search", "-p", "problem.py", "-r", "run.py", "--search", "random", "--max-evals", max_evals,
                     "--evaluator", "thread", "--workers", workers, "--name", label, "--seed", "1", "--quiet",
                     "--store", store], cwd, env)


def start_joiner(cwd, store, label, env, workers=2):
    return hf_start(["search", "--join", label, "--evaluator", "thread", "--workers", workers, "--quiet",
                     "--store", store], cwd, env)


def wait_for(condition, timeout=120, what="the condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def members(store, label):
    record = store.resolve_search(label)
    return store.list_members(record.id)


def check_one_search(store, label, budget):
    """Count == budget, unique numbers, unique configurations, every result once in results.csv."""
    record = store.resolve_search(label)
    evals = store.list_evaluations(record.id)
    counted = [e for e in evals if e.state != EvaluationState.CANCELLED]
    assert len(counted) == budget, [e.state for e in evals]
    assert all(e.state.finished for e in evals)
    assert len({e.number for e in evals}) == len(evals) and len({e.id for e in evals}) == len(evals)
    keys = [(e.config["k"], e.config["c"]) for e in counted]
    assert len(set(keys)) == len(keys), "a configuration ran twice while the space had unseen points"
    with open(os.path.join(record.folder, "results.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    ids = [line for line in open(os.path.join(record.folder, IDS_NAME)).read().splitlines() if line]
    assert len(rows) == len(ids) == len(counted)
    assert sorted(ids) == sorted(e.id for e in counted)
    by_id = {e.id: e for e in counted}
    for row, eval_id in zip(rows, ids):
        assert int(row["k"]) == by_id[eval_id].config["k"]
    return record, evals


def test_four_drivers_share_one_search(small, where):
    label = f"four-{uuid.uuid4().hex[:6]}"
    env = {"RUN_SLEEP": "0.25"}
    primary = start_primary(small, where, label, 60, env)
    store = SqlStore(where)
    try:
        wait_for(lambda: any(s.label == label and s.state == SearchState.RUNNING for s in store.list_searches()),
                 what="the search to run")
        joiners = [start_joiner(small, where, label, env) for _ in range(3)]
        outs = [p.communicate(timeout=300) for p in [primary, *joiners]]
        for p, (_, err) in zip([primary, *joiners], outs):
            assert p.returncode == 0, err
        record, evals = check_one_search(store, label, 60)
        assert record.state == SearchState.FINISHED and record.driver_token is None
        drivers = members(store, label)
        assert [m.role for m in drivers] == ["primary", "member", "member", "member"]
        assert all(m.state == MemberState.LEFT for m in drivers)
        ran = {e.driver_id for e in evals}
        assert len(ran) >= 3, "the joiners ran nothing"
        assert ran <= {m.id for m in drivers}
        # ls and results treat it as one search
        listed = hf(["ls", label, "--store", where], small)
        assert listed.returncode == 0 and "FINISHED" in listed.stdout, listed.stderr
        assert "drivers: 4 left: " in listed.stdout and listed.stdout.count(" (member") == 3, listed.stdout
    finally:
        store.close()


def test_joining_a_search_that_is_not_running_says_what_to_do(small, where):
    label = f"done-{uuid.uuid4().hex[:6]}"
    first = start_primary(small, where, label, 3, {"RUN_SLEEP": "0"})
    assert first.wait(timeout=120) == 0
    late = hf(["search", "--join", label, "--store", where, "--quiet"], small)
    assert late.returncode == 2 and "Traceback" not in late.stderr
    assert f"search {label}" in late.stderr and "FINISHED" in late.stderr and "hyperfleet resume" in late.stderr
    shaped = hf(["search", "--join", label, "--max-evals", "5", "--store", where], small)
    assert shaped.returncode == 2 and "drop --max-evals" in shaped.stderr


def test_cancel_stops_every_driver(small, where):
    label = f"cancel-{uuid.uuid4().hex[:6]}"
    env = {"RUN_SLEEP": "0.3"}
    primary = start_primary(small, where, label, 10000, env)
    store = SqlStore(where)
    try:
        wait_for(lambda: any(s.label == label and s.state == SearchState.RUNNING for s in store.list_searches()),
                 what="the search to run")
        joiner = start_joiner(small, where, label, env)
        wait_for(lambda: len([m for m in members(store, label) if m.state == MemberState.RUNNING]) == 2,
                 what="the joiner")
        record = store.resolve_search(label)
        joiner_id = [m.id for m in members(store, label) if m.role == "member"][0]
        wait_for(lambda: any(e.driver_id == joiner_id for e in store.list_evaluations(record.id)),
                 what="the joiner's first evaluation")
        cancelled = hf(["cancel", label, "--store", where], small)
        assert cancelled.returncode == 0, cancelled.stderr
        for p in (primary, joiner):
            _, err = p.communicate(timeout=60)
            assert p.returncode == 143, err
        record = store.resolve_search(label)
        assert record.state == SearchState.CANCELLED
        assert not store.list_evaluations(record.id, [EvaluationState.RUNNING, EvaluationState.CREATED])
        assert all(m.state == MemberState.LEFT for m in members(store, label))
    finally:
        store.close()


def test_a_member_killed_is_recovered_by_the_others(small, where):
    label = f"kill-{uuid.uuid4().hex[:6]}"
    env = {"RUN_SLEEP": "0.4"}
    primary = start_primary(small, where, label, 50, env)
    store = SqlStore(where)
    try:
        wait_for(lambda: any(s.label == label and s.state == SearchState.RUNNING for s in store.list_searches()),
                 what="the search to run")
        victim, other = start_joiner(small, where, label, env), start_joiner(small, where, label, env)
        record = store.resolve_search(label)

        def victim_running():
            mine = [m.id for m in members(store, label) if m.pid == victim.pid]
            return mine and [e for e in store.list_evaluations(record.id, [EvaluationState.RUNNING])
                             if e.driver_id == mine[0]]
        left_running = wait_for(victim_running, what="the victim's evaluations")
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
        for p in (primary, other):
            out, err = p.communicate(timeout=300)
            assert p.returncode == 0, err
        record, evals = check_one_search(store, label, 50)
        assert record.state == SearchState.FINISHED
        [lost] = [m for m in members(store, label) if m.pid == victim.pid]
        assert lost.state == MemberState.LOST
        by_id = {e.id: e for e in evals}
        for e in left_running:  # what it ran when it died was cancelled and run again by another driver
            assert by_id[e.id].state in (EvaluationState.CANCELLED, EvaluationState.DONE)
            if by_id[e.id].state == EvaluationState.CANCELLED:
                again = [x for x in evals if x.config == e.config and x.state == EvaluationState.DONE]
                assert again and again[0].driver_id != lost.id
    finally:
        store.close()


@pytest.mark.skipif(shutil.which("mpiexec") is None, reason="Open MPI is not installed here")
def test_mpi_drivers_each_rank_drives_with_its_own_workers(small, tmp_path):
    pytest.importorskip("mpi4py")
    store_path = str(tmp_path / "hyperfleet.db")
    env = {**os.environ, "RUN_SLEEP": "0.1", "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
    proc = subprocess.run(["mpiexec", "--oversubscribe", "-n", "3", sys.executable, "-m", "hyperfleet", "search",
                           "-p", "problem.py", "-r", "run.py", "--search", "random", "--max-evals", "40",
                           "--evaluator", "thread", "--workers", "2", "--name", "mpi", "--mpi-drivers", "--quiet",
                           "--store", store_path], cwd=small, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    store = SqlStore(store_path)
    try:
        record, evals = check_one_search(store, "mpi", 40)
        assert record.state == SearchState.FINISHED
        drivers = members(store, "mpi")
        assert [m.role for m in drivers] == ["primary", "member", "member"]
        assert len({e.driver_id for e in evals}) >= 2
    finally:
        store.close()


def test_resume_takes_over_a_search_whose_drivers_all_died(small, where):
    label = f"resume-{uuid.uuid4().hex[:6]}"
    env = {"RUN_SLEEP": "0.3"}
    primary = start_primary(small, where, label, 70, env)
    store = SqlStore(where)
    try:
        wait_for(lambda: any(s.label == label and s.state == SearchState.RUNNING for s in store.list_searches()),
                 what="the search to run")
        joiner = start_joiner(small, where, label, env)
        record = store.resolve_search(label)
        wait_for(lambda: len({e.driver_id for e in store.list_evaluations(record.id, [EvaluationState.RUNNING])}) == 2,
                 what="both drivers running evaluations")
        for p in (primary, joiner):
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=30)
        resumed = hf(["resume", label, "--store", where, "--evaluator", "thread", "--workers", "2", "--quiet"], small,
                     {"RUN_SLEEP": "0.01"})
        assert resumed.returncode == 0, resumed.stderr
        record, _ = check_one_search(store, label, 70)
        assert record.state == SearchState.FINISHED
        assert [m.state for m in members(store, label)] == [MemberState.LOST, MemberState.LOST, MemberState.LEFT]
    finally:
        store.close()
