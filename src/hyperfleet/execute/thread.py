"""The thread executor: evaluations in threads of the driver's process."""

from __future__ import annotations

import concurrent.futures as cf
import os
import queue
from typing import Any, Optional

from hyperfleet.execute.futures import FuturesExecutor
from hyperfleet.execute.isolation import kill_live_children
from hyperfleet.execute.task import EvalTask
from hyperfleet.execute.worker import run_task_in_thread


class ThreadExecutor(FuturesExecutor):
    """Runs evaluations in ``num_workers`` threads.

    Cheapest to start and to talk to; suits run functions that release the GIL (most
    training libraries do) or wait on something else. Each thread's ``print`` output goes to
    its evaluation's folder. With a time limit or isolation, each evaluation runs in a child
    process started by its thread, and can be killed.
    """

    def __init__(self, num_workers: Optional[int] = None) -> None:
        super().__init__()
        self.num_workers = int(num_workers or os.cpu_count() or 1)
        if self.num_workers < 1:
            raise ValueError(f"num_workers must be >= 1, got {num_workers}")
        self._pool = cf.ThreadPoolExecutor(self.num_workers, thread_name_prefix="hyperfleet-eval")
        self._closed = False

    def _submit(self, task: EvalTask) -> Any:
        return self._pool.submit(run_task_in_thread, task, self._ask)

    def _ask(self, eval_id: str, step: int, value: float, when: float) -> bool:
        """A live report from an evaluation thread: wait for the driver's thread to answer it."""
        answer: queue.SimpleQueue = queue.SimpleQueue()
        self._post_report(eval_id, step, value, when, answer.put)
        while not self._closed:
            try:
                return answer.get(timeout=1.0)
            except queue.Empty:
                continue
        return False

    def _close(self) -> None:
        self._closed = True
        kill_live_children()
        # Threads cannot be killed: one stuck in a run function without a time limit is left
        # behind (use --eval-timeout or isolation to make evaluations killable).
        self._pool.shutdown(wait=False, cancel_futures=True)
