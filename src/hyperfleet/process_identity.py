"""Who a process is beyond its PID: its start time and the boot it belongs to.

A PID is reused once its process is gone, so a recorded driver PID alone cannot say whether the
driver still runs: a stranger may carry it now. The driver records its PID, its start time and
the host's boot id; :func:`liveness` checks all three before anyone refuses to resume a search or
signals its driver.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Literal, Optional

Liveness = Literal["alive", "dead", "unknown"]
# Start times computed from /proc agree to the clock tick within one boot; the boot time the kernel
# reports can move by a second when the clock is adjusted, so allow a little more.
_START_TOLERANCE_S = 2.0


@dataclass(frozen=True)
class ProcessIdentity:
    """A process as recorded: host, PID, start time (Unix seconds) and boot id (Linux)."""

    host: str
    pid: int
    started: Optional[float]
    boot_id: Optional[str]


def boot_id() -> Optional[str]:
    """This boot's id (``/proc/sys/kernel/random/boot_id``); ``None`` where there is none."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip() or None
    except OSError:
        return None


def _boot_time() -> Optional[float]:
    try:
        with open("/proc/stat") as f:
            for line in f:
                if line.startswith("btime "):
                    return float(line.split()[1])
    except OSError:
        pass
    return None


def _proc_stat(pid: int) -> Optional[list[str]]:
    """The fields of ``/proc/PID/stat`` after the command name (field 3 is the first)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    return text[text.rfind(")") + 2:].split()


def start_time(pid: int) -> Optional[float]:
    """When process ``pid`` started (Unix seconds); ``None`` when it does not exist or cannot be read."""
    fields = _proc_stat(pid)
    boot = _boot_time()
    if fields is not None and boot is not None and len(fields) > 19:
        return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: starttime in clock ticks
    try:
        import psutil
    except ImportError:
        return None
    try:
        return psutil.Process(pid).create_time()
    except (psutil.Error, OSError):
        return None


def this_process() -> ProcessIdentity:
    """The identity of the calling process."""
    pid = os.getpid()
    return ProcessIdentity(socket.gethostname(), pid, start_time(pid), boot_id())


def liveness(host: Optional[str], pid: Optional[int], started: Optional[float] = None,
             boot: Optional[str] = None) -> Liveness:
    """Whether the recorded process still runs: ``"unknown"`` when it ran on another host.

    ``"dead"`` when this host has rebooted since, no process has the PID (or only a zombie), or
    the process with the PID started at another time (a stranger that reused it). A record
    without a start time (written by an older hyperfleet) is judged by the PID alone.
    """
    if not pid or host != socket.gethostname():
        return "unknown" if pid else "dead"
    current_boot = boot_id()
    if boot and current_boot and boot != current_boot:
        return "dead"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "dead"
    except PermissionError:
        pass
    fields = _proc_stat(pid)
    if fields is not None and fields[0] in ("Z", "X"):
        return "dead"
    if started is not None:
        actual = start_time(pid)
        if actual is not None and abs(actual - started) > _START_TOLERANCE_S:
            return "dead"
    return "alive"
