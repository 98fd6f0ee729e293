"""The executor interface: where evaluations run. Executors know nothing of searches."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Optional

from hyperfleet.execute.task import EvalOutcome, EvalTask


class Executor(ABC):
    """Runs evaluations on workers and reports them as they finish.

    The driver keeps at most :attr:`num_workers` evaluations submitted at a time.
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
