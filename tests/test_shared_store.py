"""Two searches share one store for a minute while `hyperfleet ls` polls it: no error, nothing lost."""

import csv
import os
import subprocess
import sys
import time
from pathlib import Path

from hyperfleet.store import EvaluationState, SearchState, SqlStore
from tests.conftest import TUTORIAL


def test_two_searches_and_a_poller_for_a_minute(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "HYPERFLEET_STORE"}
    env["SYNTHETIC_SLEEP"] = "0.05"
    searches = [subprocess.Popen([sys.executable, "-m", "hyperfleet", "search", "-p", str(TUTORIAL / "problem.py"),
                                  "-r", str(TUTORIAL / "synthetic_run.py"), "--search", "random",
                                  "--max-evals", "100000", "--timeout", "60", "--workers", "1",
                                  "--name", name, "--quiet"],
                                 cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for name in ("left", "right")]
    polls, failures = 0, []
    while any(p.poll() is None for p in searches):
        for args in (["ls"], ["ls", "left"], ["results", "right", "--top", "3"]):
            proc = subprocess.run([sys.executable, "-m", "hyperfleet", *args], cwd=tmp_path, env=env,
                                  capture_output=True, text=True, timeout=60)
            polls += 1
            # before the searches have created the store, read commands say so (and create none)
            expected = ("no search with label", "no search label", "no hyperfleet store found")
            if proc.returncode != 0 and not any(text in proc.stderr for text in expected):
                failures.append((args, proc.returncode, proc.stderr[-500:]))
        time.sleep(0.2)
    outputs = [p.communicate() for p in searches]
    assert all(p.returncode == 0 for p in searches), outputs
    assert not failures, failures
    # the poller read the store over and over while both searches wrote it (each poll starts a
    # Python process: about 1 s each on a loaded 2-core machine, so not a speed check)
    assert polls >= 12
    db = SqlStore(tmp_path / "hyperfleet.db")
    for name in ("left", "right"):
        search = db.resolve_search(name)
        assert search.state == SearchState.FINISHED and "timeout" in search.message
        evaluations = db.list_evaluations(search.id)
        done = [e for e in evaluations if e.state == EvaluationState.DONE]
        assert len(done) > 100
        assert all(e.state in (EvaluationState.DONE, EvaluationState.CANCELLED) for e in evaluations)
        with open(Path(search.folder) / "results.csv") as f:
            rows = list(csv.reader(f))[1:]
        assert len(rows) == len(done)
