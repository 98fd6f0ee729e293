"""The serial executor: one evaluation at a time, in the driver's own process."""

from __future__ import annotations

from collections import deque
from typing import Optional

from hyperfleet.execute import base
from hyperfleet.execute.base import Executor, RecentRunTimes
from hyperfleet.execute.task import EvalOutcome, EvalTask
from hyperfleet.execute.worker import DRIVER_PROCESS, run_task


class SerialExecutor(Executor):
    """Runs each evaluation in the calling process when the driver waits for it.

    Simple and debuggable (a breakpoint in ``run`` works); output goes to the evaluation's
    folder through ``sys.stdout``/``sys.stderr`` redirection. Live reports are a direct call of
    the report handler. Processes an evaluation started are killed when it ends, and the working directory and environment it changed are restored.

    While evaluations are short (:attr:`queue_depth`), the driver hands over a few at a time and
    one :meth:`wait_any` runs them one after the other, so that the driver records their ends and
    reserves the next ones in one cycle (one store transaction) instead of one per evaluation.
    """

    num_workers = 1

    #: evaluations whose median run time (over the last :data:`RECENT`) is below
    #: :data:`SHORT_EVAL_S` seconds are taken :data:`BATCH` + 1 at a time (see :attr:`queue_depth`)
    SHORT_EVAL_S = base.SHORT_EVAL_S
    RECENT = base.RECENT
    BATCH = 4

    def __init__(self) -> None:
        self._queue: deque[EvalTask] = deque()
        self._run_times = RecentRunTimes()

    queue_only_for_speed = True

    @property
    def queue_depth(self) -> int:
        """:data:`BATCH` while the median run time of the last :data:`RECENT` evaluations is
        under :data:`SHORT_EVAL_S`; 0 otherwise (each configuration proposed knowing every result)."""
        return self.BATCH if self._run_times.short else 0

    def submit(self, task: EvalTask) -> None:
        self._queue.append(task)

    def wait_any(self, timeout: Optional[float] = None) -> list[EvalOutcome]:
        outcomes: list[EvalOutcome] = []
        while self._queue and (not outcomes or self.queue_depth):
            outcome = run_task(self._queue.popleft(), worker="serial-0", ask=self._decide, scope=DRIVER_PROCESS)
            self._run_times.add(outcome)
            outcomes.append(outcome)
            if outcome.state not in ("DONE", "STOPPED"):  # the driver hears of each failure before the next runs
                break                    # (--max-failures stops it exactly where it did)
        return outcomes

    def cancel(self, eval_id: str) -> bool:
        before = len(self._queue)
        self._queue = deque(t for t in self._queue if t.eval_id != eval_id)
        return len(self._queue) < before

    @property
    def in_flight(self) -> int:
        return len(self._queue)

    def shutdown(self) -> None:
        self._queue.clear()
