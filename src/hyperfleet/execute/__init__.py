"""Executors: where evaluations run, all behind one interface.

==========  =====================================================  =========================
name        where                                                  extra
==========  =====================================================  =========================
serial      the driver's own process, one at a time                -
thread      threads of the driver's process                        -
process     worker processes on this machine (crash-proof)         -
dask        a Dask LocalCluster, a scheduler address, any Client   ``hyperfleet[dask]``
mpi         the other ranks of ``mpiexec -n N``                    ``hyperfleet[mpi]``
==========  =====================================================  =========================
"""

from hyperfleet.execute.base import Executor
from hyperfleet.execute.process import ProcessExecutor
from hyperfleet.execute.serial import SerialExecutor
from hyperfleet.execute.task import EvalOutcome, EvalTask
from hyperfleet.execute.thread import ThreadExecutor

__all__ = ["Executor", "SerialExecutor", "ThreadExecutor", "ProcessExecutor", "EvalTask", "EvalOutcome",
           "make_executor", "EXECUTORS"]

EXECUTORS = ("serial", "thread", "process", "dask", "mpi")


def make_executor(name: str, workers: int | None = None, dask_address: str | None = None):
    """Build an executor by name; for ``mpi`` this returns ``None`` on the worker ranks once the
    driver is done (see :class:`hyperfleet.execute.mpi.MPIExecutor`)."""
    if name != "dask" and dask_address:
        raise ValueError("--dask-address needs --evaluator dask")
    if name == "serial":
        if workers not in (None, 1):
            raise ValueError(f"the serial evaluator runs one evaluation at a time; drop --workers {workers} "
                             f"or use --evaluator process")
        return SerialExecutor()
    if name == "thread":
        return ThreadExecutor(workers)
    if name == "process":
        return ProcessExecutor(workers)
    if name == "dask":
        from hyperfleet.execute.dask import DaskExecutor

        return DaskExecutor(workers, address=dask_address)
    if name == "mpi":
        if workers is not None:
            raise ValueError("the mpi evaluator takes its workers from mpiexec -n N; drop --workers")
        from hyperfleet.execute.mpi import MPIExecutor

        return MPIExecutor.start()
    raise ValueError(f"unknown evaluator {name!r}; choose one of {', '.join(EXECUTORS)}")
