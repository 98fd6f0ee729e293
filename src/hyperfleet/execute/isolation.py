"""Running one evaluation in a child process of its own: timeouts, crashes, its own environment.

The child runs ``hyperfleet.execute.child``; it reads the task from stdin, writes its
stdout/stderr to the evaluation's folder and the outcome to a result file. The parent waits
with the task's timeout and kills the child's whole process group when it runs over.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

from hyperfleet.execute import fork_server
from hyperfleet.execute.process_tree import TOKEN_VAR, descendants, kill_tree, last_pid, memory_bytes, prctl
from hyperfleet.execute.reporting import Ask, decode_value
from hyperfleet.execute.task import EvalOutcome, EvalTask
from hyperfleet.files import create_file, make_folder, open_output
from hyperfleet.main_guard import GUARD_HELP, REIMPORT_EXIT_CODE

_HOST = socket.gethostname()
_live_children: dict[str, subprocess.Popen] = {}


def evaluate_isolated(task: EvalTask, worker: Optional[str] = None, ask: Optional[Ask] = None) -> EvalOutcome:
    """Run ``task`` in a process of its own and report how it ended (never raises).

    With ``ask`` and ``task.live_reports``, the child's reports come up a pipe and are relayed
    through ``ask`` (the worker's channel to the driver); the decisions go back down another.
    """
    worker = worker or f"pid-{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="hyperfleet-eval-") as scratch:
        folder = Path(task.folder) if task.folder else Path(scratch)
        result_file = Path(scratch) / "outcome.pkl"
        env = {**os.environ, **{k: str(v) for k, v in task.env.items()}, TOKEN_VAR: task.eval_id}
        relay = _Relay(task.eval_id, ask) if ask is not None and task.live_reports else None
        start = time.time()
        with os.fdopen(open_output(folder / "stdout.txt"), "ab") as out, \
                os.fdopen(open_output(folder / "stderr.txt"), "ab") as err:
            child = _start_child(task, env, str(result_file), scratch, out, err, relay)
        if relay is not None:
            relay.child_started()
        _live_children[task.eval_id] = child
        memory = _MemoryWatch(task.memory_limit)
        try:
            ending = _watch(child, task, start, folder, relay, memory)
        finally:
            _live_children.pop(task.eval_id, None)
            if last_pid() != child.pid:  # else no process (or thread) started since the child
                kill_tree(task.eval_id, session=child.pid)  # whatever it left behind
            if relay is not None:
                relay.close()
        end = time.time()
        common = dict(start_time=start, end_time=end, worker=worker, host=_HOST)
        if ending == "memory":
            return EvalOutcome(task.eval_id, "FAILED", error=memory.message(), **common)
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


def _start_child(task: EvalTask, env: dict, result_file: str, scratch: str, out, err,
                 relay: Optional["_Relay"]):
    """The evaluation's process: forked by this process's fork server, or (without one) a new
    interpreter that reads the task on its stdin."""
    if fork_server.enabled():
        request = os.path.join(scratch, "request.pkl")
        fork_server.write_request(request, pickle.dumps(task), env, result_file, relay is not None)
        fds = [out.fileno(), err.fileno(), *(relay.pass_fds if relay else ())]
        try:
            return fork_server.spawn(request, fds)
        except OSError:  # no fork server here (it could not start): a new interpreter instead
            pass
    if relay is not None:
        env = {**env, REPORT_FDS_ENV: relay.child_fds}
    child = subprocess.Popen([sys.executable, "-c", CHILD_MAIN, result_file], stdin=subprocess.PIPE,
                             stdout=out, stderr=err, env=env, start_new_session=True,
                             pass_fds=relay.pass_fds if relay else ())
    try:
        child.stdin.write(pickle.dumps(task))
        child.stdin.close()
    except BrokenPipeError:
        pass
    return child


#: starts the child without the current folder first on ``sys.path`` (``python -m`` puts it there),
#: so that a module planted in it is not imported instead of the standard library's
CHILD_MAIN = ("import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; "
              "from hyperfleet.execute.child import main; main()")


REPORT_FDS_ENV = "HYPERFLEET_REPORT_FDS"


class _Relay:
    """Two pipes between a worker and its isolated child: reports up, decisions down."""

    def __init__(self, eval_id: str, ask: Ask) -> None:
        self.eval_id, self.ask = eval_id, ask
        self.up_read, self.up_write = os.pipe()
        self.down_read, self.down_write = os.pipe()
        self.pass_fds = (self.up_write, self.down_read)
        self.child_fds = f"{self.up_write},{self.down_read}"
        self.open = True
        self._pending = b""

    def child_started(self) -> None:
        os.close(self.up_write)  # the child holds its ends: EOF upstream means it has exited
        os.close(self.down_read)
        self.up_write = self.down_read = -1

    def serve(self, wait_s: float) -> None:
        """Wait up to ``wait_s`` for reports; relay each one and answer it."""
        ready, _, _ = select.select([self.up_read], [], [], wait_s)
        if not ready:
            return
        data = os.read(self.up_read, 65536)
        if not data:
            self.open = False
            return
        self._pending += data
        *lines, self._pending = self._pending.split(b"\n")
        for line in lines:
            step, when, value = line.split(None, 2)
            go = self.ask(self.eval_id, int(step), decode_value(value.decode()), float(when))
            try:
                os.write(self.down_write, b"1\n" if go else b"0\n")
            except OSError:  # the child is gone
                self.open = False

    def close(self) -> None:
        for fd in (self.up_read, self.up_write, self.down_read, self.down_write):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)


CANCEL_FILE = ".cancel"
_POLL_S = 0.25


def request_cancel(folder: Optional[str]) -> None:
    """Ask the isolated evaluation running in ``folder`` to stop, from any process or host that
    sees the folder."""
    if folder:
        try:
            make_folder(folder)  # the worker may not have made it yet
            create_file(Path(folder) / CANCEL_FILE)
        except OSError:
            pass


class _MemoryWatch:
    """The memory limit of one evaluation (``--eval-memory``), checked on every poll."""

    def __init__(self, limit_gb: Optional[float]) -> None:
        self.limit_gb = limit_gb
        self.used = 0

    def exceeded(self, child: subprocess.Popen) -> bool:
        if self.limit_gb is None:
            return False
        self.used = memory_bytes([child.pid, *descendants(child.pid)])
        return self.used > self.limit_gb * 1e9

    def message(self) -> str:
        return (f"out of memory: used {self.used / 1e9:.2f} GB > limit {self.limit_gb:g} GB "
                f"(--eval-memory); the evaluation's processes were killed")


def _watch(child: subprocess.Popen, task: EvalTask, start: float, folder: Path,
           relay: Optional["_Relay"] = None, memory: Optional[_MemoryWatch] = None) -> str:
    """Wait for the child (relaying its reports); kill it on its time limit, its memory limit or a
    cancel request. Returns how it ended."""
    cancel = folder / CANCEL_FILE
    while True:
        wait_s = _POLL_S if task.timeout is None else min(_POLL_S, max(0.0, start + task.timeout - time.time()))
        if relay is not None and relay.open:
            relay.serve(wait_s)
            wait_s = 0.0
        try:
            child.wait(timeout=wait_s)
            return "exited"
        except subprocess.TimeoutExpired:
            pass
        if task.timeout is not None and time.time() >= start + task.timeout:
            ending = "timeout"
        elif memory is not None and memory.exceeded(child):
            ending = "memory"
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
    elif returncode == REIMPORT_EXIT_CODE:
        text = (f"the worker process could not start: importing the main script started a search again; "
                f"{GUARD_HELP}")
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
    prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def kill_live_children() -> None:
    """Kill every isolated evaluation this process has started and not yet reaped, with what
    they started."""
    for eval_id, child in list(_live_children.items()):
        kill_group(child)
        kill_tree(eval_id, session=child.pid)

