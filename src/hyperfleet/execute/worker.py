"""Running one evaluation: load the run function, capture its output, judge its return value."""

from __future__ import annotations

import contextlib
import json
import math
import numbers
import os
import socket
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

from hyperfleet.execute.task import EvalOutcome, EvalTask
from hyperfleet.files import open_output

_RUN_CACHE: dict[tuple[str, str], Callable] = {}
_HOST = socket.gethostname()


def load_run_function(path: str, attr: str) -> Callable:
    """The run function, imported once per worker process."""
    key = (path, attr)
    if key not in _RUN_CACHE:
        from hyperfleet.user_code import CodeRef, load_attr

        _RUN_CACHE[key] = load_attr(CodeRef(path, attr), "run function")
    return _RUN_CACHE[key]


def judge_result(value: Any) -> tuple[Optional[float], dict, Optional[str]]:
    """Turn what ``run`` returned into (objective, metadata, error)."""
    metadata: dict = {}
    if isinstance(value, dict):
        if "objective" not in value:
            return None, {}, (f"run returned a dict without an 'objective' key (keys: {sorted(value)}); "
                              f"return a number or a dict with 'objective'")
        metadata = {k: _jsonable(v) for k, v in value.items() if k != "objective"}
        value = value["objective"]
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None, metadata, (f"run returned {type(value).__name__} {value!r:.80}; "
                                f"return a number (the objective to maximize)")
    objective = float(value)
    if not math.isfinite(objective):
        return None, metadata, f"run returned a non-finite objective ({objective})"
    return objective, metadata, None


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        if hasattr(value, "item"):
            with contextlib.suppress(Exception):
                return value.item()
        return repr(value)


@contextlib.contextmanager
def no_capture(folder: Optional[str]) -> Iterator[None]:
    """Leave output where it goes (an isolated child's streams already point at the folder)."""
    yield


class _ThreadRoutedStream:
    """A ``sys.stdout``/``sys.stderr`` stand-in that sends each thread's writes to its own file."""

    def __init__(self, original, name: str) -> None:
        self.original = original
        self.name = name
        self.local = threading.local()

    def _target(self):
        return getattr(self.local, "file", None) or self.original

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()

    def __getattr__(self, item):
        return getattr(self._target(), item)


_routing_lock = threading.Lock()


def _routed(name: str) -> _ThreadRoutedStream:
    with _routing_lock:
        stream = getattr(sys, name)
        if not isinstance(stream, _ThreadRoutedStream):
            stream = _ThreadRoutedStream(stream, name)
            setattr(sys, name, stream)
        return stream


@contextlib.contextmanager
def thread_level_capture(folder: Optional[str]) -> Iterator[None]:
    """Send this thread's ``print`` output to files in ``folder``; other threads are unaffected."""
    if folder is None:
        yield
        return
    out_stream, err_stream = _routed("stdout"), _routed("stderr")
    with _output(folder, "stdout.txt") as out, _output(folder, "stderr.txt") as err:
        out_stream.local.file, err_stream.local.file = out, err
        try:
            yield
        finally:
            out_stream.local.file = err_stream.local.file = None


@contextlib.contextmanager
def python_level_capture(folder: Optional[str]) -> Iterator[None]:
    """Send ``sys.stdout``/``sys.stderr`` to files in ``folder`` (for in-process evaluations)."""
    if folder is None:
        yield
        return
    with _output(folder, "stdout.txt") as out, _output(folder, "stderr.txt") as err:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            yield


@contextlib.contextmanager
def fd_level_capture(folder: Optional[str]) -> Iterator[None]:
    """Send file descriptors 1 and 2 to files in ``folder`` (catches C-level output too).

    For worker processes only: it changes what the whole process writes.
    """
    if folder is None:
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    out = open_output(Path(folder) / "stdout.txt")
    err = open_output(Path(folder) / "stderr.txt")
    try:
        os.dup2(out, 1)
        os.dup2(err, 2)
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, out, err):
            os.close(fd)


def evaluate(task: EvalTask, capture: Callable = python_level_capture, worker: Optional[str] = None
             ) -> EvalOutcome:
    """Run one evaluation and report how it ended; never raises for the user's errors."""
    worker = worker or f"pid-{os.getpid()}"
    start = time.time()
    with capture(task.folder):
        try:
            run = load_run_function(task.run_path, task.run_attr)
            value = run(dict(task.config))
            objective, metadata, error = judge_result(value)
        except BaseException as exc:  # noqa: BLE001 - a user's error of any kind fails the evaluation only
            if isinstance(exc, KeyboardInterrupt):
                raise
            tb = traceback.format_exc()
            print(tb, file=sys.stderr)
            objective, metadata = None, {}
            error = f"{type(exc).__name__}: {exc}\n{_tail(tb)}"
    end = time.time()
    return EvalOutcome(eval_id=task.eval_id, state="DONE" if error is None else "FAILED",
                       objective=objective, metadata=metadata, error=error,
                       start_time=start, end_time=end, worker=worker, host=_HOST)


def run_task(task: EvalTask, capture: Callable = python_level_capture, worker: Optional[str] = None
             ) -> EvalOutcome:
    """Run a task where it stands, or in a child process when it needs one (timeout, isolation,
    its own environment)."""
    if task.needs_child_process:
        from hyperfleet.execute.isolation import evaluate_isolated

        return evaluate_isolated(task, worker=worker)
    return evaluate(task, capture=capture, worker=worker)


def run_task_in_thread(task: EvalTask) -> EvalOutcome:
    """Entry point for thread pools (output routed per thread)."""
    return run_task(task, capture=thread_level_capture, worker=f"thread-{threading.get_ident() % 100000}")


def run_task_in_worker_process(task: EvalTask) -> EvalOutcome:
    """Entry point for a worker process that runs one evaluation at a time (Dask, MPI ranks)."""
    return run_task(task, capture=fd_level_capture)


def _output(folder: str, name: str):
    """An evaluation's output file, opened for appending, with its mode (``hyperfleet.files``)."""
    return os.fdopen(open_output(Path(folder) / name), "a")


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])
