"""MO-ASHA end to end: run functions reporting two objectives through real executors, the
driver, the store, resume and the CLI; stopped trainings are STOPPED with their last vector."""

import csv
import os
import subprocess
import sys

import numpy as np
import pytest

from hyperfleet import HpProblem, run_search
from hyperfleet.driver_reports import ReportRouter
from hyperfleet.stop import MOASHAStopper, MOValue
from hyperfleet.store import EvaluationState, SqlStore

STOPPED, DONE, FAILED = EvaluationState.STOPPED, EvaluationState.DONE, EvaluationState.FAILED
RUNS = os.path.join(os.path.dirname(__file__), "..", "src", "hyperfleet", "testing", "runs.py")


def problem(constraint=False):
    p = HpProblem()
    p.add_dim("x", (0.0, 1.0))
    p.add_dim("y", (0.0, 0.5))
    p.add_objective("acc")
    p.add_objective("size", "minimize")
    if constraint:
        p.add_constraint("too_big")
    p.add_starting_point(x=0.1, y=0.4)
    return p


class LoggingMOASHA(MOASHAStopper):
    """MO-ASHA that logs its calls and decisions."""

    def __init__(self, **settings):
        super().__init__(**settings)
        self.log = []

    def report(self, eval_id, step, value):
        go = super().report(eval_id, step, value)
        self.log.append(("report", eval_id, step, value, go))
        return go

    def finish(self, eval_id, *, stopped):
        super().finish(eval_id, stopped=stopped)
        self.log.append(("finish", eval_id, stopped))


def replayed_decisions(db, search_id, protected, **settings):
    """Every evaluation's last decision, recomputed by a fresh MO-ASHA from the store's reports."""
    fresh = MOASHAStopper(**settings)
    for eid in protected:
        fresh.protect(eid)
    ends = {e.id: e for e in db.list_evaluations(search_id)}
    finished = sorted(ends.values(), key=lambda e: e.finish_seq)
    decisions, i = {}, 0
    for r in db.list_reports(search_id):
        while i < len(finished) and finished[i].finish_seq < r.seq:
            fresh.finish(finished[i].id, stopped=finished[i].state == STOPPED)
            i += 1
        decisions[r.evaluation_id] = fresh.report(r.evaluation_id, r.step,
                                                  MOValue((r.objectives[0], -r.objectives[1])))
    return decisions


