"""The MPI executor: ``mpiexec -n N hyperfleet search --evaluator mpi ...``; rank 0 drives."""

from __future__ import annotations

import queue
import threading
import time
from typing import Any, Optional

from hyperfleet.execute.futures import FuturesExecutor
from hyperfleet.execute.task import EvalOutcome, EvalTask

REPORT_TAG, DECISION_TAG = 7301, 7302
_POLL_S = 0.002
#: (comm, root) for live reports, set on every rank by :meth:`MPIExecutor.start`
_channel: list = []


def run_task_on_mpi_rank(task: EvalTask) -> EvalOutcome:
    """Entry point on a worker rank: live reports go to the root as MPI messages, the decision
    comes back as one (on a communicator of their own, apart from mpi4py.futures' traffic)."""
    from hyperfleet.execute.worker import run_task_in_worker_process

    ask = None
    if task.live_reports and _channel:
        comm, root = _channel[0]

        def ask(eval_id: str, step: int, value: float, when: float) -> bool:
            comm.send((eval_id, step, value, when), dest=root, tag=REPORT_TAG)
            return bool(comm.recv(source=root, tag=DECISION_TAG))
    return run_task_in_worker_process(task, ask=ask)


class MPIExecutor(FuturesExecutor):
    """Runs evaluations on the other MPI ranks through ``mpi4py.futures.MPICommExecutor``.

    Create it with :meth:`start`, on every rank: rank ``root`` gets the executor, the other ranks
    serve evaluations inside :meth:`start` and get ``None`` once the driver has shut down.
    A crash in an MPI rank would end the whole MPI job, so the driver runs each evaluation in a
    child process of its rank (isolation) unless told otherwise.
    """

    def __init__(self, context: Any, pool: Any, size: int, comm: Any = None) -> None:
        super().__init__()
        self._context = context
        self._pool = pool
        self.num_workers = max(1, size - 1)
        self._comm = comm
        self._replies: queue.SimpleQueue = queue.SimpleQueue()
        self._poller: Optional[threading.Thread] = None
        self._stop_polling = threading.Event()
        self._closing = False

    def set_report_handler(self, handler) -> None:
        """Receive the ranks' live reports in a thread that polls for them (Iprobe; it also sends
        the decisions, so that one thread does this MPI traffic)."""
        super().set_report_handler(handler)
        if handler is not None and self._poller is None and self._comm is not None:
            self._poller = threading.Thread(target=self._poll, name="hyperfleet-mpi-reports", daemon=True)
            self._poller.start()

    def _poll(self) -> None:
        from mpi4py import MPI

        comm, status = self._comm, MPI.Status()
        while not self._stop_polling.is_set():
            busy = False
            while True:
                try:
                    dest, go = self._replies.get_nowait()
                except queue.Empty:
                    break
                comm.send(go, dest=dest, tag=DECISION_TAG)
                busy = True
            if comm.Iprobe(source=MPI.ANY_SOURCE, tag=REPORT_TAG, status=status):
                source = status.Get_source()
                eval_id, step, value, when = comm.recv(source=source, tag=REPORT_TAG)
                if self._closing:  # shutting down: nobody decides any more; the rank must not wait
                    comm.send(False, dest=source, tag=DECISION_TAG)
                    continue
                self._post_report(eval_id, step, value, when,
                                  lambda go, dest=source: self._replies.put((dest, bool(go))))
                busy = True
            if not busy:
                time.sleep(_POLL_S)

    @classmethod
    def start(cls, comm: Any = None, root: int = 0) -> Optional["MPIExecutor"]:
        try:
            from mpi4py import MPI
            from mpi4py.futures import MPICommExecutor
        except ImportError:
            raise ImportError("the mpi evaluator needs mpi4py and an MPI library: "
                              "pip install 'hyperfleet[mpi]' (and e.g. Open MPI)") from None
        comm = comm or MPI.COMM_WORLD
        reports = comm.Dup()  # live reports and decisions, apart from mpi4py.futures' messages
        _channel[:] = [(reports, root)]
        context = MPICommExecutor(comm, root=root)
        pool = context.__enter__()
        if pool is None:  # a worker rank: it served evaluations until the driver shut down
            context.__exit__(None, None, None)
            return None
        return cls(context, pool, comm.Get_size(), reports)

    def _submit(self, task: EvalTask) -> Any:
        return self._pool.submit(run_task_on_mpi_rank, task)

    def _close(self) -> None:
        self._closing = True  # the poller answers reports that come during the shutdown itself
        if self._context is not None:
            self._context.__exit__(None, None, None)
            self._context = None
        if self._poller is not None:
            self._stop_polling.set()
            self._poller.join(timeout=5)
            self._poller = None
