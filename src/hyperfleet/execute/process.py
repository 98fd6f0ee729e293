"""The process executor: long-lived worker processes on this machine, each watched by the driver.

Unlike ``concurrent.futures.ProcessPoolExecutor``, a worker that dies (segfault, ``os._exit``,
killed for memory) fails only the evaluation it was running, with its exit code or signal and
the last lines of its stderr, and is replaced; and an evaluation over its time limit is killed
with its worker, recorded as TIMEOUT, and a fresh worker takes the next task.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Optional

from hyperfleet.execute.base import Executor
from hyperfleet.execute.isolation import crash_message, die_with_parent, kill_group
from hyperfleet.execute.process_tree import kill_tree
from hyperfleet.execute.task import EvalOutcome, EvalTask

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


def pin_threads(threads: int = 1) -> None:
    """Set the BLAS/OpenMP thread variables (unless already set) for processes started later."""
    for var in THREAD_VARIABLES:
        os.environ.setdefault(var, str(threads))


def _worker_main(conn: Connection) -> None:
    """Loop of a worker process: receive a task, run it, send the outcome back (and live reports,
    each answered by the driver's decision, on the same pipe)."""
    os.setsid()  # its own process group, so a kill takes whatever the evaluation started
    die_with_parent()
    from hyperfleet.execute.worker import OWN_PROCESS, fd_level_capture, run_task

    name = f"pid-{os.getpid()}"

    def ask(eval_id: str, step: int, value: float, when: float) -> bool:
        conn.send(("report", eval_id, step, value, when))
        return conn.recv()

    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        conn.send(run_task(task, capture=fd_level_capture, worker=name, ask=ask, scope=OWN_PROCESS))


@contextlib.contextmanager
def _main_file_hidden_unless_real():
    """``spawn`` runs the parent's ``__main__.__file__`` again in each worker; under ``python -``
    it is ``<stdin>``, which no worker can open: hide it while a worker starts."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path is None or os.path.isfile(path):
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: Connection
    task: Optional[EvalTask] = None
    started: float = 0.0

    @property
    def deadline(self) -> Optional[float]:
        if self.task is None or self.task.timeout is None:
            return None
        return self.started + self.task.timeout


class ProcessExecutor(Executor):
    """Runs evaluations in ``num_workers`` worker processes (started with ``spawn``).

    Each worker imports the run function once and reuses it. Workers start with
    ``OMP_NUM_THREADS`` and the other BLAS thread variables set to ``threads_per_worker``
    (unless already set) so that concurrent trainings do not fight over cores.

    Args:
        num_workers: worker processes (default: the number of CPUs).
        threads_per_worker: value of the thread variables in the workers.
    """

    def __init__(self, num_workers: Optional[int] = None, threads_per_worker: int = 1) -> None:
        self.num_workers = int(num_workers or os.cpu_count() or 1)
        if self.num_workers < 1:
            raise ValueError(f"num_workers must be >= 1, got {num_workers}")
        pin_threads(threads_per_worker)
        self._context = multiprocessing.get_context("spawn")
        self._workers = [self._start_worker() for _ in range(self.num_workers)]
        self._queue: deque[EvalTask] = deque()
        self._ready: list[EvalOutcome] = []

    def _start_worker(self) -> _Worker:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_worker_main, args=(child,), daemon=True)
        with _main_file_hidden_unless_real():
            process.start()
        child.close()
        return _Worker(process, parent)

    def _replace(self, worker: _Worker) -> None:
        kill_group(worker.process)
        if worker.task is not None:  # what the evaluation started outside the worker's session
            kill_tree(worker.task.eval_id)
        worker.process.join(timeout=5)
        worker.conn.close()
        self._workers[self._workers.index(worker)] = self._start_worker()

    # ----- the interface -----------------------------------------------------------------------
    def submit(self, task: EvalTask) -> None:
        self._queue.append(task)
        self._dispatch()

    def _dispatch(self) -> None:
        for worker in self._workers:
            if not self._queue:
                return
            if worker.task is None:
                task = self._queue.popleft()
                worker.task, worker.started = task, time.time()
                try:
                    worker.conn.send(task)
                except (BrokenPipeError, OSError):
                    self._on_death(worker)

    def wait_any(self, timeout: Optional[float] = None) -> list[EvalOutcome]:
        end = None if timeout is None else time.time() + timeout
        while not self._ready and self.in_flight:
            busy = [w for w in self._workers if w.task is not None]
            deadlines = [d for d in (w.deadline for w in busy) if d is not None]
            limit = min([*deadlines, *([end] if end is not None else [])], default=None)
            wait_s = None if limit is None else max(0.0, limit - time.time())
            ready = wait([x for w in busy for x in (w.conn, w.process.sentinel)], timeout=wait_s)
            for worker in busy:
                if worker.conn in ready:
                    self._receive(worker)
                elif worker.process.sentinel in ready:
                    self._on_death(worker)
            self._kill_overdue()
            self._dispatch()
            if end is not None and time.time() >= end:
                break
        outcomes, self._ready = self._ready, []
        return outcomes

    def _receive(self, worker: _Worker) -> None:
        try:
            outcome = worker.conn.recv()
        except (EOFError, OSError):
            self._on_death(worker)
            return
        if isinstance(outcome, tuple):  # a live report: answer it, the run function waits
            try:
                worker.conn.send(self._decide(*outcome[1:]))
            except (BrokenPipeError, OSError):
                self._on_death(worker)
            return
        worker.task = None
        self._ready.append(outcome)

    def _on_death(self, worker: _Worker) -> None:
        task = worker.task
        worker.process.join(timeout=5)
        if task is not None:
            stderr = Path(task.folder) / "stderr.txt" if task.folder else None
            self._ready.append(EvalOutcome(task.eval_id, "FAILED",
                                           error=crash_message(worker.process.exitcode, stderr),
                                           start_time=worker.started, end_time=time.time(),
                                           worker=f"pid-{worker.process.pid}"))
        self._replace(worker)

    def _kill_overdue(self) -> None:
        now = time.time()
        for worker in list(self._workers):
            if worker.deadline is not None and now >= worker.deadline:
                task = worker.task
                self._ready.append(EvalOutcome(task.eval_id, "TIMEOUT",
                                               error=f"killed after the time limit of {task.timeout:g} s",
                                               start_time=worker.started, end_time=now,
                                               worker=f"pid-{worker.process.pid}"))
                self._replace(worker)

    def cancel(self, eval_id: str) -> bool:
        for task in list(self._queue):
            if task.eval_id == eval_id:
                self._queue.remove(task)
                return True
        for worker in self._workers:
            if worker.task is not None and worker.task.eval_id == eval_id:
                self._replace(worker)
                return True
        return False

    @property
    def in_flight(self) -> int:
        return len(self._queue) + sum(w.task is not None for w in self._workers) + len(self._ready)

    def shutdown(self) -> None:
        self._queue.clear()
        for worker in self._workers:
            if worker.task is None:
                try:
                    worker.conn.send(None)
                except (BrokenPipeError, OSError):
                    pass
            else:
                kill_group(worker.process)
                kill_tree(worker.task.eval_id)
        for worker in self._workers:
            worker.process.join(timeout=2)
            if worker.process.is_alive():
                kill_group(worker.process)
                worker.process.join(timeout=5)
            worker.conn.close()
        self._workers = []
        self._ready = []

    @property
    def processes(self) -> list:
        """The worker processes (for tests and monitoring)."""
        return [w.process for w in self._workers]
