"""Early stopping end to end: hyperfleet.report in run functions, through the real executors, the
driver, the store and the CLI (the stoppers' own behaviour is tested with the stopper kit)."""

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hyperfleet import HpProblem, run_search
from hyperfleet.store import EvaluationState, SqlStore

STOPPED, DONE, FAILED = EvaluationState.STOPPED, EvaluationState.DONE, EvaluationState.FAILED

PROBLEM = """
from hyperfleet import HpProblem
Problem = HpProblem()
Problem.add_dim('x', (0.0, 1.0))
Problem.add_starting_point(x=0.5)
"""
RUN = """
import os, time
import hyperfleet

def run(config):
    value = 0.0
    for epoch in range(1, 11):
        value = config['x'] * epoch / 10
        if not hyperfleet.report(value, step=epoch):
            break
        time.sleep(float(os.environ.get('CURVE_SLEEP', '0')))
    return value

def run_nan_at_4(config):
    for epoch in range(1, 11):
        hyperfleet.report(float('nan') if epoch == 4 and config['x'] != 0.5 else config['x'], step=epoch)
    return config['x']

def run_backwards(config):
    hyperfleet.report(0.1, step=5)
    hyperfleet.report(0.2, step=2)
    return 1.0
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "problem.py").write_text(PROBLEM)
    (tmp_path / "run.py").write_text(RUN)
    return tmp_path


def problem():
    p = HpProblem()
    p.add_dim("x", (0.0, 1.0))
    p.add_starting_point(x=0.5)
    return p


def curves_by_number(db, search_id):
    numbers = {e.id: e.number for e in db.list_evaluations(search_id)}
    curves = {}
    for r in db.list_reports(search_id):
        curves.setdefault(numbers[r.evaluation_id], []).append((r.step, r.value))
    return curves


def assert_fixed_at_3(db, search_id, max_evals):
    """The starting point (protected) trained 10 steps; every other one was stopped at step 3."""
    records = db.list_evaluations(search_id)
    assert len(records) == max_evals
    curves = curves_by_number(db, search_id)
    start, *others = records
    assert start.config == {"x": 0.5} and start.state == DONE and start.last_step == 10
    assert curves[0] == [(k, pytest.approx(0.5 * k / 10)) for k in range(1, 11)]
    for e in others:
        assert e.state == STOPPED and e.last_step == 3 and e.error is None, (e.state, e.error)
        assert [s for s, _ in curves[e.number]] == [1, 2, 3]
        assert e.objective == pytest.approx(e.config["x"] * 3 / 10)  # the last value, not what run returned
    summary = db.summary(search_id)
    assert (summary.done, summary.stopped, summary.failed) == (1, max_evals - 1, 0)
    assert summary.best == pytest.approx(0.5)  # a stopped evaluation's value is not a full training's


@pytest.mark.parametrize("evaluator", ["serial", "thread", "process", "dask"])
def test_fixed_stopper_stops_trainings_through_each_executor(project, evaluator):
    if evaluator == "dask":
        pytest.importorskip("distributed")
    workers = None if evaluator == "serial" else 2
    result = run_search(problem(), str(project / "run.py"), search="random", max_evals=6, evaluator=evaluator,
                        workers=workers, seed=1, store=project / "hf.db", stopper="fixed",
                        stopper_settings={"step": 3})
    assert (result.stats.done, result.stats.stopped, result.stats.failed) == (1, 5, 0)
    db = SqlStore(project / "hf.db")
    assert_fixed_at_3(db, result.search.id, 6)
    assert result.search.settings["stopper"] == "fixed" and result.search.settings["stopper_settings"] == {"step": 3}
    with open(result.folder / "results.csv") as f:
        rows = list(csv.DictReader(f))
    by_x = {float(r["x"]): float(r["objective"]) for r in rows}
    for e in db.list_evaluations(result.search.id):
        assert by_x[e.config["x"]] == pytest.approx(e.objective)  # the stopped row holds its last value
    data = json.loads((result.folder / "results.json").read_text())
    stopped = [e for e in data["evaluations"] if e["state"] == "STOPPED"]
    assert len(stopped) == 5 and all(e["last_step"] == 3 and len(e["curve"]) == 3 for e in stopped)


def test_reports_without_a_stopper_are_recorded_and_change_nothing(project):
    result = run_search(problem(), str(project / "run.py"), search="random", max_evals=4, evaluator="process",
                        workers=2, seed=1, store=project / "hf.db")
    db = SqlStore(project / "hf.db")
    records = db.list_evaluations(result.search.id)
    assert all(e.state == DONE and e.last_step == 10 for e in records)
    assert all(e.objective == pytest.approx(e.config["x"]) for e in records)
    assert all(len(c) == 10 for c in curves_by_number(db, result.search.id).values())
    assert result.search.settings["stopper"] is None


def test_report_outside_a_search_is_a_no_op():
    # in a fresh interpreter, as a user's script calling run by hand (this test process may hold
    # evaluation threads of earlier tests, which a report from their threads would reach)
    code = ("import hyperfleet; assert hyperfleet.report(0.5, step=3) is True; "
            "assert hyperfleet.report(float('nan')) is True; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_bad_reports_fail_their_evaluation_with_one_line_and_lose_nothing(project):
    result = run_search(problem(), f"{project / 'run.py'}:run_nan_at_4", search="random", max_evals=4,
                        evaluator="process", workers=2, seed=1, store=project / "hf.db", stopper="fixed",
                        stopper_settings={"step": 8})
    db = SqlStore(project / "hf.db")
    records = db.list_evaluations(result.search.id)
    curves = curves_by_number(db, result.search.id)
    start, *others = records
    assert start.state == DONE and len(curves[0]) == 10
    for e in others:
        assert e.state == FAILED
        assert e.error.splitlines()[0] == ("ValueError: hyperfleet.report: the value must be finite, got nan "
                                           "(at step 4)")
        assert [s for s, _ in curves[e.number]] == [1, 2, 3] and e.last_step == 3  # kept
    result = run_search(problem(), f"{project / 'run.py'}:run_backwards", search="random", max_evals=2,
                        evaluator="serial", seed=1, store=project / "hf.db")
    for e in db.list_evaluations(result.search.id):
        assert e.state == FAILED and e.error.splitlines()[0] == (
            "ValueError: hyperfleet.report: step 2 does not come after step 5, the previous report; steps "
            "must increase")
        assert [r.step for r in db.list_reports(result.search.id, [e.id])] == [5]


def hf(args, cwd, **env):
    full = {k: v for k, v in os.environ.items() if k != "HYPERFLEET_STORE"}
    full.update(env)
    return subprocess.run([sys.executable, "-m", "hyperfleet", *args], cwd=cwd, env=full, capture_output=True,
                          text=True, timeout=300)


def test_cli_bad_stopper_input_is_one_line_and_records_nothing(project):
    base = ["search", "-p", "problem.py", "-r", "run.py", "--max-evals", "2", "--quiet", "--evaluator", "serial"]
    cases = {("--stopper", "nosuch"): "error: unknown stopper 'nosuch'; choose one of",
             ("--stopper", "fixed", "--stopper-setting", "colour=3"): "error: stopper 'fixed': unknown setting 'colour'",
             ("--stopper-setting", "step=3"): "error: --stopper-setting needs --stopper NAME",
             ("--stopper", "fixed", "--stopper-setting", "step"): "'step' is not KEY=VALUE"}
    for extra, message in cases.items():
        proc = hf([*base, *extra], project)
        assert proc.returncode == 2, (extra, proc.stdout, proc.stderr)
        assert message in proc.stderr and "Traceback" not in proc.stderr, (extra, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) <= 4, proc.stderr  # click's usage lines at most
    if (project / "hyperfleet.db").exists():
        db = SqlStore(project / "hyperfleet.db")
        assert db.list_searches() == [], "a refused search was recorded"


def test_cli_search_with_stopper_then_ls_and_report(project):
    proc = hf(["search", "-p", "problem.py", "-r", "run.py", "--search", "random", "--max-evals", "5",
               "--workers", "2", "--name", "early", "--seed", "3", "--quiet", "--stopper", "fixed",
               "--stopper-setting", "step=3"], project)
    assert proc.returncode == 0, proc.stderr
    assert "1 done, 4 stopped early, 0 failed" in proc.stdout
    listing = hf(["ls", "early"], project).stdout
    assert "1 done, 4 stopped" in listing and listing.count(" STOPPED ") == 4
    rows = [line.split() for line in listing.splitlines() if " STOPPED " in line or " DONE " in line]
    steps = sorted(row[4] for row in rows)  # id, #, state, objective, step ...
    assert steps == ["10", "3", "3", "3", "3"], listing
    assert " 4 " in hf(["ls"], project).stdout  # the stopped column of the searches' list
    out = hf(["report", "early"], project)
    assert out.returncode == 0, out.stderr
    folder = Path(hf(["path", "early"], project).stdout.strip())
    assert (folder / "report_curves.png").stat().st_size > 1000
    page = (folder / "report.html").read_text()
    assert "Learning curves" in page
    assert "4 evaluations stopped early: 22 steps run instead of 50 at 10 steps each (56% saved)" in page


@pytest.mark.skipif(shutil.which("mpiexec") is None, reason="mpiexec not installed (the CI installs Open MPI)")
def test_fixed_stopper_through_mpi_under_mpiexec(project):
    pytest.importorskip("mpi4py")
    env = {**os.environ, "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_rmaps_base_oversubscribe": "1"}
    env.pop("HYPERFLEET_STORE", None)
    proc = subprocess.run(["mpiexec", "-n", "3", sys.executable, "-m", "hyperfleet", "search", "-p", "problem.py",
                           "-r", "run.py", "--search", "random", "--max-evals", "6", "--evaluator", "mpi",
                           "--name", "mpi-early", "--seed", "1", "--stopper", "fixed", "--stopper-setting",
                           "step=3"], cwd=project, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("1 done, 5 stopped early, 0 failed") == 1
    db = SqlStore(project / "hyperfleet.db")
    search = db.resolve_search("mpi-early")
    assert_fixed_at_3(db, search.id, 6)
    assert search.settings["isolate"] is True  # mpi isolates: the reports came through the child's pipes
