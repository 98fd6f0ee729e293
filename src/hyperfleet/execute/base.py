"""The executor interface: where evaluations run. Executors know nothing of searches."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Callable, Optional

from hyperfleet.execute.task import EvalOutcome, EvalTask

#: ``handler(eval_id, step, value, time) -> continue?``, called in the driver's thread
ReportHandler = Callable[[str, int, float, float], bool]

logger = logging.getLogger("hyperfleet")


class Executor(ABC):
    """Runs evaluations on workers and reports them as they finish.

    The driver keeps at most :attr:`num_workers` evaluations submitted at a time.

    Intermediate values (``hyperfleet.report`` in a run function) of a task submitted with
    ``live_reports`` travel through the executor's own channel (a pipe, Dask events, MPI
    messages, a direct call) to the handler given to :meth:`set_report_handler`, which the
    executor calls from the driver's thread, inside :meth:`wait_any` (or :meth:`submit`); its
    answer goes back to the waiting run function. Without ``live_reports`` the values come back
    buffered in ``EvalOutcome.reports``.
    """

    #: how many evaluations can run at once
    num_workers: int = 1

    #: evaluations the engine should hold queued beyond ``num_workers``, so that a worker that
    #: finishes starts the next one without waiting for a round trip through the driver (engines
    #: with a scheduler in between, like Dask); 0 for engines the driver feeds directly
    queue_depth: int = 0

    @abstractmethod
    def submit(self, task: EvalTask) -> None:
        """Start (or queue) one evaluation."""

    @abstractmethod
    def wait_any(self, timeout: Optional[float] = None) -> list[EvalOutcome]:
        """Block until at least one evaluation finishes (or ``timeout`` seconds pass).

        Returns every evaluation that has finished since the last call (possibly none on timeout).
        """

    _report_handler: Optional[ReportHandler] = None

    def set_report_handler(self, handler: Optional[ReportHandler]) -> None:
        """Send live reports to ``handler`` (None: every report is told to continue)."""
        self._report_handler = handler

    def _decide(self, eval_id: str, step: int, value: float, when: float) -> bool:
        """The handler's answer to one report; a handler that raises is logged and means go on
        (the run function waiting for the answer must get one)."""
        if self._report_handler is None:
            return True
        try:
            return bool(self._report_handler(eval_id, step, value, when))
        except Exception:  # noqa: BLE001
            logger.exception("the report handler failed on evaluation %s step %s", eval_id, step)
            return True

    @abstractmethod
    def cancel(self, eval_id: str) -> bool:
        """Stop an evaluation that has not finished; True if it will not report a result."""

    @property
    @abstractmethod
    def in_flight(self) -> int:
        """How many submitted evaluations have not been reported yet."""

    def use_folder(self, folder: str) -> None:
        """The search's folder, given before the driver starts, for files the executor keeps
        (a Dask cluster's TLS credentials). Default: nothing to keep."""

    def shutdown(self) -> None:
        """Stop everything still running and release the workers."""

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
