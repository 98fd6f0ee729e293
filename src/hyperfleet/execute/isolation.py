"""Running one evaluation in a child process of its own: timeouts, crashes, its own environment.

The child runs ``hyperfleet.execute.child``; it reads the task from stdin, writes its
stdout/stderr to the evaluation's folder and the outcome to a result file. The parent waits
with the task's timeout and kills the child's whole process group when it runs over.
"""

from __future__ import annotations

import os
import pickle
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

from hyperfleet.execute.task import EvalOutcome, EvalTask
from hyperfleet.files import create_file, open_output

_HOST = socket.gethostname()
_live_children: dict[str, subprocess.Popen] = {}


def evaluate_isolated(task: EvalTask, worker: Optional[str] = None) -> EvalOutcome:
    """Run ``task`` in a fresh child process and report how it ended (never raises)."""
    worker = worker or f"pid-{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="hyperfleet-eval-") as scratch:
        folder = Path(task.folder) if task.folder else Path(scratch)
        result_file = Path(scratch) / "outcome.pkl"
        env = {**os.environ, **{k: str(v) for k, v in task.env.items()}}
        start = time.time()
        with os.fdopen(open_output(folder / "stdout.txt"), "ab") as out, \
                os.fdopen(open_output(folder / "stderr.txt"), "ab") as err:
            child = subprocess.Popen(
                [sys.executable, "-c", CHILD_MAIN, str(result_file)],
                stdin=subprocess.PIPE, stdout=out, stderr=err, env=env, start_new_session=True)
        _live_children[task.eval_id] = child
        try:
            child.stdin.write(pickle.dumps(task))
            child.stdin.close()
        except BrokenPipeError:
            pass
        try:
            ending = _watch(child, task, start, folder)
        finally:
            _live_children.pop(task.eval_id, None)
        end = time.time()
        common = dict(start_time=start, end_time=end, worker=worker, host=_HOST)
        if ending == "cancelled":
            return EvalOutcome(task.eval_id, "CANCELLED", error="cancelled", **common)
        if ending == "timeout":
            return EvalOutcome(task.eval_id, "TIMEOUT", error=f"killed after the time limit of {task.timeout:g} s",
                               **common)
        if child.returncode == 0 and result_file.exists():
            outcome: EvalOutcome = pickle.loads(result_file.read_bytes())
            outcome.worker, outcome.host = worker, _HOST
            return outcome
        return EvalOutcome(task.eval_id, "FAILED", error=crash_message(child.returncode, folder / "stderr.txt"),
                           **common)


#: starts the child without the current folder first on ``sys.path`` (``python -m`` puts it there),
#: so that a module planted in it is not imported instead of the standard library's
CHILD_MAIN = ("import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; "
              "from hyperfleet.execute.child import main; main()")
CANCEL_FILE = ".cancel"
_POLL_S = 0.25


def request_cancel(folder: Optional[str]) -> None:
    """Ask the isolated evaluation running in ``folder`` to stop, from any process or host that
    sees the folder."""
    if folder:
        try:
            create_file(Path(folder) / CANCEL_FILE)
        except OSError:
            pass


def _watch(child: subprocess.Popen, task: EvalTask, start: float, folder: Path) -> str:
    """Wait for the child; kill it on its time limit or a cancel request. Returns how it ended."""
    cancel = folder / CANCEL_FILE
    while True:
        wait_s = _POLL_S if task.timeout is None else min(_POLL_S, max(0.0, start + task.timeout - time.time()))
        try:
            child.wait(timeout=wait_s)
            return "exited"
        except subprocess.TimeoutExpired:
            pass
        if task.timeout is not None and time.time() >= start + task.timeout:
            ending = "timeout"
        elif task.folder and cancel.exists():
            ending = "cancelled"
        else:
            continue
        kill_group(child)
        child.wait()
        return ending


def crash_message(returncode: Optional[int], stderr_file: Optional[Path]) -> str:
    """'killed by signal SIGSEGV' or 'exited with code 3', with the last lines of stderr."""
    if returncode is not None and returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = str(-returncode)
        text = f"the evaluation's process was killed by signal {name}"
        if name == "SIGKILL":
            text += " (out of memory, or killed by someone)"
    else:
        text = f"the evaluation's process exited with code {returncode} before returning a result"
    tail = stderr_tail(stderr_file)
    return f"{text}\n{tail}" if tail else text


def stderr_tail(path: Optional[Path], lines: int = 15) -> str:
    if path is None or not Path(path).exists():
        return ""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - 8192))
        text = f.read().decode(errors="replace")
    return "\n".join(text.rstrip().splitlines()[-lines:])


def kill_group(process) -> None:
    """SIGKILL a process and everything it started in its session."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            process.kill()
        except (ProcessLookupError, OSError):
            pass


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when the thread that started it dies."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def kill_live_children() -> None:
    """Kill every isolated evaluation this process has started and not yet reaped."""
    for child in list(_live_children.values()):
        kill_group(child)

