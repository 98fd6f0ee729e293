"""Running one evaluation: load the run function, capture its output, judge its return value."""

from __future__ import annotations

import contextlib
import hashlib
import math
import numbers
import os
import signal
import socket
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

from hyperfleet.execute.lazy_output import LazyOutput
from hyperfleet.execute.limits import UnstorableValue, cap_output_files, clean_outcome, plain
from hyperfleet.execute.reporting import Ask, Reporter, reporting
from hyperfleet.execute.task import EvalOutcome, EvalTask
from hyperfleet.files import make_folder, open_output

_RUN_CACHE: dict[tuple[str, str], Callable] = {}
_HOST = socket.gethostname()


def load_run_function(path: str, attr: str, function_bytes: Optional[bytes] = None) -> Callable:
    """The run function, imported (or unpickled, when carried by value) once per worker process."""
    key = (path, attr) if function_bytes is None else (path, hashlib.sha1(function_bytes).hexdigest())
    if key not in _RUN_CACHE:
        from hyperfleet.user_code import BY_VALUE, CodeRef, UserCodeError, load_attr

        if function_bytes is not None:
            import pickle

            _RUN_CACHE[key] = pickle.loads(function_bytes)  # cloudpickle's output; needs cloudpickle here
        elif path == BY_VALUE:
            raise UserCodeError(f"the run function {attr} was given as a Python object and is not known "
                                f"in this process (pid {os.getpid()})")
        else:
            _RUN_CACHE[key] = load_attr(CodeRef(path, attr), "run function")
    return _RUN_CACHE[key]


def register_function(ref, func: Callable) -> None:
    """Make ``func`` the run function of ``ref`` in this process (serial and thread evaluators)."""
    key = (ref.path, ref.attr) if ref.function_bytes is None else (
        ref.path, hashlib.sha1(ref.function_bytes).hexdigest())
    _RUN_CACHE[key] = func


def judge_result(value: Any) -> tuple[Optional[float], dict, Optional[str]]:
    """Turn what ``run`` returned into (objective, metadata, error) (several objectives: the
    first one; see :func:`judge_values`)."""
    objective, values, metadata, error = judge_values(value)
    if values is not None and error is None:
        objective = values["objectives"][0] if isinstance(values["objectives"], list) \
            else next(iter(values["objectives"].values()))
    return objective, metadata, error


def judge_values(value: Any) -> tuple[Optional[float], Optional[dict], dict, Optional[str]]:
    """Turn what ``run`` returned into (objective, values, metadata, error): a number goes to
    ``objective``; a tuple/list of numbers, or a dict with ``objectives`` (and maybe
    ``constraints``, ``metadata``) or with ``objective`` and ``constraints``, to ``values``
    (plain lists or name -> number dicts, every number finite)."""
    vector = isinstance(value, (tuple, list)) or (
        isinstance(value, dict) and ("objectives" in value or "constraints" in value))
    if vector:
        return _judge_vector(value)
    objective, metadata, error = _judge_number(value)
    return objective, None, metadata, error


def _judge_vector(value: Any) -> tuple[None, Optional[dict], dict, Optional[str]]:
    from hyperfleet.problem.objectives import OutcomeError, parse_outcome

    try:
        parse_outcome(value, (), ())  # finite numbers, known keys; names and counts: the driver
    except OutcomeError as err:
        return None, None, {}, f"run returned a bad result: {err}"
    if isinstance(value, dict):
        objectives = value.get("objectives", value.get("objective"))
        constraints = value.get("constraints")
        metadata = value.get("metadata") if "objectives" in value else {
            k: v for k, v in value.items() if k not in ("objective", "constraints")}
    else:
        objectives, constraints, metadata = value, None, {}
    try:
        values = plain({"objectives": _listed(objectives), "constraints": _listed(constraints)})
        metadata = plain(metadata or {})
    except UnstorableValue as err:
        return None, None, {}, f"the result cannot be stored: {err}"
    return None, values, metadata, None


