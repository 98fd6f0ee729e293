"""A worker process (process and Dask workers, MPI ranks) adopts the orphans of its evaluations
(a Linux child subreaper): an evaluation that leaves no process behind costs no scan of every
process, one that does still has everything it started killed, and ended orphans are reaped.

Each check runs in a fresh interpreter: becoming a subreaper is for the whole process."""

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux /proc and prctl")

CHECK = textwrap.dedent("""
    import os, subprocess, sys, time
    from hyperfleet.execute import process_tree as pt
    from hyperfleet.execute.task import EvalTask
    from hyperfleet.execute.worker import OWN_PROCESS, evaluation_scope

    scans = []
    real = pt._pids
    pt._pids = lambda: scans.append(1) or real()
    folder = sys.argv[1]

    def scope(name):
        return evaluation_scope(EvalTask(name, "run.py", "run", {}, folder), OWN_PROCESS)

    # 1. nothing left behind: no scan of /proc at all
    with scope("clean"):
        subprocess.run(["true"], check=True)
    assert scans == [], len(scans)

    # 2. a double-forked daemon that ends at once: adopted, then reaped (no zombie is left)
    with scope("orphan"):
        subprocess.run(["sh", "-c", "(true &) ; exit 0"], check=True)
        time.sleep(0.3)
    left = pt.children(os.getpid())
    assert not left, left

    # 3. a double-forked daemon that lives on: killed when its evaluation ends
    with scope("daemon"):
        subprocess.run(["sh", "-c", "(sleep 300 &) ; exit 0"], check=True)
        time.sleep(0.2)
        [daemon] = pt.children(os.getpid())
    assert pt._stat(daemon) is None or pt._stat(daemon)[2] in "ZX", pt._stat(daemon)
    assert not pt.children(os.getpid())

    # 4. the environment is the evaluation's own, and put back afterwards
    with scope("env"):
        assert os.environ[pt.TOKEN_VAR] == "env"
        os.environ["HF_CHANGED"] = "1"
    assert pt.TOKEN_VAR not in os.environ and "HF_CHANGED" not in os.environ
    print("ok")
""")


def test_worker_scope_adopts_kills_and_reaps_without_scanning_when_clean(tmp_path):
    out = subprocess.run([sys.executable, "-c", CHECK, str(tmp_path)], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-3000:]
