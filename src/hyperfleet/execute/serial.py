"""The serial executor: one evaluation at a time, in the driver's own process."""

from __future__ import annotations

from collections import deque
from typing import Optional

from hyperfleet.execute.base import Executor
from hyperfleet.execute.task import EvalOutcome, EvalTask
from hyperfleet.execute.worker import DRIVER_PROCESS, run_task


class SerialExecutor(Executor):
    """Runs each evaluation in the calling process when the driver waits for it.

    Simple and debuggable (a breakpoint in ``run`` works); output goes to the evaluation's
    folder through ``sys.stdout``/``sys.stderr`` redirection. Live reports are a direct call of
    the report handler. Processes an evaluation started are killed when it ends, and the working directory and environment it changed are restored.
    """

    num_workers = 1

    def __init__(self) -> None:
        self._queue: deque[EvalTask] = deque()

    def submit(self, task: EvalTask) -> None:
        self._queue.append(task)

    def wait_any(self, timeout: Optional[float] = None) -> list[EvalOutcome]:
        if not self._queue:
            return []
        return [run_task(self._queue.popleft(), worker="serial-0", ask=self._decide, scope=DRIVER_PROCESS)]

    def cancel(self, eval_id: str) -> bool:
        before = len(self._queue)
        self._queue = deque(t for t in self._queue if t.eval_id != eval_id)
        return len(self._queue) < before

    @property
    def in_flight(self) -> int:
        return len(self._queue)

    def shutdown(self) -> None:
        self._queue.clear()
