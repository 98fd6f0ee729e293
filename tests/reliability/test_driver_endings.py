"""Item 9: resume neither burns the budget nor gets stuck; every ending but SIGKILL leaves a final state."""

import signal
import time

import pytest

from hyperfleet import run_search
from hyperfleet.store import EvaluationState, SearchState, SqlStore

from .conftest import crash, hf, hf_start, search_args

FINAL = {SearchState.FINISHED, SearchState.FAILED, SearchState.CANCELLED, SearchState.INTERRUPTED}


def test_resume_without_the_run_file_refuses_and_spends_nothing(project):
    assert hf(search_args("lost", max_evals=4), project).returncode == 0
    store = SqlStore(project / "hyperfleet.db")
    search, _ = crash(store, "lost")
    before = store.list_evaluations(search.id)
    (project / "run.py").unlink()
    proc = hf(["resume", "lost", "--max-evals", 300, "--quiet"], project)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "run.py" in proc.stderr and "does not exist" in proc.stderr, proc.stderr
    assert store.list_evaluations(search.id) == before, "resume wrote evaluations without a run function"


def test_a_search_stopped_by_max_failures_can_be_continued(project):
    (project / "run.py").write_text("def run(c):\n    raise RuntimeError('broken')\n")
    proc = hf(search_args("flaky", max_evals=20, extra=["--max-failures", 3]), project)
    assert proc.returncode == 1 and "--max-failures 3" in proc.stdout
    (project / "run.py").write_text("def run(c):\n    return c['x']\n")
    proc = hf(["resume", "flaky", "--quiet"], project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    store = SqlStore(project / "hyperfleet.db")
    search = store.resolve_search("flaky")
    assert search.state == SearchState.FINISHED
    assert len(store.list_evaluations(search.id, [EvaluationState.DONE])) == 17
    (project / "run.py").write_text("def run(c):\n    raise RuntimeError('broken again')\n")
    proc = hf(["resume", "flaky", "--max-evals", 30, "--max-failures", 2, "--quiet"], project)
    assert proc.returncode == 1 and "stopped after 2 failed evaluations" in proc.stdout


class _Failing:
    def on_start(self, record, stats):
        raise OSError("stdout closed")


def test_an_error_before_the_loop_leaves_a_final_state(tmp_path, x_problem):
    (tmp_path / "run.py").write_text("def run(c):\n    return c['x']\n")
    store = SqlStore(tmp_path / "hf.db")
    with pytest.raises(OSError):
        run_search(x_problem, str(tmp_path / "run.py"), max_evals=3, evaluator="serial", store=store,
                   label="cb", callbacks=[_Failing()])
    search = store.resolve_search("cb")
    assert search.state == SearchState.FAILED and "stdout closed" in search.message
    assert search.driver_token is None


def test_a_closed_stdout_leaves_a_final_state(project):
    import subprocess
    import sys

    proc = subprocess.run(f"{sys.executable} -m hyperfleet search -p problem.py -r run.py --search random "
                          f"--max-evals 3 --evaluator serial --name closed >&-", shell=True, cwd=project,
                          capture_output=False, stderr=subprocess.PIPE, text=True, timeout=120)
    assert "Traceback" not in proc.stderr
    assert SqlStore(project / "hyperfleet.db").resolve_search("closed").state in FINAL


def _started(project, label):
    store = SqlStore(project / "hyperfleet.db")
    for _ in range(600):
        found = store.find_searches(label)
        if found and found[0].state == SearchState.RUNNING and store.list_evaluations(found[0].id):
            return store
        time.sleep(0.05)
    raise AssertionError("the search did not start")


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_cancel_with_their_exit_code(project, signum, code):
    proc = hf_start(search_args(f"sig{code}", max_evals=500, evaluator="process", workers=2), project,
                    {"RUN_SLEEP": "0.3"})
    store = _started(project, f"sig{code}")
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == code, (out, err)
    assert "Traceback" not in err
    assert f"terminated ({signal.Signals(signum).name}" in out
    search = store.resolve_search(f"sig{code}")
    assert search.state == SearchState.CANCELLED and search.driver_token is None
    assert not store.list_evaluations(search.id, [EvaluationState.RUNNING])


def test_repeated_sigterm_during_cleanup_still_ends_cleanly(project):
    proc = hf_start(search_args("storm", max_evals=500, evaluator="process", workers=2), project,
                    {"RUN_SLEEP": "0.3"})
    store = _started(project, "storm")
    deadline = time.time() + 60
    while proc.poll() is None and time.time() < deadline:
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.005)
    out, err = proc.communicate(timeout=60)
    # 143, or killed by one of the signals sent after the driver had restored the default handler
    assert proc.returncode in (143, -signal.SIGTERM) and "Traceback" not in err, err
    assert store.resolve_search("storm").state == SearchState.CANCELLED
