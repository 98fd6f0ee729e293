"""Stopping a search before its end: Ctrl-C, hyperfleet cancel, and the active time after a pause."""

import csv
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from hyperfleet import HpProblem
from hyperfleet.api import continue_search, run_search
from hyperfleet.store import EvaluationState, SearchState, SqlStore
from tests.conftest import TUTORIAL


def _env(sleep: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "HYPERFLEET_STORE"}
    env["SYNTHETIC_SLEEP"] = sleep
    return env


def _start_search(work: Path, label: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "hyperfleet", "search", "-p", str(TUTORIAL / "problem.py"),
                             "-r", str(TUTORIAL / "synthetic_run.py"), "--search", "random", "--max-evals", "500",
                             "--evaluator", "process", "--workers", "2", "--name", label, "--seed", "0",
                             "--quiet", *extra], cwd=work, env=_env("0.2"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _wait_for_done(db_path: Path, label: str, n: int, proc: subprocess.Popen, limit: float = 120) -> None:
    end = time.time() + limit
    while time.time() < end:
        assert proc.poll() is None, f"the search ended early:\n{proc.communicate()[1]}"
        if db_path.exists():
            store = SqlStore(db_path)
            try:
                found = store.find_searches(label)
                if found and len(store.list_evaluations(found[-1].id, [EvaluationState.DONE])) >= n:
                    return
            finally:
                store.close()
        time.sleep(0.2)
    raise AssertionError(f"no {n} evaluations done within {limit} s")


def test_ctrl_c_prints_the_best_and_the_resume_command_that_works(tmp_path):
    db = tmp_path / "other.db"  # not the default store: the command must name it
    proc = _start_search(tmp_path, "intr", "--store", str(db))
    _wait_for_done(db, "intr", 3, proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "Traceback" not in out
    assert "interrupted" in err and "best so far: objective" in err
    command = next(line for line in err.splitlines() if line.startswith("continue it with: "))
    command = command.split(": ", 1)[1]
    assert command == f"hyperfleet resume intr --store {db}"
    store = SqlStore(db)
    record = store.resolve_search("intr")
    assert record.state == SearchState.INTERRUPTED
    done_before = len(store.list_evaluations(record.id, [EvaluationState.DONE]))
    store.close()
    # the printed command, literally (with a budget), continues the same search
    args = shlex.split(command)[1:] + ["--max-evals", str(done_before + 2), "--quiet"]
    again = subprocess.run([sys.executable, "-m", "hyperfleet", *args], cwd=tmp_path, env=_env("0.01"),
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    store = SqlStore(db)
    record = store.resolve_search("intr")
    assert record.state == SearchState.FINISHED
    assert len(store.list_evaluations(record.id, [EvaluationState.DONE])) == done_before + 2
    assert len(store.list_searches()) == 1


def test_cancel_makes_the_driver_exit_non_zero_with_the_reason(tmp_path):
    proc = _start_search(tmp_path, "stopme")
    _wait_for_done(tmp_path / "hyperfleet.db", "stopme", 1, proc)
    cancel = subprocess.run([sys.executable, "-m", "hyperfleet", "cancel", "stopme"], cwd=tmp_path,
                            env=_env("0"), capture_output=True, text=True, timeout=60)
    assert cancel.returncode == 0, cancel.stderr
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, (out, err)
    assert "cancelled by hyperfleet cancel" in out
    assert "Traceback" not in err
    store = SqlStore(tmp_path / "hyperfleet.db")
    record = store.resolve_search("stopme")
    assert record.state == SearchState.CANCELLED
    assert record.message.startswith("cancelled by hyperfleet cancel")


def _elapsed(folder) -> list[float]:
    with open(Path(folder) / "results.csv") as f:
        return [float(row[-1]) for row in list(csv.reader(f))[1:]]


def test_elapsed_time_leaves_out_the_pause_between_runs(tmp_path):
    problem = HpProblem()
    problem.add_dim("x", (0.0, 1.0))
    run = tmp_path / "run.py"
    run.write_text("import time\n\ndef run(c):\n    time.sleep(0.1)\n    return c['x']\n")
    store = SqlStore(tmp_path / "hf.db")
    first = run_search(problem, str(run), search="random", max_evals=4, evaluator="serial", store=store,
                       label="pause", seed=0)
    pause = 4.0
    time.sleep(pause)
    continue_search("pause", store=store, max_evals=8)
    elapsed = _elapsed(first.folder)
    assert len(elapsed) == 8
    assert elapsed == sorted(elapsed)
    # the step across the pause is one evaluation's time plus the driver's start, not the pause
    assert elapsed[4] - elapsed[3] < pause / 2, elapsed
    record = store.resolve_search("pause")
    intervals = record.settings["active_intervals"]
    assert len(intervals) == 2 and all(end is not None for _, end in intervals)
    assert intervals[1][0] - intervals[0][1] >= pause
    assert elapsed[-1] <= sum(end - start for start, end in intervals) + 1e-3
    # the report's plots map times through the same clock
    from hyperfleet.active_time import ActiveClock

    clock = ActiveClock.of(record.settings)
    last = max(e.end_time for e in store.list_evaluations(record.id))
    assert abs(clock(last) - elapsed[-1]) < 2e-3
