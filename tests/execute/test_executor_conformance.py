"""The behaviour every executor shows, run against each real executor."""

import time
from pathlib import Path

import pytest

from hyperfleet.execute import EvalTask, ProcessExecutor, SerialExecutor, make_executor
from tests.conftest import RUNS

EXECUTORS = {"serial": SerialExecutor, "process": lambda: ProcessExecutor(2)}


@pytest.fixture(params=sorted(EXECUTORS))
def executor(request):
    ex = EXECUTORS[request.param]()
    yield ex
    ex.shutdown()


def task(name, x, folder=None, eval_id=None):
    return EvalTask(eval_id or f"{name}-{x}", str(RUNS), name, {"x": x}, str(folder) if folder else None)


def collect(executor, n, timeout=60):
    outcomes = []
    deadline = time.time() + timeout
    while len(outcomes) < n and time.time() < deadline:
        outcomes += executor.wait_any(timeout=5)
    return {o.eval_id: o for o in outcomes}


def test_results_come_back_with_timings_and_worker(executor):
    for x in (0.1, 0.2, 0.3):
        executor.submit(task("quadratic", x))
    outcomes = collect(executor, 3)
    assert set(outcomes) == {"quadratic-0.1", "quadratic-0.2", "quadratic-0.3"}
    o = outcomes["quadratic-0.3"]
    assert o.state == "DONE" and o.objective == pytest.approx(1.0)
    assert o.start_time <= o.end_time and o.worker and o.host
    assert executor.in_flight == 0
    assert executor.wait_any(timeout=0.1) == []


@pytest.mark.parametrize("run, error", [
    ("fails_above_half", "RuntimeError: diverged at x=0.9"),
    ("returns_nan", "non-finite objective (nan)"),
    ("returns_text", "run returned str"),
    ("returns_dict_without_objective", "without an 'objective' key"),
    ("exits", "SystemExit: 3"),
])
def test_failures_are_outcomes_not_crashes(executor, run, error):
    executor.submit(task(run, 0.9))
    executor.submit(task("quadratic", 0.3))
    outcomes = collect(executor, 2)
    failed = outcomes[f"{run}-0.9"]
    assert failed.state == "FAILED" and failed.objective is None
    assert error in failed.error
    assert outcomes["quadratic-0.3"].state == "DONE"


def test_dict_results_keep_metadata(executor):
    executor.submit(task("returns_dict", 0.25))
    o = collect(executor, 1)["returns_dict-0.25"]
    assert o.objective == 0.25 and o.metadata == {"epochs": 3, "loss": [0.5, 0.25]}


def test_output_goes_to_the_evaluation_folder(executor, tmp_path):
    executor.submit(task("chatty", 0.5, tmp_path))
    assert collect(executor, 1)["chatty-0.5"].state == "DONE"
    assert "stdout line for x=0.5" in (tmp_path / "stdout.txt").read_text()
    assert "stderr line for x=0.5" in (tmp_path / "stderr.txt").read_text()


def test_traceback_lands_in_stderr_file(executor, tmp_path):
    executor.submit(task("fails_above_half", 0.7, tmp_path))
    collect(executor, 1)
    assert "RuntimeError: diverged" in (tmp_path / "stderr.txt").read_text()


def test_missing_run_function_fails_the_evaluation(executor):
    executor.submit(EvalTask("e1", str(RUNS), "no_such_function", {"x": 0.1}))
    o = collect(executor, 1)["e1"]
    assert o.state == "FAILED" and "no run function named 'no_such_function'" in o.error


def test_cancel_before_start(executor):
    executor.submit(task("sleeps", 0.1, eval_id="a"))
    executor.submit(task("sleeps", 0.2, eval_id="b"))
    executor.submit(task("sleeps", 0.3, eval_id="c"))
    executor.submit(task("sleeps", 0.4, eval_id="d"))
    assert executor.cancel("d") is True
    outcomes = collect(executor, 3)
    assert set(outcomes) == {"a", "b", "c"} and executor.in_flight == 0


def test_process_workers_run_in_parallel(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_TEST_SLEEP", "1.0")
    with ProcessExecutor(2) as ex:
        ex.submit(task("quadratic", 0.0))  # warm both workers up
        ex.submit(task("quadratic", 0.1))
        collect(ex, 2)
        start = time.time()
        ex.submit(task("sleeps", 0.1))
        ex.submit(task("sleeps", 0.2))
        outcomes = collect(ex, 2)
    assert len(outcomes) == 2
    assert time.time() - start < 1.9
    assert len({o.worker for o in outcomes.values()}) == 2


def test_process_shutdown_leaves_nothing_running(monkeypatch):
    monkeypatch.setenv("HF_TEST_SLEEP", "30")
    ex = ProcessExecutor(2)
    ex.submit(task("sleeps", 0.1))
    ex.submit(task("sleeps", 0.2))
    time.sleep(1.5)
    processes = list(ex._pool._processes.values())
    assert processes
    start = time.time()
    ex.shutdown()
    assert time.time() - start < 10
    assert not any(p.is_alive() for p in processes)


def test_make_executor_errors():
    with pytest.raises(ValueError, match="unknown evaluator 'gpu'"):
        make_executor("gpu")
    with pytest.raises(ValueError, match="one evaluation at a time"):
        make_executor("serial", 4)
    assert isinstance(make_executor("serial"), SerialExecutor)


def test_fixture_path_exists():
    assert Path(RUNS).is_file()
