"""The MPI executor: ``mpiexec -n N hyperfleet search --evaluator mpi ...``; rank 0 drives."""

from __future__ import annotations

from typing import Any, Optional

from hyperfleet.execute.futures import FuturesExecutor
from hyperfleet.execute.task import EvalTask


class MPIExecutor(FuturesExecutor):
    """Runs evaluations on the other MPI ranks through ``mpi4py.futures.MPICommExecutor``.

    Create it with :meth:`start`, on every rank: rank ``root`` gets the executor, the other ranks
    serve evaluations inside :meth:`start` and get ``None`` once the driver has shut down.
    A crash in an MPI rank would end the whole MPI job, so the driver runs each evaluation in a
    child process of its rank (isolation) unless told otherwise.
    """

    def __init__(self, context: Any, pool: Any, size: int) -> None:
        super().__init__()
        self._context = context
        self._pool = pool
        self.num_workers = max(1, size - 1)

    @classmethod
    def start(cls, comm: Any = None, root: int = 0) -> Optional["MPIExecutor"]:
        try:
            from mpi4py import MPI
            from mpi4py.futures import MPICommExecutor
        except ImportError:
            raise ImportError("the mpi evaluator needs mpi4py and an MPI library: "
                              "pip install 'hyperfleet[mpi]' (and e.g. Open MPI)") from None
        comm = comm or MPI.COMM_WORLD
        context = MPICommExecutor(comm, root=root)
        pool = context.__enter__()
        if pool is None:  # a worker rank: it served evaluations until the driver shut down
            context.__exit__(None, None, None)
            return None
        return cls(context, pool, comm.Get_size())

    def _submit(self, task: EvalTask) -> Any:
        from hyperfleet.execute.worker import run_task_in_worker_process

        return self._pool.submit(run_task_in_worker_process, task)

    def _close(self) -> None:
        if self._context is not None:
            self._context.__exit__(None, None, None)
            self._context = None
