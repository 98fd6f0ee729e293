"""Evaluations leave nothing behind: processes, working directory, environment; memory limits;
KeyboardInterrupt in run; hung threads (issue 16, items 12-15)."""

import functools
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from hyperfleet.execute import ProcessExecutor, SerialExecutor, ThreadExecutor
from hyperfleet.execute.task import EvalTask
from hyperfleet.testing import executor_kit as kit


def _dask_executor(client):
    from hyperfleet.execute.dask import DaskExecutor

    return DaskExecutor(client=client)


@pytest.fixture(scope="module")
def one_dask_worker():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(params=["process", "dask"])
def long_lived(request):
    if request.param == "dask":
        return functools.partial(_dask_executor, request.getfixturevalue("one_dask_worker"))
    return lambda: ProcessExecutor(1)


def test_cwd_and_environment_changes_do_not_reach_the_next_evaluation(long_lived, tmp_path):
    with long_lived() as ex:
        outcomes = []
        for _ in range(2):
            ex.submit(kit.task("changes_cwd_and_env", tmp_path))
            outcomes += kit.collect(ex, 1)
    first, second = outcomes
    assert first.state == second.state == "DONE"
    assert second.metadata["mark"] is None
    assert second.metadata["cwd"] == first.metadata["cwd"]
    assert not second.metadata["cwd"].startswith(str(tmp_path))


def test_a_keyboard_interrupt_in_run_goes_to_the_evaluations_stderr(long_lived, tmp_path):
    with long_lived() as ex:
        t = kit.task("raises_keyboard_interrupt", tmp_path)
        ex.submit(t)
        [outcome] = kit.collect(ex, 1)
        assert outcome.state == "FAILED" and "KeyboardInterrupt" in outcome.error
        assert "KeyboardInterrupt" in (Path(t.folder) / "stderr.txt").read_text()
        after = kit.task("quadratic", tmp_path)
        ex.submit(after)  # the same worker goes on
        assert kit.collect(ex, 1)[0].state == "DONE"


def test_serial_restores_the_drivers_cwd_and_environment(tmp_path):
    cwd = os.getcwd()
    with SerialExecutor() as ex:
        ex.submit(kit.task("changes_cwd_and_env", tmp_path))
        assert kit.collect(ex, 1)[0].state == "DONE"
    assert os.getcwd() == cwd and "HF_TEST_MARK" not in os.environ


def test_thread_children_are_killed_at_shutdown_without_isolation(tmp_path):
    ex = ThreadExecutor(2)
    hung = kit.task("starts_children", tmp_path, seconds=600)
    ex.submit(hung)
    deadline = time.time() + 30
    while not (Path(hung.folder) / "children.txt").exists():
        assert time.time() < deadline
        time.sleep(0.05)
    ex.shutdown()
    kit._assert_children_dead(hung)


MEMORY_EXECUTORS = {"serial": SerialExecutor, "thread": lambda: ThreadExecutor(2),
                    "process": lambda: ProcessExecutor(2)}


@pytest.mark.parametrize("name", sorted(MEMORY_EXECUTORS))
def test_an_evaluation_over_its_memory_limit_fails_and_the_search_goes_on(name, tmp_path):
    with MEMORY_EXECUTORS[name]() as ex:
        big = kit.task("allocates", tmp_path, mb=600, seconds=20)
        big = EvalTask(**{**big.__dict__, "memory_limit": 0.25})
        small = kit.task("allocates", tmp_path, mb=20, seconds=0.2)
        small = EvalTask(**{**small.__dict__, "memory_limit": 0.25})
        start = time.time()
        for t in (big, small):
            ex.submit(t)
        by_id = {o.eval_id: o for o in kit.collect(ex, 2, limit=60)}
    assert time.time() - start < 20, "the evaluation was not killed at its limit"
    failed = by_id[big.eval_id]
    assert failed.state == "FAILED"
    assert failed.error.startswith("out of memory: used ") and "> limit 0.25 GB (--eval-memory)" in failed.error
    assert by_id[small.eval_id].state == "DONE"


HUNG_RUN = textwrap.dedent("""
    import time

    def run(config):
        time.sleep(10_000)
        return 1.0
""")


def test_a_hung_thread_does_not_keep_the_search_alive_after_its_timeout(tmp_path):
    (tmp_path / "hung_run.py").write_text(HUNG_RUN)
    (tmp_path / "problem.py").write_text("from hyperfleet import HpProblem\nProblem = HpProblem()\n"
                                         "Problem.add_dim('x', (0.0, 1.0))\n")
    start = time.time()
    proc = subprocess.run([sys.executable, "-m", "hyperfleet", "search", "-p", "problem.py", "-r", "hung_run.py",
                           "--evaluator", "thread", "--workers", "2", "--timeout", "3", "--max-evals", "4",
                           "--quiet", "--store", str(tmp_path / "hf.db")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert time.time() - start < 90
    assert "timeout" in proc.stdout + proc.stderr, proc.stdout + proc.stderr


def test_eval_memory_reaches_the_evaluations_through_run_search(tmp_path):
    from hyperfleet import HpProblem, run_search
    from hyperfleet.store import open_store

    problem = HpProblem()
    problem.add_dim("mb", [400, 10])
    problem.add_dim("seconds", [3.0])
    problem.add_dim("folder", [str(tmp_path)])
    problem.add_starting_point(mb=400, seconds=3.0, folder=str(tmp_path))
    problem.add_starting_point(mb=10, seconds=3.0, folder=str(tmp_path))
    result = run_search(problem, f"{kit.RUNS}:allocates", search="random", max_evals=2, evaluator="thread",
                        workers=2, eval_memory=0.2, store=str(tmp_path / "hf.db"), seed=0)
    store = open_store(str(tmp_path / "hf.db"))
    try:
        evals = {e.config["mb"]: e for e in store.list_evaluations(result.search.id)}
        assert store.get_search(result.search.id).settings["eval_memory"] == 0.2
    finally:
        store.close()
    assert evals[400].state.value == "FAILED" and "out of memory" in evals[400].error
    assert evals[10].state.value == "DONE"
