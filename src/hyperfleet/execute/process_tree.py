"""Finding, measuring and killing every process an evaluation started, however it started them.

An evaluation's environment carries ``HYPERFLEET_EVAL_TOKEN=<token>``, which every process it
starts inherits — also one in a new session (``start_new_session=True``) and a double-forked
daemon whose parent has exited. When the evaluation ends, :func:`kill_tree` SIGKILLs every
process of this user whose ``/proc/PID/environ`` carries the token, plus the descendants of the
evaluation's own process (a fast path, and the way to catch children that ``fork`` without
``exec``: the kernel shows them the environment their parent was *started* with).

Limits (Linux ``/proc``; elsewhere only the process group is killed): a process that clears or
rewrites its environment before exec (``env -i``), or that forks without exec *and* leaves the
session of the evaluation's process, escapes; a process of another user (``sudo``) cannot be
killed. Evaluations that run in threads of the driver share one process, so the thread
evaluator tags their children with one token for the executor and kills them when no
evaluation is running in a thread and at shutdown.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Iterable, Optional

TOKEN_VAR = "HYPERFLEET_EVAL_TOKEN"
_PROC = "/proc"


def _pids() -> list[int]:
    try:
        return [int(name) for name in os.listdir(_PROC) if name.isdigit()]
    except OSError:
        return []


def _stat(pid: int) -> Optional[tuple[int, int, str]]:
    """(parent pid, session id, state) of a process, or None when it is gone."""
    try:
        with open(f"{_PROC}/{pid}/stat", "rb") as f:
            rest = f.read().rsplit(b")", 1)[1].split()
        return int(rest[1]), int(rest[3]), rest[0].decode()
    except (OSError, IndexError, ValueError):
        return None


def tagged(token: str) -> list[int]:
    """Live processes of this user whose environment carries ``HYPERFLEET_EVAL_TOKEN=token``."""
    needle = f"{TOKEN_VAR}={token}".encode()
    uid, me, found = os.getuid(), os.getpid(), []
    for pid in _pids():
        if pid == me:
            continue
        try:
            if os.stat(f"{_PROC}/{pid}").st_uid != uid:
                continue
            with open(f"{_PROC}/{pid}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    found.append(pid)
        except OSError:
            continue
    return found


def descendants(root: int) -> list[int]:
    """Processes below ``root`` in the parent tree (not ``root`` itself)."""
    children: dict[int, list[int]] = {}
    for pid in _pids():
        stat = _stat(pid)
        if stat is not None:
            children.setdefault(stat[0], []).append(pid)
    out, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


_subreaper: list = []  # [whether this process is a child subreaper], once asked


def become_subreaper() -> bool:
    """Make this process adopt its orphaned descendants (Linux ``PR_SET_CHILD_SUBREAPER``), so
    that whatever an evaluation started stays below it, double-forked daemons included. Asked
    once per process; False where the system does not offer it."""
    if not _subreaper:
        _subreaper.append(prctl(36, 1) and children(os.getpid()) is not None)  # PR_SET_CHILD_SUBREAPER
    return _subreaper[0]


def prctl(option: int, value: int) -> bool:
    """Linux ``prctl(option, value)`` for this process; False where it is not available."""
    try:
        return libc().prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


_libc: list = []


def libc():
    """The C library, loaded once (a few milliseconds: a forked evaluation's process finds it
    loaded by the fork server)."""
    if not _libc:
        import ctypes

        _libc.append(ctypes.CDLL("libc.so.6", use_errno=True))
    return _libc[0]


def last_pid() -> Optional[int]:
    """The process id the kernel handed out last in this PID namespace (``/proc/loadavg``'s last
    field; threads take ids too), or None where it is not shown. Unchanged between two reads: no
    process (and no thread) was started anywhere on the machine in between, so an evaluation that
    ran meanwhile left nothing behind, and the scan of every process can be skipped."""
    try:
        with open(f"{_PROC}/loadavg", "rb") as f:
            return int(f.read().split()[-1])
    except (OSError, ValueError, IndexError):
        return None


def ended(pid: int) -> bool:
    """Whether a process has ended: gone, or a zombie waiting for its parent."""
    stat = _stat(pid)
    return stat is None or stat[2] in ("Z", "X")


def children(pid: int) -> Optional[set[int]]:
    """The direct children of ``pid`` (zombies included), from ``/proc/PID/task/*/children``: a
    few small reads instead of a scan of every process. None where the kernel does not show them."""
    try:
        tasks = os.listdir(f"{_PROC}/{pid}/task")
        out: set[int] = set()
        for tid in tasks:
            with open(f"{_PROC}/{pid}/task/{tid}/children", "rb") as f:
                out.update(int(p) for p in f.read().split())
        return out
    except (OSError, ValueError):
        return None


def reap(pids: Iterable[int]) -> None:
    """Collect the exit status of those of ``pids`` that are this process's ended children (an
    adopted orphan that ended is a zombie until its new parent waits for it)."""
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


def session_members(sid: int) -> list[int]:
    """Processes of session ``sid`` (other than this one)."""
    me = os.getpid()
    return [pid for pid in _pids() if pid != me and (_stat(pid) or (0, -1, ""))[1] == sid]


def tree(token: Optional[str], root: Optional[int] = None) -> set[int]:
    """Every process of an evaluation: tagged with ``token``, or below ``root``."""
    pids = set(tagged(token)) if token else set()
    if root is not None:
        pids.update(descendants(root))
    pids.discard(os.getpid())
    return pids


def kill_tree(token: Optional[str], root: Optional[int] = None, session: Optional[int] = None,
              keep: Iterable[int] = (), rounds: int = 3) -> int:
    """SIGKILL the evaluation's processes (tagged, descendants of ``root``, members of
    ``session``, except those in ``keep``); repeated a few times to catch processes forked
    meanwhile. Returns how many."""
    killed, keep = 0, set(keep)
    for _ in range(rounds):
        pids = tree(token, root)
        if session is not None:
            pids.update(session_members(session))
        pids.discard(os.getpid())
        pids -= keep
        pids = {p for p in pids if not ended(p)}
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.01)
    return killed


def memory_bytes(pids: Iterable[int]) -> int:
    """Memory of processes: the sum of their proportional set sizes (PSS: shared pages split
    between the processes sharing them, so forked data-loader workers are not counted many
    times), or of their resident sets where PSS cannot be read."""
    total = 0
    for pid in pids:
        total += _pss(pid)
    return total


def _pss(pid: int) -> int:
    try:
        with open(f"{_PROC}/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open(f"{_PROC}/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
