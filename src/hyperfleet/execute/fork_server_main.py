"""The fork server's own process (see :mod:`hyperfleet.execute.fork_server`): it waits for requests
on its control socket, forks a process per request and tells the requester when it ended.

Each request is one message on a SOCK_SEQPACKET socket: the path of a request file, with the
descriptors ``reply, stdout, stderr[, reports up, decisions down]``. On ``reply`` the server
writes ``P<pid>`` once the process is forked and ``X<code>`` when it ended (the code as
:attr:`subprocess.Popen.returncode` has it: minus the signal's number when killed by one).
"""

from __future__ import annotations

import array
import atexit
import os
import pickle
import select
import signal
import socket
import sys
import traceback

_MAX_FDS = 5


def serve(control_fd: int) -> None:
    control = socket.socket(fileno=control_fd)
    _preload()
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver decides; terminal signals are its to take
    running: dict[int, socket.socket] = {}
    open_fds = [control_fd, wake_read, wake_write]
    while True:
        ready, _, _ = select.select([control, wake_read], [], [])
        if wake_read in ready:
            _drain(wake_read)
        _reap(running)
        if control in ready:
            request = _receive(control)
            if request is None:  # the process that started this server is gone
                break
            path, fds = request
            reply = socket.socket(fileno=fds[0])
            pid = _fork(path, fds, [*open_fds, *(s.fileno() for s in running.values())])
            for fd in fds[1:]:
                os.close(fd)
            if isinstance(pid, str):
                _send(reply, f"E{pid}")
                reply.close()
            else:
                running[pid] = reply
                _send(reply, f"P{pid}")
                _reap(running)
    for reply in running.values():  # what still runs dies with this process (PR_SET_PDEATHSIG)
        reply.close()


def _preload() -> None:
    """Import what every evaluation needs, once (never the run function's module, nor numpy)."""
    import hyperfleet.execute.child  # noqa: F401
    import hyperfleet.execute.worker  # noqa: F401
    import hyperfleet.user_code  # noqa: F401
    from hyperfleet.execute.process_tree import libc

    try:
        libc()  # for PR_SET_PDEATHSIG in every forked process
    except OSError:
        pass
    try:
        import cloudpickle  # noqa: F401  (run functions carried by value)
    except ImportError:
        pass


def _receive(control: socket.socket):
    try:
        data, ancillary, _flags, _addr = control.recvmsg(65536, socket.CMSG_SPACE(_MAX_FDS * 4))
    except OSError:
        return None
    fds = array.array("i")
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
    if not data:
        for fd in fds:
            os.close(fd)
        return None
    return data.decode(), list(fds)


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass


def _reap(running: dict[int, socket.socket]) -> None:
    while running:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        reply = running.pop(pid, None)
        if reply is not None:
            _send(reply, f"X{os.waitstatus_to_exitcode(status)}")
            reply.close()


def _send(reply: socket.socket, line: str) -> None:
    try:
        reply.sendall(line.encode() + b"\n")
    except OSError:  # the requester is gone
        pass


def _fork(path: str, fds: list[int], close: list[int]):
    server = os.getpid()
    try:
        pid = os.fork()
    except OSError as e:
        return f"fork failed: {e}"
    if pid:
        return pid
    code = 1
    try:
        code = _child(path, fds, close, server)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _child(path: str, fds: list[int], close: list[int], server: int) -> int:
    """In the forked process: become the evaluation's own process, run it, write its outcome."""
    from hyperfleet.execute.isolation import REPORT_FDS_ENV, die_with_parent

    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a new interpreter
    os.setsid()
    die_with_parent()
    if os.getppid() != server:  # the server died before prctl took effect
        return 1
    for fd in close + [fds[0]]:
        try:
            os.close(fd)
        except OSError:
            pass
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(fds[1], 1)
    os.dup2(fds[2], 2)
    for fd in (null, fds[1], fds[2]):
        os.close(fd)
    with open(path, "rb") as f:
        request = pickle.load(f)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    if request["report_fds"] and len(fds) >= 5:
        os.environ[REPORT_FDS_ENV] = f"{fds[3]},{fds[4]}"
    sys.argv = [sys.argv[0]]
    from hyperfleet.execute.child import run_and_record

    run_and_record(pickle.loads(request["task"]), request["result"])
    atexit._run_exitfuncs()
    return 0
