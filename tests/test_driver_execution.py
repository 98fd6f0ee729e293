"""Driver-level execution features: evaluation time limits, crashes, GPUs, every evaluator."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hyperfleet import HpProblem, run_search
from hyperfleet.execute.resources import GpuPool, parse_gpu_ids
from hyperfleet.store import EvaluationState, SqlStore
from tests.conftest import RUNS, TUTORIAL


def _states(store_path, result):
    return [e.state for e in SqlStore(store_path).list_evaluations(result.search.id)]


@pytest.fixture
def sleepy(tmp_path):
    problem = HpProblem()
    problem.add_dim("seconds", [0.1, 30.0])
    problem.add_starting_point(seconds=30.0)
    path = tmp_path / "sleepy.py"
    path.write_text("import time\ndef run(c):\n    time.sleep(c['seconds'])\n    return -c['seconds']\n")
    return problem, str(path)


@pytest.mark.parametrize("evaluator", ["serial", "thread", "process"])
def test_eval_timeout_records_timeout_and_goes_on(tmp_path, sleepy, evaluator):
    problem, run = sleepy
    store = tmp_path / "hf.db"
    result = run_search(problem, run, search="random", max_evals=4, evaluator=evaluator,
                        workers=None if evaluator == "serial" else 2, eval_timeout=1.0, store=store, seed=0)
    records = SqlStore(store).list_evaluations(result.search.id)
    assert records[0].state == EvaluationState.TIMEOUT and "time limit of 1 s" in records[0].error
    assert records[0].end_time - records[0].start_time < 10
    assert all(r.state in (EvaluationState.DONE, EvaluationState.TIMEOUT) for r in records)
    assert len(records) == 4


@pytest.mark.parametrize("evaluator, isolate", [("process", None), ("thread", True), ("serial", True)])
def test_crashing_evaluation_fails_alone(tmp_path, x_problem, evaluator, isolate):
    run = tmp_path / "crashy.py"
    run.write_text("import os, sys\n"
                   "def run(c):\n"
                   "    if c['x'] > 0.5:\n"
                   "        print('native library blew up', file=sys.stderr, flush=True)\n"
                   "        os._exit(9)\n"
                   "    return c['x']\n")
    store = tmp_path / "hf.db"
    result = run_search(x_problem, str(run), search="random", max_evals=10, evaluator=evaluator, isolate=isolate,
                        workers=None if evaluator == "serial" else 2, store=store, seed=3)
    records = SqlStore(store).list_evaluations(result.search.id)
    crashed = [r for r in records if r.config["x"] > 0.5]
    assert crashed and len(records) == 10
    for r in crashed:
        assert r.state == EvaluationState.FAILED
        assert "exited with code 9" in r.error and "native library blew up" in r.error
    assert all(r.state == EvaluationState.DONE for r in records if r.config["x"] <= 0.5)


def test_gpus_are_never_shared_and_recorded(tmp_path):
    problem = HpProblem()
    problem.add_dim("x", (0.0, 1.0))
    store = tmp_path / "hf.db"
    result = run_search(problem, f"{RUNS}:reports_gpus", search="random", max_evals=12, evaluator="process",
                        workers=4, gpus_per_eval=1, gpus=["0", "1", "5"], store=store, seed=0)
    records = SqlStore(store).list_evaluations(result.search.id)
    assert all(r.state == EvaluationState.DONE for r in records)
    for r in records:
        assert r.metadata["gpus"] == r.metadata["cuda"] and r.metadata["gpus"] in {"0", "1", "5"}
    for a in records:
        for b in records:
            if a.id < b.id and a.start_time < b.end_time and b.start_time < a.end_time:
                assert a.metadata["gpus"] != b.metadata["gpus"], "two concurrent evaluations shared a GPU"
    # 4 workers but 3 GPUs: never more than 3 at once
    events = sorted([(r.start_time, 1) for r in records] + [(r.end_time, -1) for r in records])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    assert peak <= 3


def test_two_gpus_per_evaluation(tmp_path):
    problem = HpProblem()
    problem.add_dim("x", (0.0, 1.0))
    result = run_search(problem, f"{RUNS}:reports_gpus", search="random", max_evals=4, evaluator="thread",
                        workers=2, gpus_per_eval=2, gpus=["0", "1", "2", "3"], store=tmp_path / "hf.db")
    gpus = {tuple(r.metadata["cuda"].split(","))
            for r in SqlStore(tmp_path / "hf.db").list_evaluations(result.search.id)}
    assert gpus <= {("0", "1"), ("2", "3")}


def test_gpu_pool_errors():
    with pytest.raises(ValueError, match="2 GPU\\(s\\) per evaluation asked, but found: 0"):
        GpuPool(2, ["0"])
    with pytest.raises(ValueError, match="names a GPU twice"):
        parse_gpu_ids("0,0")
    pool = GpuPool(1, ["a", "b"])
    first = pool.acquire()
    assert pool.capacity == 1
    pool.release(first)
    assert pool.capacity == 2


def test_gpus_detected_from_cuda_visible_devices(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    assert GpuPool(1).ids == ["2", "3"]


def test_dask_evaluator_from_the_cli(tmp_path):
    pytest.importorskip("distributed")
    proc = subprocess.run([sys.executable, "-m", "hyperfleet", "search", "-p", str(TUTORIAL / "problem.py"),
                           "-r", str(TUTORIAL / "synthetic_run.py"), "--search", "random", "--max-evals", "12",
                           "--evaluator", "dask", "--workers", "2", "--name", "dasky"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=180,
                          env={**os.environ, "SYNTHETIC_SLEEP": "0.01"})
    assert proc.returncode == 0, proc.stderr
    assert "12 done, 0 failed" in proc.stdout
    records = SqlStore(tmp_path / "hyperfleet.db").list_evaluations(
        SqlStore(tmp_path / "hyperfleet.db").resolve_search("dasky").id)
    assert all(r.worker.startswith("dask-") for r in records)


@pytest.mark.skipif(shutil.which("mpiexec") is None, reason="mpiexec not installed (the CI installs Open MPI)")
def test_mpi_evaluator_under_mpiexec(tmp_path):
    pytest.importorskip("mpi4py")
    env = {**os.environ, "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_rmaps_base_oversubscribe": "1", "SYNTHETIC_SLEEP": "0.01"}
    proc = subprocess.run(["mpiexec", "-n", "3", sys.executable, "-m", "hyperfleet", "search",
                           "-p", str(TUTORIAL / "problem.py"), "-r", str(TUTORIAL / "synthetic_run.py"),
                           "--search", "random", "--max-evals", "10", "--evaluator", "mpi", "--name", "mpi-run"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("10 done, 0 failed") == 1  # only rank 0 drives and prints
    db = SqlStore(tmp_path / "hyperfleet.db")
    records = db.list_evaluations(db.resolve_search("mpi-run").id)
    assert len(records) == 10 and all(r.state == EvaluationState.DONE for r in records)
    assert len({r.worker for r in records}) == 2  # the two worker ranks
    assert Path(db.resolve_search("mpi-run").folder, "results.csv").read_text().count("\n") == 11
