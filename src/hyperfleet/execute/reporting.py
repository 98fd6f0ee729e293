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
import json
import math
import numbers
import threading
import time
from typing import Callable, Optional, Union

#: a reported value: a number, or (several objectives) a list of numbers or a dict
#: ``{"objectives": [...] or {name: number}, "constraints": ...}``
ReportValue = Union[float, list, dict]
#: ``ask(eval_id, step, value, time) -> continue?``: how a live reporter reaches the driver
Ask = Callable[[str, int, ReportValue, float], bool]

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


def check_report(value, step, last_step: Optional[int]) -> tuple[ReportValue, int]:
    """The value (a float, or for several objectives a plain list / dict of finite numbers, see
    :func:`report`) and the step as an int, or ``ValueError`` saying what is wrong."""
    if step is None:
        step = (last_step or 0) + 1
    elif isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 1:
        raise ValueError(f"hyperfleet.report: step must be an integer >= 1, got {step!r}")
    step = int(step)
    if last_step is not None and step <= last_step:
        raise ValueError(f"hyperfleet.report: step {step} does not come after step {last_step}, the "
                         f"previous report; steps must increase")
    if isinstance(value, (tuple, list, dict)) or (hasattr(value, "ndim") and getattr(value, "ndim", 0) >= 1):
        return _check_vector(value, step), step
    if hasattr(value, "item") and not isinstance(value, numbers.Real):
        with contextlib.suppress(Exception):
            value = value.item()  # a 0-d array or tensor
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"hyperfleet.report: the value must be a number, got {type(value).__name__} "
                         f"{value!r:.60}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"hyperfleet.report: the value must be finite, got {value} (at step {step})")
    return value, step


def _check_vector(value, step: int):
    """Several objectives (and constraints) in the forms a run function may return: finite
    numbers, known keys; the count and names are checked by the driver against the problem."""
    from hyperfleet.problem.objectives import OutcomeError, parse_outcome

    if hasattr(value, "tolist") and not isinstance(value, (tuple, list, dict)):
        value = value.tolist()
    try:
        parse_outcome(value, (), ())
    except OutcomeError as err:
        raise ValueError(f"hyperfleet.report at step {step}: {err}") from None
    if isinstance(value, dict):
        objectives = value.get("objectives", value.get("objective"))
        plain = {"objectives": _plain(objectives)}
        if value.get("constraints") is not None:
            plain["constraints"] = _plain(value["constraints"])
        return plain
    return _plain(value)


def _plain(value):
    if isinstance(value, dict):
        return {str(k): float(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or hasattr(value, "tolist"):
        return [float(v) for v in (value.tolist() if hasattr(value, "tolist") else value)]
    return [float(value)]


def encode_value(value: ReportValue) -> str:
    """A report's value as one line of text (the pipe of an isolated child): a float's repr
    round-trips exactly, and so does JSON's."""
    return repr(value) if isinstance(value, float) else json.dumps(value, separators=(",", ":"))


def decode_value(text: str) -> ReportValue:
    """The inverse of :func:`encode_value`."""
    decoded = json.loads(text)
    return float(decoded) if isinstance(decoded, (int, float)) else decoded


def as_value(value) -> ReportValue:
    """A value that came through an executor's channel: a float, or a vector kept as it came."""
    return value if isinstance(value, (list, dict)) else float(value)


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
    step + 1, the first being 1. With several objectives (and constraints), ``value`` takes the
    forms a run function may return: a tuple/list of numbers, one per objective, or a dict
    ``{"objectives": [...] or {name: value}, "constraints": [...] or {name: value}}``; a
    multi-objective stopper (``moasha``) ranks them. Outside a search (``run`` called by hand) this does nothing and
    returns True.

    Raises:
        ValueError: the value is not a finite number, or the step does not increase (inside a
            search the evaluation then fails with this message; its earlier reports are kept).
    """
    reporter = current()
    if reporter is None:
        return True
    return reporter.report(value, step)
