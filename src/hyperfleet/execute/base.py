"""The executor interface: where evaluations run. Executors know nothing of searches."""

from __future__ import annotations

import collections
import logging
import statistics
from abc import ABC, abstractmethod
from typing import Callable, Optional

from hyperfleet.execute.task import EvalOutcome, EvalTask

#: ``handler(eval_id, step, value, time) -> continue?``, called in the driver's thread
ReportHandler = Callable[[str, int, float, float], bool]

logger = logging.getLogger("hyperfleet")


#: evaluations whose median run time over the last :data:`RECENT` is below this many seconds are
#: "short": the driver's round trip would be a large share of each, so executors queue ahead
SHORT_EVAL_S = 0.05
RECENT = 16


class RecentRunTimes:
    """The run times of the last :data:`RECENT` evaluations (appended from any thread)."""

    def __init__(self) -> None:
        self._times: collections.deque = collections.deque(maxlen=RECENT)

    def add(self, outcome: EvalOutcome) -> None:
        if outcome.start_time is not None and outcome.end_time is not None:
            self._times.append(outcome.end_time - outcome.start_time)

    @property
    def short(self) -> bool:
        """Whether :data:`RECENT` evaluations have run, with a median under :data:`SHORT_EVAL_S`."""
        recent = list(self._times)
        return len(recent) == RECENT and statistics.median(recent) < SHORT_EVAL_S


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

    #: True where :attr:`queue_depth` only batches short evaluations to save the driver's time
    #: (serial, thread): the driver then queues for a search that does not learn from results
    #: only (:attr:`Search.learns_from_results`), so that a model-based search proposes each
    #: configuration knowing every result, however short the evaluations
    queue_only_for_speed: bool = False

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

    def release_idle(self) -> int:
        """The budget has no more evaluations to start (the drain): release the workers that have
        nothing left to run, so that they stop counting against the allocation (a Dask worker job
        ends). Called by the driver at least once a second in the drain when
        :attr:`releases_idle`; returns how many were released. Default: none (the workers are
        held until the search ends)."""
        return 0

    @property
    def releases_idle(self) -> bool:
        """Whether :meth:`release_idle` may release workers (then the driver calls it often)."""
        return False

    def use_folder(self, folder: str) -> None:
        """The search's folder, given before the driver starts, for files the executor keeps
        (a Dask cluster's TLS credentials). Default: nothing to keep."""

    def shutdown(self) -> None:
        """Stop everything still running and release the workers."""

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
