"""The driver with both executors: budget, failures, outputs, store."""

import csv
import json
import os
import time
from pathlib import Path

import pytest

from hyperfleet import HpProblem, RandomSearch, run_search
from hyperfleet.store import EvaluationState, SearchState, SqlStore
from tests.conftest import RUNS


def run_ref(name):
    return f"{RUNS}:{name}"


@pytest.fixture(params=["serial", "process"])
def evaluator(request):
    return request.param


def _read_csv(folder):
    with open(Path(folder) / "results.csv") as f:
        return list(csv.reader(f))


def test_search_runs_to_budget_and_records_everything(tmp_path, x_problem, evaluator):
    x_problem.add_starting_point(x=0.3)
    store = tmp_path / "hf.db"
    result = run_search(x_problem, run_ref("quadratic"), search="random", max_evals=12, evaluator=evaluator,
                        workers=2 if evaluator == "process" else None, label="quad", seed=0, store=store)
    assert result.stats.done == 12 and result.stats.failed == 0
    assert result.best.config == {"x": 0.3} and result.best.objective == pytest.approx(1.0)
    db = SqlStore(store)
    evaluations = db.list_evaluations(result.search.id)
    assert len(evaluations) == 12
    assert all(e.state == EvaluationState.DONE for e in evaluations)
    assert evaluations[0].config == {"x": 0.3}
    assert db.get_search(result.search.id).state == SearchState.FINISHED
    rows = _read_csv(result.folder)
    assert rows[0] == ["x", "objective", "elapsed_sec"]
    assert len(rows) == 13
    assert sorted(float(r[0]) for r in rows[1:]) == sorted(e.config["x"] for e in evaluations)
    elapsed = [float(r[2]) for r in rows[1:]]
    assert elapsed == sorted(elapsed)
    data = json.loads((result.folder / "results.json").read_text())
    assert len(data["evaluations"]) == 12
    first = next(e for e in data["evaluations"] if e["number"] == 0)
    assert set(first) >= {"id", "state", "config", "objective", "metadata", "error", "start_time",
                          "end_time", "worker"}
    assert "search ended" in (result.folder / "hyperfleet.log").read_text()
    assert result.folder.parent == tmp_path / "searches"


def test_failures_are_recorded_and_the_search_goes_on(tmp_path, x_problem, evaluator):
    result = run_search(x_problem, run_ref("fails_above_half"), search="random", max_evals=16,
                        evaluator=evaluator, workers=2 if evaluator == "process" else None, seed=1,
                        store=tmp_path / "hf.db")
    db = SqlStore(tmp_path / "hf.db")
    evaluations = db.list_evaluations(result.search.id)
    failed = [e for e in evaluations if e.state == EvaluationState.FAILED]
    assert len(evaluations) == 16
    assert failed and all(e.config["x"] > 0.5 and "diverged" in e.error for e in failed)
    assert result.stats.failed == len(failed) and result.stats.done == 16 - len(failed)
    rows = _read_csv(result.folder)[1:]
    assert sum(1 for r in rows if r[1] == "") == len(failed)
    assert all("diverged" in (Path(e.folder) / "stderr.txt").read_text() for e in failed)


def test_every_evaluation_failing_still_finishes(tmp_path, x_problem):
    result = run_search(x_problem, run_ref("returns_text"), search="random", max_evals=4, evaluator="serial",
                        store=tmp_path / "hf.db")
    assert result.best is None and result.stats.failed == 4


def test_never_exceeds_max_evals_with_more_workers_than_budget(tmp_path, x_problem):
    result = run_search(x_problem, run_ref("quadratic"), search="random", max_evals=3, evaluator="process",
                        workers=4, store=tmp_path / "hf.db")
    db = SqlStore(tmp_path / "hf.db")
    assert len(db.list_evaluations(result.search.id)) == 3


def test_timeout_stops_and_cancels_running(tmp_path, x_problem, monkeypatch):
    monkeypatch.setenv("HF_TEST_SLEEP", "0.6")
    result = run_search(x_problem, run_ref("sleeps"), search="random", max_evals=100, timeout=2.0,
                        evaluator="process", workers=2, store=tmp_path / "hf.db")
    db = SqlStore(tmp_path / "hf.db")
    states = [e.state for e in db.list_evaluations(result.search.id)]
    assert "timeout" in result.stop_reason
    assert 1 <= states.count(EvaluationState.DONE) < 10
    assert EvaluationState.RUNNING not in states
    assert states.count(EvaluationState.CANCELLED) >= 1


def test_asynchronous_no_batch_barrier(tmp_path, monkeypatch):
    """A slow evaluation must not stop the other worker from taking new work."""
    problem = HpProblem()
    problem.add_dim("x", (0.0, 1.0))
    problem.add_starting_point(x=1.0)   # sleeps 1.5 s
    runs = tmp_path / "slow.py"
    runs.write_text("import time\n"
                    "def run(c):\n"
                    "    time.sleep(1.5 if c['x'] == 1.0 else 0.1)\n"
                    "    return c['x']\n")
    search = RandomSearch(problem, seed=0, wait_for_starting_points=False)
    result = run_search(problem, str(runs), search=search, max_evals=8, evaluator="process", workers=2,
                        store=tmp_path / "hf.db")
    db = SqlStore(tmp_path / "hf.db")
    evaluations = {e.number: e for e in db.list_evaluations(result.search.id)}
    slow = evaluations[0]
    during = [e for n, e in evaluations.items() if n > 0 and e.end_time < slow.end_time]
    assert len(during) >= 4


