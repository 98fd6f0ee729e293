"""Every executor passes the shared kit (hyperfleet.testing.executor_kit) on real engines."""

import functools
import os
import shutil
import subprocess
import sys

import pytest

from hyperfleet.execute import ProcessExecutor, SerialExecutor, ThreadExecutor, make_executor
from hyperfleet.testing import executor_kit as kit


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def _dask(client):
    from hyperfleet.execute.dask import DaskExecutor

    return DaskExecutor(client=client)


# Executors that run evaluations in the driver's process survive a crash only when isolated.
IN_PROCESS = {"serial", "thread"}
SYNCHRONOUS = {"serial"}  # runs nothing in the background: nothing to cancel or leave running


@pytest.fixture(params=["serial", "thread", "process", "dask"])
def make(request):
    name = request.param
    if name == "dask":
        client = request.getfixturevalue("dask_client")
        factory = functools.partial(_dask, client)
    else:
        factory = {"serial": SerialExecutor, "thread": lambda: ThreadExecutor(2),
                   "process": lambda: ProcessExecutor(2)}[name]
    return name, factory


@pytest.mark.parametrize("check", kit.ALL_CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
def test_executor_kit(make, check, tmp_path):
    name, factory = make
    if name in SYNCHRONOUS and check in (kit.check_cancel, kit.check_shutdown_leaves_nothing_running,
                                         kit.check_children_die_at_shutdown):
        pytest.skip("the serial executor runs evaluations only inside wait_any")
    kwargs = {"isolate": True} if check is kit.check_crash_is_a_failure and name in IN_PROCESS else {}
    check(factory, tmp_path, **kwargs)


@pytest.mark.skipif(shutil.which("mpiexec") is None, reason="mpiexec not installed (the CI installs Open MPI)")
def test_mpi_executor_passes_the_kit_under_mpiexec():
    pytest.importorskip("mpi4py")
    env = {**os.environ, "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_rmaps_base_oversubscribe": "1"}
    proc = subprocess.run(["mpiexec", "-n", "3", sys.executable, "-m", "hyperfleet.testing.executor_kit"],
                          capture_output=True, text=True, timeout=400, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{len(kit.ALL_CHECKS)} passed, 0 failed" in proc.stdout


def test_process_workers_run_in_parallel(tmp_path):
    with ProcessExecutor(2) as ex:
        kit.collect(ex, 0)
        for _ in range(2):
            ex.submit(kit.task("quadratic", tmp_path))
        kit.collect(ex, 2)
        import time

        start = time.time()
        tasks = [kit.task("sleeps_and_records_pid", tmp_path, seconds=1.0) for _ in range(2)]
        for t in tasks:
            ex.submit(t)
        outcomes = kit.collect(ex, 2)
    assert time.time() - start < 1.9
    assert len({o.worker for o in outcomes}) == 2


def test_make_executor_errors():
    with pytest.raises(ValueError, match="unknown evaluator 'gpu'"):
        make_executor("gpu")
    with pytest.raises(ValueError, match="one evaluation at a time"):
        make_executor("serial", 4)
    with pytest.raises(ValueError, match="--dask-address needs --evaluator dask"):
        make_executor("process", dask_address="tcp://127.0.0.1:1")
    assert isinstance(make_executor("serial"), SerialExecutor)


def test_unreachable_dask_scheduler_is_a_clear_error():
    pytest.importorskip("distributed")
    with pytest.raises(ValueError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        make_executor("dask", dask_address="tcp://127.0.0.1:9")