def _listed(value: Any) -> Any:
    if value is None or isinstance(value, dict):
        return None if value is None else {str(k): float(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or hasattr(value, "tolist"):
        return [float(v) for v in (value.tolist() if hasattr(value, "tolist") else value)]
    return [float(value)]


def _judge_number(value: Any) -> tuple[Optional[float], dict, Optional[str]]:
    metadata: dict = {}
    if isinstance(value, dict):
        if "objective" not in value:
            return None, {}, (f"run returned a dict without an 'objective' key (keys: {sorted(value)}); "
                              f"return a number or a dict with 'objective'")
        try:
            metadata = plain({k: v for k, v in value.items() if k != "objective"})
        except UnstorableValue as err:
            return None, {}, f"the result cannot be stored: {err}"
        value = value["objective"]
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None, metadata, (f"run returned {type(value).__name__} {value!r:.80}; "
                                f"return a number (the objective to maximize)")
    try:
        objective = float(value)
    except OverflowError:
        return None, metadata, (f"run returned an objective too large for a float "
                                f"({str(value)[:20]}..., {len(str(value))} digits)")
    if not math.isfinite(objective):
        return None, metadata, f"run returned a non-finite objective ({objective})"
    return objective, metadata, None


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
    with LazyOutput(Path(folder) / "stdout.txt") as out, LazyOutput(Path(folder) / "stderr.txt") as err:
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
    with LazyOutput(Path(folder) / "stdout.txt") as out, LazyOutput(Path(folder) / "stderr.txt") as err:
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


#: how an evaluation shares its process (see :func:`evaluation_scope`)
OWN_PROCESS, DRIVER_PROCESS, SHARED_PROCESS = "own", "driver", "shared"


@contextlib.contextmanager
def evaluation_scope(task: EvalTask, scope: str) -> Iterator[None]:
    """Tag what the evaluation starts, and leave the process as the evaluation found it.

    ``own``: the process runs nothing but this evaluation (a process or Dask worker, an MPI rank,
    an isolated child): its processes are tagged with the evaluation's id and, when it ends, they
    are killed (tagged, descendants and session members), and the working directory and the
    environment are restored. ``driver``: the driver's own process, one evaluation at a time
    (serial): the same, except that only tagged processes are killed, and the scan for them is
    skipped when no process id was handed out while the evaluation ran (:func:`last_pid`). ``shared``: threads of one
    process: nothing here (the thread executor tags and kills for all its threads).
    """
    if scope == SHARED_PROCESS:
        yield
        return
    from hyperfleet.execute import process_tree as pt

    me = os.getpid()
    cwd, env, token = os.getcwd(), dict(os.environ), os.environ.get(pt.TOKEN_VAR)
    # Where this process adopts orphans (a subreaper), everything the evaluation started is
    # below it: when no new child is left, nothing was left behind, and the scans of every
    # process are skipped. Children it had before (a Dask worker's helpers) are not the evaluation's.
    fast = scope == OWN_PROCESS and pt.become_subreaper()
    kids = pt.children(me) if fast else None
    before = (kids or set()) if fast else (set(pt.descendants(me)) if scope == OWN_PROCESS else set())
    pid_before = pt.last_pid() if scope == DRIVER_PROCESS else None
    os.environ[pt.TOKEN_VAR] = task.eval_id
    try:
        yield
    finally:
        if scope == OWN_PROCESS:
            new = None if kids is None else (pt.children(me) or set()) - kids
            if new is None or any(not pt.ended(pid) for pid in new):
                if kids is not None:  # keep the subtrees of the children from before
                    before = before | {d for k in kids for d in pt.descendants(k)}
                leader = os.getsid(0) == me
                pt.kill_tree(task.eval_id, root=me, session=me if leader else None, keep=before)
                new = None if kids is None else (pt.children(me) or set()) - kids
            if new:
                pt.reap(new)
        elif pid_before is None or pt.last_pid() != pid_before:  # else nothing was started
            pt.kill_tree(task.eval_id)
        with contextlib.suppress(OSError):
            os.chdir(cwd)
        if token is None:
            os.environ.pop(pt.TOKEN_VAR, None)
        else:
            os.environ[pt.TOKEN_VAR] = token
        if os.environ != env:  # the run function changed the environment
            os.environ.clear()
            os.environ.update(env)


_sigints = [0]  # SIGINTs received while an evaluation ran in the main thread


@contextlib.contextmanager
def _counting_sigints() -> Iterator[None]:
    """In the main thread, count SIGINTs (then handled as before), so that a KeyboardInterrupt
    without one is known to come from ``run`` itself."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame):
        _sigints[0] += 1
        if callable(previous):
            return previous(signum, frame)
        if previous == signal.SIG_DFL:
            raise KeyboardInterrupt
        return None

    try:
        signal.signal(signal.SIGINT, handler)
    except (ValueError, OSError):
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _interrupt_is_real(sigints_before: int) -> bool:
    """Whether a KeyboardInterrupt is a real Ctrl-C: a SIGINT reached this (main) thread during
    the evaluation, in a process of the terminal's session (worker processes and isolated
    children run in sessions of their own). Otherwise ``run`` raised it itself."""
    return (threading.current_thread() is threading.main_thread() and os.getsid(0) != os.getpid()
            and _sigints[0] > sigints_before)


def evaluate(task: EvalTask, capture: Callable = python_level_capture, worker: Optional[str] = None,
             ask: Optional[Ask] = None, scope: str = SHARED_PROCESS) -> EvalOutcome:
    """Run one evaluation and report how it ended; never raises for the user's errors.

    ``ask``: the executor's live channel to the driver for ``hyperfleet.report`` (used when the
    task has ``live_reports``; otherwise reports are buffered into the outcome).

    A KeyboardInterrupt raised by ``run`` itself is that evaluation's failure; a real Ctrl-C
    (a SIGINT while it ran in the driver's main thread: the serial evaluator) interrupts the
    search.
    """
    worker = worker or f"pid-{os.getpid()}"
    reporter = Reporter(task.eval_id, ask if task.live_reports else None)
    start = time.time()
    sigints = _sigints[0]
    with evaluation_scope(task, scope), _counting_sigints(), capture(task.folder), reporting(reporter):
        try:
            run = load_run_function(task.run_path, task.run_attr, task.function_bytes)
            value = run(dict(task.config))
            objective, values, metadata, error = judge_values(value)
            if reporter.stopped:  # told to stop: its objective is the last value it reported
                # (a vector of several objectives: the driver takes it from its last report)
                last = reporter.last_value
                objective, error = (last if isinstance(last, float) else None), None
        except BaseException as exc:  # noqa: BLE001 - a user's error of any kind fails the evaluation only
            if isinstance(exc, KeyboardInterrupt) and _interrupt_is_real(sigints):
                raise
            tb = traceback.format_exc()
            print(tb, file=sys.stderr, flush=True)
            objective, values, metadata = None, None, {}
            error = f"{type(exc).__name__}: {exc}\n{_tail(tb)}"
    end = time.time()
    state = "FAILED" if error is not None else "STOPPED" if reporter.stopped else "DONE"
    return EvalOutcome(eval_id=task.eval_id, state=state, objective=objective, metadata=metadata,
                       error=error, start_time=start, end_time=end, worker=worker, host=_HOST,
                       reports=reporter.reports, last_step=reporter.last_step,
                       values=None if reporter.stopped else values)


def run_task(task: EvalTask, capture: Callable = python_level_capture, worker: Optional[str] = None,
             ask: Optional[Ask] = None, scope: str = SHARED_PROCESS) -> EvalOutcome:
    """Run a task where it stands, or in a child process when it needs one (timeout, isolation,
    its own environment, a memory limit); ``ask``: see :func:`evaluate`."""
    # Made here, by the worker, rather than on the driver's critical path; where output is caught
    # at the Python level (threads, serial, Dask), only when the evaluation first writes some
    # (a folder costs more than a short evaluation on many file systems).
    lazy = capture in (thread_level_capture, python_level_capture) and not task.needs_child_process
    if task.folder and not lazy:
        make_folder(task.folder)
    if task.needs_child_process:
        from hyperfleet.execute.isolation import evaluate_isolated

        outcome = evaluate_isolated(task, worker=worker, ask=ask)
    else:
        outcome = evaluate(task, capture=capture, worker=worker, ask=ask, scope=scope)
    cap_output_files(task.folder)
    return clean_outcome(outcome)


def run_task_in_thread(task: EvalTask, ask: Optional[Ask] = None) -> EvalOutcome:
    """Entry point for thread pools (output routed per thread)."""
    return run_task(task, capture=thread_level_capture, worker=f"thread-{threading.get_ident() % 100000}",
                    ask=ask)


def run_task_in_worker_process(task: EvalTask, ask: Optional[Ask] = None) -> EvalOutcome:
    """Entry point for a worker process that runs one evaluation at a time (MPI ranks)."""
    return run_task(task, capture=fd_level_capture, ask=ask, scope=OWN_PROCESS)


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])