@pytest.mark.parametrize("search", ["random", "ambs"])
def test_moasha_search_with_the_process_executor(tmp_path, search):
    stopper = LoggingMOASHA(max_step=6, reduction_factor=2)
    result = run_search(problem(), f"{RUNS}:reports_two_objectives", search=search, max_evals=14,
                        evaluator="process", workers=2, seed=3, store=tmp_path / "hf.db",
                        stopper=stopper)
    db = SqlStore(tmp_path / "hf.db")
    records = db.list_evaluations(result.search.id)
    states = [e.state for e in records]
    assert FAILED not in states and states.count(STOPPED) >= 2 and states.count(DONE) >= 3, states
    start = records[0]
    assert start.config == {"x": 0.1, "y": 0.4} and start.state == DONE  # protected, though poor
    for e in records:
        reports = db.list_reports(result.search.id, [e.id])
        assert [r.step for r in reports] == list(range(1, e.last_step + 1))
        acc, size = e.config["x"] * (1 - 0.5 ** e.last_step), 1 - e.config["x"] + e.config["y"]
        assert reports[-1].objectives == pytest.approx([acc, size]) and reports[-1].value == pytest.approx(acc)
        assert e.objectives == pytest.approx([acc, size]) and e.objective == pytest.approx(acc)
        if e.state == STOPPED:
            assert e.last_step < 6 and e.error is None  # kept: its last reported vector
        else:
            assert e.last_step == 6
    # the live decisions are MO-ASHA's on the recorded vectors, replayed from the store
    decisions = replayed_decisions(db, result.search.id, [start.id], max_step=6, reduction_factor=2)
    for e in records:
        assert decisions[e.id] is (e.state == DONE or e.id == start.id), e.number
    # the front (store view and pareto.csv) holds full trainings only
    with open(result.folder / "pareto.csv") as f:
        front = list(csv.DictReader(f))
    done = {(round(e.config["x"], 9), round(e.config["y"], 9)) for e in records if e.state == DONE}
    assert front and all((round(float(r["x"]), 9), round(float(r["y"]), 9)) in done for r in front)
    with open(result.folder / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 14  # every evaluation, a stopped one with its last reported vector
    by_xy = {(round(float(r["x"]), 9), round(float(r["y"]), 9)): (float(r["acc"]), float(r["size"]))
             for r in rows}
    for e in records:
        key = (round(e.config["x"], 9), round(e.config["y"], 9))
        assert by_xy[key] == pytest.approx(tuple(e.objectives))


def test_moasha_state_rebuilds_from_the_store(tmp_path):
    live = LoggingMOASHA(max_step=6, reduction_factor=2)
    result = run_search(problem(constraint=True), f"{RUNS}:reports_two_objectives_constrained",
                        search="random", max_evals=12, evaluator="process", workers=2, seed=5,
                        store=tmp_path / "hf.db", stopper=live)
    assert result.stats.stopped >= 2 and result.stats.done >= 2, result.stats
    db = SqlStore(tmp_path / "hf.db")
    history = db.list_evaluations(result.search.id)
    assert any(e.feasible is False for e in history) and any(e.feasible for e in history)
    rebuilt = LoggingMOASHA(max_step=6, reduction_factor=2)
    starting = [e.id for e in history if e.config == {"x": 0.1, "y": 0.4}]
    ReportRouter(db, result.search.id, rebuilt, problem(constraint=True)).replay(history, starting)
    # the same reports with the same decisions, in the same order (two ends with no report
    # between them may swap: the replay orders them by end time, which changes no decision)
    assert [e for e in rebuilt.log if e[0] == "report"] == [e for e in live.log if e[0] == "report"]
    assert sorted(e for e in rebuilt.log if e[0] == "finish") == sorted(e for e in live.log if e[0] == "finish")
    assert rebuilt.rungs.values == live.rungs.values and rebuilt.rungs.violations == live.rungs.violations
    probe = MOValue((0.3, -0.5), 0.0)
    assert rebuilt.report("probe", 1, probe) == live.report("probe", 1, probe)


@pytest.mark.parametrize("run, error", [
    ("reports_wrong_count", "bad report at step 2: the report has 3 objective value(s), the problem "
                            "declares 2 (acc, size); return one number per objective"),
    ("reports_nan_vector", "ValueError: hyperfleet.report at step 2: objective 'objective_1' is not a "
                           "finite number (nan)"),
    ("reports_curve", "bad report at step 1: the report is one number, the problem has 2 objectives "
                      "(acc, size); report them all, as the run function returns them: "
                      "hyperfleet.report((v1, v2, ...), step=k) or a dict with 'objectives'"),
])
def test_bad_reports_fail_their_evaluation_with_one_line_and_lose_nothing(tmp_path, run, error):
    p = problem()
    result = run_search(p, f"{RUNS}:{run}", search="random", max_evals=6, evaluator="process",
                        workers=2, seed=1, store=tmp_path / "hf.db", stopper="moasha",
                        stopper_settings={"max_step": 6})
    db = SqlStore(tmp_path / "hf.db")
    records = db.list_evaluations(result.search.id)
    failed = [e for e in records if e.state == FAILED]
    assert failed and result.search.state.value == "FINISHED" and len(records) == 6
    for e in failed:
        assert e.error.splitlines()[0] == error
        assert e.objectives is None and e.objective is None
        steps = [r.step for r in db.list_reports(result.search.id, [e.id])]
        assert steps == ([] if run == "reports_curve" else [1])  # the good ones are kept
    if run == "reports_wrong_count":  # x <= 0.5 reported right: trained and told as usual
        assert all(e.state != FAILED for e in records if e.config["x"] <= 0.5)


def test_cli_search_with_moasha(tmp_path):
    (tmp_path / "problem.py").write_text(
        "from hyperfleet import HpProblem\nProblem = HpProblem()\nProblem.add_dim('x', (0.0, 1.0))\n"
        "Problem.add_objective('acc')\nProblem.add_objective('size', 'minimize')\n")
    env = {k: v for k, v in os.environ.items() if k != "HYPERFLEET_STORE"}
    out = subprocess.run([sys.executable, "-m", "hyperfleet", "search", "-p", "problem.py", "-r",
                          f"{RUNS}:reports_two_objectives", "--max-evals", "8", "--stopper", "moasha",
                          "--stopper-setting", "max_step=6", "--stopper-setting", "reduction_factor=2",
                          "--evaluator", "process", "--workers", "2", "--store", "hf.db", "--name",
                          "mo", "--search", "random"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    db = SqlStore(tmp_path / "hf.db")
    [search] = db.list_searches()
    records = db.list_evaluations(search.id)
    assert {e.state for e in records} == {DONE, STOPPED}
    assert all(len(e.objectives) == 2 for e in records)
    assert np.isfinite([v for e in records for v in e.objectives]).all()
    bad = subprocess.run([sys.executable, "-m", "hyperfleet", "search", "-p", "problem.py", "-r",
                          f"{RUNS}:reports_two_objectives", "--stopper", "moasha", "--stopper-setting",
                          "reduction_factor=1", "--store", "hf.db"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [
        "error: stopper 'moasha' setting 'reduction_factor': must be > 1 (got 1.0)"]


@pytest.mark.parametrize("evaluator", ["isolated", "dask", "thread"])
def test_vector_reports_through_every_channel(tmp_path, evaluator):
    """The child's pipes (isolation), Dask events and a direct call carry vectors intact."""
    if evaluator == "dask":
        pytest.importorskip("distributed")
    kwargs = {"evaluator": "serial", "isolate": True} if evaluator == "isolated" else \
        {"evaluator": evaluator, "workers": 2}
    result = run_search(problem(constraint=True), f"{RUNS}:reports_two_objectives_constrained",
                        search="random", max_evals=6, seed=2, store=tmp_path / "hf.db",
                        stopper="moasha", stopper_settings={"max_step": 6, "reduction_factor": 2},
                        **kwargs)
    db = SqlStore(tmp_path / "hf.db")
    records = db.list_evaluations(result.search.id)
    assert STOPPED in {e.state for e in records} and FAILED not in {e.state for e in records}
    for e in records:
        [last] = db.list_reports(result.search.id, [e.id])[-1:]
        size = 1 - e.config["x"] + e.config["y"]
        assert last.objectives == pytest.approx([e.config["x"] * (1 - 0.5 ** e.last_step), size])
        assert last.constraints == pytest.approx([size - 0.8])
        assert e.feasible is (size <= 0.8)
