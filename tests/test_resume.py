"""Resume after any crash: the driver is killed with SIGKILL at random moments."""

import csv
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hyperfleet import HpProblem, run_search
from hyperfleet.api import continue_search
from hyperfleet.store import EvaluationState, SearchState, SqlStore

PROBLEM = """
from hyperfleet import HpProblem
Problem = HpProblem()
Problem.add_dim('x', (0.0, 1.0))
Problem.add_dim('k', (0, 50))
Problem.add_starting_point(x=0.5, k=3)
"""
RUN = """
import time
def run(c):
    time.sleep(0.05)
    return c['x'] + c['k'] / 100
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "problem.py").write_text(PROBLEM)
    (tmp_path / "run.py").write_text(RUN)
    return tmp_path


def hf(args, cwd):
    return subprocess.Popen([sys.executable, "-m", "hyperfleet", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def csv_rows(folder):
    with open(Path(folder) / "results.csv") as f:
        return list(csv.reader(f))[1:]


def test_sigkill_at_random_moments_loses_nothing(project):
    rng = random.Random(1234)
    max_evals, kill_rounds = 1000, 20
    rounds, previous_rows = 0, []
    proc = hf(["search", "-p", "problem.py", "-r", "run.py", "--search", "random", "--max-evals", str(max_evals),
               "--workers", "2", "--name", "crashy", "--seed", "0", "--quiet"], project)
    while True:
        try:
            # 20 rounds killed at a random moment (start-up, mid-search, while writing), then one to the end
            proc.wait(timeout=rng.uniform(0.3, 3.0) if rounds < kill_rounds else 300)
            finished_cleanly = proc.returncode == 0
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            finished_cleanly = False
        rounds += 1
        db = SqlStore(project / "hyperfleet.db")
        if not db.find_searches("crashy"):   # killed before the search was even recorded
            proc = hf(["search", "-p", "problem.py", "-r", "run.py", "--search", "random", "--max-evals",
                       str(max_evals), "--workers", "2", "--name", "crashy", "--seed", "0", "--quiet"], project)
            continue
        search = db.resolve_search("crashy")
        rows = csv_rows(search.folder) if (Path(search.folder) / "results.csv").exists() else []
        assert rows[: len(previous_rows)] == previous_rows, "rows finished before a crash were rewritten"
        previous_rows = rows
        db.close()
        if finished_cleanly:
            break
        assert rounds <= kill_rounds, "the search did not finish after its last resume"
        proc = hf(["resume", "crashy", "--quiet"], project)
    assert rounds >= kill_rounds  # (a round that finished before its kill ends the test early)
    db = SqlStore(project / "hyperfleet.db")
    search = db.resolve_search("crashy")
    evaluations = db.list_evaluations(search.id)
    kept = [e for e in evaluations if e.state != EvaluationState.CANCELLED]
    assert search.state == SearchState.FINISHED
    assert len(kept) == max_evals, "the resumed search did not reach exactly --max-evals"
    assert all(e.state == EvaluationState.DONE for e in kept)
    assert len({e.id for e in evaluations}) == len(evaluations)
    rows = csv_rows(search.folder)
    assert len(rows) == max_evals
    from_store = sorted((round(e.config["x"], 9), e.config["k"]) for e in kept)
    from_csv = sorted((round(float(r[0]), 9), int(r[1])) for r in rows)
    assert from_store == from_csv, "results.csv and the store disagree"
    assert ["0.5", "3"] in [r[:2] for r in rows]  # the starting point, exactly once (rows in finish order)
    assert sum(1 for r in rows if r[:2] == ["0.5", "3"]) == 1


def _interrupted_search(tmp_path, n_running=2):
    """A search whose driver 'died': some evaluations DONE, some left RUNNING in the store."""
    problem = HpProblem()
    problem.add_dim("x", (0.0, 1.0))
    run = tmp_path / "run.py"
    run.write_text("def run(c):\n    return c['x']\n")
    store = SqlStore(tmp_path / "hf.db")
    result = run_search(problem, str(run), search="random", max_evals=5, evaluator="serial", store=store,
                        label="cut", seed=0)
    last = store.list_evaluations(result.search.id)[-n_running:]
    for e in last:
        store.update_evaluation(e.id, state=EvaluationState.RUNNING, objective=None, end_time=None)
    store.update_search(result.search.id, state=SearchState.RUNNING, driver_pid=99999999)
    return store, result.search, last


def test_running_evaluations_are_rerun_by_default(tmp_path):
    store, search, interrupted = _interrupted_search(tmp_path)
    result = continue_search("cut", store=store, max_evals=8)
    evaluations = store.list_evaluations(search.id)
    cancelled = [e for e in evaluations if e.state == EvaluationState.CANCELLED]
    assert {e.id for e in cancelled} == {e.id for e in interrupted}
    rerun = [e for e in evaluations if e.number >= 5]
    assert [e.config for e in rerun[:2]] == [e.config for e in interrupted]
    assert result.stats.done == 8 and len([e for e in evaluations if e.state == EvaluationState.DONE]) == 8


def test_running_evaluations_can_be_failed(tmp_path):
    store, search, interrupted = _interrupted_search(tmp_path)
    result = continue_search("cut", store=store, max_evals=6, running="fail")
    states = {e.id: e.state for e in store.list_evaluations(search.id)}
    assert all(states[e.id] == EvaluationState.FAILED for e in interrupted)
    assert result.stats.done == 4 and result.stats.failed == 2


def test_resume_refuses_a_live_driver_and_a_changed_problem(tmp_path, project):
    store, search, _ = _interrupted_search(tmp_path)
    store.update_search(search.id, driver_pid=os.getpid(), driver_host=__import__("socket").gethostname())
    with pytest.raises(ValueError, match="is running \\(driver pid"):
        continue_search("cut", store=store)
    proc = subprocess.run([sys.executable, "-m", "hyperfleet", "search", "-p", "problem.py", "-r", "run.py",
                           "--search", "random", "--max-evals", "3", "--evaluator", "serial", "--name", "p",
                           "--quiet"], cwd=project, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    (project / "problem.py").write_text(PROBLEM.replace("(0, 50)", "(0, 80)"))
    proc = subprocess.run([sys.executable, "-m", "hyperfleet", "resume", "p", "--max-evals", "5"], cwd=project,
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "has changed since search p started" in proc.stderr


def test_resume_of_a_finished_search_extends_it(project):
    proc = subprocess.run([sys.executable, "-m", "hyperfleet", "search", "-p", "problem.py", "-r", "run.py",
                           "--search", "random", "--max-evals", "4", "--evaluator", "serial", "--name", "grow",
                           "--quiet"], cwd=project, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    before = csv_rows(SqlStore(project / "hyperfleet.db").resolve_search("grow").folder)
    proc = subprocess.run([sys.executable, "-m", "hyperfleet", "resume", "grow", "--max-evals", "7", "--quiet"],
                          cwd=project, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "7 done" in proc.stdout
    after = csv_rows(SqlStore(project / "hyperfleet.db").resolve_search("grow").folder)
    assert after[:4] == before and len(after) == 7