def test_run_function_given_as_a_python_function(tmp_path, x_problem):
    from hyperfleet.testing.runs import quadratic

    result = run_search(x_problem, quadratic, search=RandomSearch(x_problem, seed=0), max_evals=3,
                        evaluator="process", workers=2, store=tmp_path / "hf.db")
    assert result.stats.done == 3


def test_bad_driver_arguments(tmp_path, x_problem):
    with pytest.raises(ValueError, match="max_evals must be an integer >= 1"):
        run_search(x_problem, run_ref("quadratic"), search="random", max_evals=0, evaluator="serial",
                   store=tmp_path / "hf.db")
    for bad, message in [(dict(timeout=-1), "timeout must be > 0"), (dict(eval_timeout=0), "eval_timeout must be > 0"),
                         (dict(prefetch=-1), "prefetch must be an integer >= 0"),
                         (dict(max_failures=0), "max_failures must be an integer >= 1")]:
        with pytest.raises(ValueError, match=message):
            run_search(x_problem, run_ref("quadratic"), search="random", max_evals=1, evaluator="serial",
                       store=tmp_path / "hf.db", **bad)
    assert SqlStore(tmp_path / "hf.db").summaries() == []  # nothing recorded for refused settings
    with pytest.raises(ValueError, match="label 'a b' is not usable"):
        run_search(x_problem, run_ref("quadratic"), search="random", max_evals=1, evaluator="serial",
                   label="a b", store=tmp_path / "hf.db")


def test_environment_pins_threads_in_workers(tmp_path, x_problem):
    runs = tmp_path / "env.py"
    runs.write_text("import os\ndef run(c):\n    return {'objective': 1.0, 'omp': os.environ.get('OMP_NUM_THREADS')}\n")
    os.environ.pop("OMP_NUM_THREADS", None)
    result = run_search(x_problem, str(runs), search="random", max_evals=1, evaluator="process", workers=1,
                        store=tmp_path / "hf.db")
    assert result.best.metadata == {"omp": "1"}


def test_max_failures_stops_the_search_with_a_clear_message(tmp_path, x_problem):
    result = run_search(x_problem, run_ref("returns_text"), search="random", max_evals=50, evaluator="serial",
                        max_failures=3, store=tmp_path / "hf.db")
    assert result.search.state == SearchState.FAILED
    assert "stopped after 3 failed evaluations (--max-failures 3)" in result.stop_reason
    assert "run returned str" in result.stop_reason
    assert len(SqlStore(tmp_path / "hf.db").list_evaluations(result.search.id)) == 3


def test_search_folders_are_private(tmp_path, x_problem):
    result = run_search(x_problem, run_ref("chatty"), search="random", max_evals=2, evaluator="serial",
                        store=tmp_path / "hf.db")  # it prints: its folder is made
    assert result.folder.stat().st_mode & 0o777 == 0o700
    assert (result.folder / "evals" / "00000").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "searches").stat().st_mode & 0o077 == 0


def _long_first(tmp_path):
    """The first evaluation to start sleeps 60 s; every other one 0.05 s."""
    problem = HpProblem()
    problem.add_dim("x", (0.0, 1.0))
    run = tmp_path / "long_first.py"
    marker = tmp_path / "first-started"
    run.write_text("import os, time\n"
                   "def run(c):\n"
                   "    try:\n"
                   f"        os.close(os.open({str(marker)!r}, os.O_CREAT | os.O_EXCL))\n"
                   "        time.sleep(60.0)\n"
                   "        return 10.0\n"
                   "    except FileExistsError:\n"
                   "        time.sleep(0.05)\n"
                   "        return c['x']\n")
    return problem, str(run)


def test_no_drain_keeps_workers_busy_then_cancels_the_rest(tmp_path):
    problem, run = _long_first(tmp_path)
    started = time.monotonic()
    result = run_search(problem, run, search="random", max_evals=6, evaluator="process", workers=2,
                        store=tmp_path / "hf.db", seed=0, drain=False)
    elapsed = time.monotonic() - started
    records = SqlStore(tmp_path / "hf.db").list_evaluations(result.search.id)
    by_state = {s: [r for r in records if r.state == s] for s in EvaluationState}
    # the long starting point never held up the search: the other worker ran the budget alone
    assert elapsed < 30
    assert len(by_state[EvaluationState.DONE]) == 6 and result.stats.done == 6
    assert len(by_state[EvaluationState.CANCELLED]) == 1  # the long one, whichever worker took it
    assert "without a drain" in by_state[EvaluationState.CANCELLED][0].error
    assert not by_state[EvaluationState.RUNNING]
    assert "cancelled: no drain" in result.stop_reason and result.search.state == SearchState.FINISHED
    assert SqlStore(tmp_path / "hf.db").get_search(result.search.id).settings["drain"] is False
    # results.csv holds the finished evaluations only
    rows = (result.folder / "results.csv").read_text().splitlines()
    assert len(rows) == 1 + 6


def test_drain_by_default_never_creates_more_than_max_evals(tmp_path):
    run = run_ref("quadratic")
    problem = HpProblem()
    problem.add_dim("x", (0.0, 1.0))
    result = run_search(problem, run, search="random", max_evals=6, evaluator="process", workers=2,
                        store=tmp_path / "hf.db", seed=0)
    records = SqlStore(tmp_path / "hf.db").list_evaluations(result.search.id)
    assert len(records) == 6 and all(r.state == EvaluationState.DONE for r in records)
    assert "cancelled" not in result.stop_reason
