"""Intermediate values from a running evaluation: the worker side of :func:`hyperfleet.report`.

A run function calls ``hyperfleet.report(value, step=k)`` once per step (epoch). The evaluation
in progress on this thread (or the only one in this process) has a :class:`Reporter`:

- without a stopper (``EvalTask.live_reports`` False) it only buffers the values, which travel
  back with the outcome (``EvalOutcome.reports``): no round trip, no cost worth measuring;
- with a stopper it sends each value through the executor's own channel (a pipe, a Dask event,
  an MPI message, a direct call) and returns the driver's decision.

Workers never touch the store: the driver records what arrives.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import threading
import time
from typing import Callable, Optional

#: ``ask(eval_id, step, value, time) -> continue?``: how a live reporter reaches the driver
Ask = Callable[[str, int, float, float], bool]

_local = threading.local()
_active: dict[int, "Reporter"] = {}


class Reporter:
    """The reports of one evaluation; buffers them, or sends each through ``ask`` when given.

    Attributes:
        reports: ``(step, value, time)`` of the values not yet sent to the driver.
        last_step, last_value: the latest report.
        stopped: the driver said stop; further reports return False at once and are not recorded.
    """

    def __init__(self, eval_id: str, ask: Optional[Ask] = None) -> None:
        self.eval_id = eval_id
        self.ask = ask
        self.reports: list[tuple[int, float, float]] = []
        self.last_step: Optional[int] = None
        self.last_value: Optional[float] = None
        self.stopped = False

    def report(self, value, step=None) -> bool:
        value, step = check_report(value, step, self.last_step)
        if self.stopped:
            return False
        now = time.time()
        self.last_step, self.last_value = step, value
        if self.ask is None:
            self.reports.append((step, value, now))
            return True
        go = bool(self.ask(self.eval_id, step, value, now))
        self.stopped = not go
        return go


def check_report(value, step, last_step: Optional[int]) -> tuple[float, int]:
    """The value as a float and the step as an int, or ``ValueError`` saying what is wrong."""
    if hasattr(value, "item") and not isinstance(value, numbers.Real):
        with contextlib.suppress(Exception):
            value = value.item()  # a 0-d array or tensor
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"hyperfleet.report: the value must be a number, got {type(value).__name__} "
                         f"{value!r:.60}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"hyperfleet.report: the value must be finite, got {value} "
                         f"(at step {step if step is not None else (last_step or 0) + 1})")
    if step is None:
        step = (last_step or 0) + 1
    elif isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 1:
        raise ValueError(f"hyperfleet.report: step must be an integer >= 1, got {step!r}")
    step = int(step)
    if last_step is not None and step <= last_step:
        raise ValueError(f"hyperfleet.report: step {step} does not come after step {last_step}, the "
                         f"previous report; steps must increase")
    return value, step


def current() -> Optional[Reporter]:
    """The reporter of the evaluation running on this thread, else the only one in this process."""
    reporter = getattr(_local, "reporter", None)
    if reporter is not None:
        return reporter
    if len(_active) == 1:
        with contextlib.suppress(StopIteration, RuntimeError):  # it may end meanwhile
            return next(iter(_active.values()))
    return None


class reporting:  # noqa: N801 - used as a context manager, like contextlib's
    """Make ``reporter`` the current one on this thread while the run function runs (a plain
    class, not a generator: it runs once per evaluation and should cost next to nothing)."""

    __slots__ = ("reporter", "previous")

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter

    def __enter__(self) -> Reporter:
        self.previous = getattr(_local, "reporter", None)
        _local.reporter = self.reporter
        _active[id(self.reporter)] = self.reporter  # dict operations are atomic under the GIL
        return self.reporter

    def __exit__(self, *exc) -> None:
        _local.reporter = self.previous
        _active.pop(id(self.reporter), None)


def report(value, step: Optional[int] = None) -> bool:
    """Report an intermediate value of the running training; False: stop it now.

    ``value`` is on the objective's scale (maximized); ``step`` (epoch) defaults to the previous
    step + 1, the first being 1. Outside a search (``run`` called by hand) this does nothing and
    returns True.

    Raises:
        ValueError: the value is not a finite number, or the step does not increase (inside a
            search the evaluation then fails with this message; its earlier reports are kept).
    """
    reporter = current()
    if reporter is None:
        return True
    return reporter.report(value, step)
