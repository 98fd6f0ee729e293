"""The process executor: a pool of worker processes on this machine."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
from concurrent.futures.process import BrokenProcessPool
from typing import Optional

from hyperfleet.execute.base import Executor
from hyperfleet.execute.task import EvalOutcome, EvalTask
from hyperfleet.execute.worker import evaluate_in_worker_process

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                     "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


class ProcessExecutor(Executor):
    """Runs evaluations in ``num_workers`` long-lived worker processes.

    Each worker imports the run function once and reuses it. Worker processes start with
    ``OMP_NUM_THREADS`` and the other BLAS thread variables set to ``threads_per_worker``
    (unless already set) so that concurrent trainings do not fight over cores.

    Args:
        num_workers: processes in the pool (default: the number of CPUs).
        threads_per_worker: value of the thread variables in the workers.
    """

    def __init__(self, num_workers: Optional[int] = None, threads_per_worker: int = 1) -> None:
        self.num_workers = int(num_workers or os.cpu_count() or 1)
        if self.num_workers < 1:
            raise ValueError(f"num_workers must be >= 1, got {num_workers}")
        for var in _THREAD_VARIABLES:
            os.environ.setdefault(var, str(threads_per_worker))
        self._context = multiprocessing.get_context("spawn")
        self._pool = self._new_pool()
        self._futures: dict[cf.Future, EvalTask] = {}

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(max_workers=self.num_workers, mp_context=self._context)

    def submit(self, task: EvalTask) -> None:
        try:
            future = self._pool.submit(evaluate_in_worker_process, task)
        except BrokenProcessPool:
            self._pool = self._new_pool()
            future = self._pool.submit(evaluate_in_worker_process, task)
        self._futures[future] = task

    def wait_any(self, timeout: Optional[float] = None) -> list[EvalOutcome]:
        if not self._futures:
            return []
        done, _ = cf.wait(list(self._futures), timeout=timeout, return_when=cf.FIRST_COMPLETED)
        outcomes = []
        broken = False
        for future in done:
            task = self._futures.pop(future)
            try:
                outcomes.append(future.result())
            except cf.CancelledError:
                continue
            except BrokenProcessPool as err:
                broken = True
                outcomes.append(EvalOutcome(task.eval_id, "FAILED",
                                            error=f"the worker process died abruptly ({err})"))
            except Exception as err:  # noqa: BLE001 - e.g. a config that cannot be pickled
                outcomes.append(EvalOutcome(task.eval_id, "FAILED", error=f"{type(err).__name__}: {err}"))
        if broken:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
        return outcomes

    def cancel(self, eval_id: str) -> bool:
        for future, task in list(self._futures.items()):
            if task.eval_id == eval_id and future.cancel():
                del self._futures[future]
                return True
        return False

    @property
    def in_flight(self) -> int:
        return len(self._futures)

    def shutdown(self) -> None:
        processes = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=5)
        self._futures.clear()
