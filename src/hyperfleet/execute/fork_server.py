"""A fork server for isolated evaluations: one child interpreter per process, forked per evaluation.

Starting a fresh interpreter for every isolated evaluation costs a Python start-up and the import
of hyperfleet's evaluation code (0.2-0.6 s here), which is the whole cost of a short evaluation.
Instead, the first isolated evaluation of a process starts one *fork server*: a child interpreter
that imports the evaluation code (the standard library and hyperfleet's light modules; not numpy,
not the run function's module) and then, for every evaluation, forks a process of its own.

That process is as fresh as a new interpreter where it matters: it imports the run function's
module itself, after its environment (``CUDA_VISIBLE_DEVICES``, ``OMP_NUM_THREADS`` ...) and
working folder were set; it is in a session of its own; it dies with the fork server, which
exits when the process that started it goes. The fork server is single-threaded, so the fork is
safe. ``HYPERFLEET_FORK_SERVER=0`` starts a new interpreter per evaluation instead.

The handle returned for an evaluation (:class:`ForkedChild`) has the part of
:class:`subprocess.Popen` that :mod:`hyperfleet.execute.isolation` uses: ``pid``, ``wait``,
``returncode``, ``kill``.
"""

from __future__ import annotations

import array
import os
import pickle
import select
import socket
import subprocess
import sys
import threading
import time
from typing import Optional, Sequence

ENV_SWITCH = "HYPERFLEET_FORK_SERVER"
_START_TIMEOUT_S = 60.0


def enabled() -> bool:
    return sys.platform.startswith("linux") and os.environ.get(ENV_SWITCH, "1").strip() not in ("0", "false", "no")


class ForkedChild:
    """One evaluation's process, a child of the fork server (not of this process)."""

    def __init__(self, reply: socket.socket) -> None:
        self._reply = reply
        self._buffer = b""
        self.returncode: Optional[int] = None
        line = self._line(_START_TIMEOUT_S)
        if line is None or not line.startswith(b"P"):
            reply.close()
            raise OSError(f"the fork server did not start the evaluation: {(line or b'no answer')[1:].decode()}")
        self.pid = int(line[1:])

    def _line(self, timeout: Optional[float]) -> Optional[bytes]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self._buffer:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self._reply], [], [], wait)
            if not ready:
                return None
            data = self._reply.recv(4096)
            if not data:  # the fork server is gone, and its processes with it
                return b"X-9"
            self._buffer += data
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line

    def poll(self) -> Optional[int]:
        return self.wait(0.0) if self.returncode is None and self._ready() else self.returncode

    def _ready(self) -> bool:
        return b"\n" in self._buffer or bool(select.select([self._reply], [], [], 0)[0])

    def wait(self, timeout: Optional[float] = None) -> int:
        if self.returncode is not None:
            return self.returncode
        line = self._line(timeout)
        if line is None:
            raise subprocess.TimeoutExpired(f"evaluation process {self.pid}", timeout)
        self.returncode = int(line[1:])
        self._reply.close()
        return self.returncode

    def kill(self) -> None:
        try:
            os.kill(self.pid, 9)
        except (ProcessLookupError, PermissionError):
            pass


class ForkServer:
    """This process's fork server, started on first use (and again if it died)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: Optional[subprocess.Popen] = None
        self._control: Optional[socket.socket] = None

    def _start(self) -> socket.socket:
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with theirs:
            self._process = subprocess.Popen(
                [sys.executable, "-c", SERVER_MAIN, str(theirs.fileno())], pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL, start_new_session=True)
        self._control = mine
        return mine

    def spawn(self, request_file: str, fds: Sequence[int]) -> ForkedChild:
        """Fork a process that runs the evaluation described in ``request_file`` (see
        :func:`write_request`) with ``fds`` as its stdout, stderr and report pipes."""
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            with self._lock:
                control = self._control
                if control is None or self._process is None or self._process.poll() is not None:
                    control = self._start()
                message = [request_file.encode()]
                ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [theirs.fileno(), *fds]))]
                try:
                    control.sendmsg(message, ancillary)
                except OSError:  # it died between the check and the send: once more, with a new one
                    control = self._start()
                    control.sendmsg(message, ancillary)
        finally:
            theirs.close()
        return ForkedChild(mine)

    def stop(self) -> None:
        with self._lock:
            if self._control is not None:
                self._control.close()  # end of file: the server exits
                self._control = None
            if self._process is not None:
                try:
                    self._process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
                self._process = None


    def forget(self) -> None:
        """In a process forked from this one: the server is the parent's, start another."""
        self._lock = threading.Lock()
        self._process = self._control = None


_server = ForkServer()
os.register_at_fork(after_in_child=_server.forget)


def spawn(request_file: str, fds: Sequence[int]) -> ForkedChild:
    return _server.spawn(request_file, fds)


def write_request(path: str, task_bytes: bytes, env: dict, result_file: str, report_fds: bool) -> None:
    """What the forked process needs: the pickled task, its environment and working folder, where
    its outcome goes, and whether its fourth and fifth descriptors are the report pipes."""
    with open(path, "wb") as f:
        pickle.dump({"task": task_bytes, "env": env, "cwd": os.getcwd(), "result": result_file,
                     "report_fds": report_fds}, f, protocol=pickle.HIGHEST_PROTOCOL)


#: like CHILD_MAIN (isolation.py), without the current folder on sys.path
SERVER_MAIN = ("import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; "
               "from hyperfleet.execute.fork_server_main import serve; serve(int(sys.argv[1]))")
