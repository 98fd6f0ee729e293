"""Elastic mode imports dask-jobqueue, whose runner module sets SIGINT to ``sys.exit()`` on import:
a Ctrl-C of the search would then end the process as a plain exit (recorded FAILED) instead of
the driver's interrupt (CANCELLED). Each check runs in a fresh interpreter, where the import is real."""

import subprocess
import sys

import pytest

pytest.importorskip("dask_jobqueue")

CHECK = """
import signal
from hyperfleet.batch.elastic import import_jobqueue
before = signal.getsignal(signal.SIGINT)
import_jobqueue()
after = signal.getsignal(signal.SIGINT)
import sys
sys.exit(0 if after is before else 3)
"""


def test_importing_dask_jobqueue_keeps_the_sigint_handler():
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_ctrl_c_after_the_import_is_keyboard_interrupt():
    code = """
import os, signal
from hyperfleet.batch.elastic import import_jobqueue
import_jobqueue()
try:
    os.kill(os.getpid(), signal.SIGINT)
    import time; time.sleep(5)
except KeyboardInterrupt:
    raise SystemExit(7)
raise SystemExit(0)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 7, done.stderr
