"""Executors on top of any futures engine (threads, Dask, MPI): one base, a few lines each."""

from __future__ import annotations

import queue
import time
from abc import abstractmethod
from typing import Any, Callable, Optional

from hyperfleet.execute.base import Executor
from hyperfleet.execute.isolation import request_cancel
from hyperfleet.execute.task import EvalOutcome, EvalTask

_REPORT = object()  # marks a live report among the finished futures


class FuturesExecutor(Executor):
    """Submits tasks to an engine that returns futures; finished futures land in a queue.

    Subclasses implement :meth:`_submit` (returning a future with ``add_done_callback``,
    ``cancel`` and ``result``) and may override :meth:`_close`. Live reports from the workers
    are handed over with :meth:`_post_report` and answered in :meth:`wait_any`.
    """

    def __init__(self) -> None:
        self._done: queue.SimpleQueue = queue.SimpleQueue()
        self._futures: dict[str, Any] = {}
        self._tasks: dict[str, EvalTask] = {}

    @abstractmethod
    def _submit(self, task: EvalTask) -> Any:
        """Start the task on the engine; return its future."""

    def _close(self) -> None:
        """Release the engine."""

    def submit(self, task: EvalTask) -> None:
        future = self._submit(task)
        self._futures[task.eval_id] = future
        self._tasks[task.eval_id] = task
        # The outcome is fetched in the engine's callback thread, so that fetching it (a round trip
        # to a Dask worker) overlaps with the driver's own work instead of stalling it.
        future.add_done_callback(lambda f, eval_id=task.eval_id: self._done.put((eval_id, self._outcome(eval_id, f))))

    def wait_any(self, timeout: Optional[float] = None) -> list[EvalOutcome]:
        if not self._futures:
            return []
        end = None if timeout is None else time.time() + timeout
        while True:
            items = []
            try:
                items.append(self._done.get(timeout=None if end is None else max(0.0, end - time.time())))
            except queue.Empty:
                return []
            self._gather()
            while True:
                try:
                    items.append(self._done.get_nowait())
                except queue.Empty:
                    break
            outcomes = []
            for eval_id, outcome in items:
                if eval_id is _REPORT:  # a live report: answer it, the run function waits
                    report_id, step, value, when, reply = outcome
                    reply(self._decide(report_id, step, value, when) if report_id in self._futures else False)
                    continue
                if self._futures.pop(eval_id, None) is None:  # cancelled meanwhile
                    continue
                self._tasks.pop(eval_id, None)
                if outcome is not None:
                    outcomes.append(outcome)
            if outcomes or not self._futures or (end is not None and time.time() >= end):
                return outcomes

    def _gather(self) -> None:
        """Called once the first result of a wait has come, before taking the others that are
        there: an engine may wait a little for more to come, so that the driver records them in
        one cycle. Waits for nothing here."""

    def _post_report(self, eval_id: str, step: int, value: float, when: float, reply: Callable) -> None:
        """Hand a live report to the driver's thread (from any thread); ``reply(decision)`` answers it."""
        self._done.put((_REPORT, (eval_id, step, value, when, reply)))

    def _outcome(self, eval_id: str, future: Any) -> Optional[EvalOutcome]:
        if future.cancelled():
            return None
        try:
            return future.result()
        except BaseException as err:  # noqa: BLE001 - the engine lost the task (worker died, ...)
            return EvalOutcome(eval_id, "FAILED", error=self._describe_loss(err), end_time=time.time())

    def _describe_loss(self, err: BaseException) -> str:
        return f"the engine lost the evaluation: {type(err).__name__}: {err}"

    def cancel(self, eval_id: str) -> bool:
        future = self._futures.pop(eval_id, None)
        task = self._tasks.pop(eval_id, None)
        if future is None:
            return False
        if not future.cancel() and task is not None and task.needs_child_process:
            request_cancel(task.folder)  # stops the evaluation's child process wherever it runs
        return True

    @property
    def in_flight(self) -> int:
        return len(self._futures)

    def shutdown(self) -> None:
        for eval_id in list(self._futures):
            self.cancel(eval_id)
        self._answer_pending_reports()
        self._close()

    def _answer_pending_reports(self) -> None:
        """Tell run functions still waiting for a decision to stop (nobody decides any more)."""
        kept = []
        while True:
            try:
                item = self._done.get_nowait()
            except queue.Empty:
                break
            if item[0] is _REPORT:
                item[1][-1](False)
            else:
                kept.append(item)
        for item in kept:
            self._done.put(item)
