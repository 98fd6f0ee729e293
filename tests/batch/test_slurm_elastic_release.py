"""Elastic mode on a real Slurm: in the drain, a worker job with nothing left to run is cancelled."""

import os
import subprocess
import sys
import time

import pytest

from tests.batch.test_slurm import _evaluations, _slurm_room, project, slurm_up  # noqa: F401 - fixtures

pytestmark = pytest.mark.skipif(subprocess.run(["which", "sbatch"], capture_output=True).returncode != 0,
                                reason="Slurm is not installed here (.ci/run installs and starts it)")

RUN = '''
import os, pathlib, time

def run(config):
    calls = pathlib.Path(os.environ["CALLS_DIR"])
    n = 0
    while True:  # number the calls, across worker jobs
        try:
            os.close(os.open(calls / str(n), os.O_CREAT | os.O_EXCL))
            break
        except FileExistsError:
            n += 1
    time.sleep(float(os.environ["LONG_S"]) if n == int(os.environ["LONG_AT"]) else 0.3)
    return float(n)
'''


def _worker_jobs() -> int:
    out = subprocess.run(["squeue", "-h", "-o", "%j %T"], capture_output=True, text=True).stdout
    return sum(1 for line in out.splitlines() if line.startswith("dask-worker") and "RUNNING" in line)


def test_an_idle_worker_job_is_cancelled_in_the_drain(project):  # noqa: F811
    pytest.importorskip("dask_jobqueue")
    now, ever = _slurm_room(cpus=1, mem_mb=1000)
    if now < 2:
        pytest.skip(f"this Slurm has room for {now} worker job(s) of 1 CPU and 1 GB now; the test needs 2")
    (project / "run.py").write_text(RUN)
    (project / "calls").mkdir()
    env = {k: v for k, v in os.environ.items() if k != "HYPERFLEET_STORE"}
    env.update(CALLS_DIR=str(project / "calls"), LONG_AT="7", LONG_S="25")
    proc = subprocess.Popen([sys.executable, "-m", "hyperfleet", "submit", "-p", "problem.py", "-r", "run.py",
                             "-t", "5", "-q", "debug", "-n", "2", "--elastic", "--search", "random",
                             "--max-evals", "8", "hps", "release"], cwd=project, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        counts, deadline = [], time.time() + 150
        while proc.poll() is None and time.time() < deadline:
            if (project / "calls" / "7").exists():  # the long last evaluation runs
                counts.append(_worker_jobs())
            time.sleep(0.5)
        out = proc.communicate(timeout=60)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert "8 done, 0 failed" in out, out
    assert len({e.worker for e in _evaluations(project, "release")}) == 2  # both jobs ran evaluations
    # while the last evaluation ran (25 s), the other worker job was cancelled within seconds
    assert counts.count(1) >= 20 and max(counts) <= 2, (counts, out)
    assert subprocess.run(["squeue", "-h"], capture_output=True, text=True).stdout.strip() == ""
