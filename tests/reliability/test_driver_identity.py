"""Item 5: a recorded driver PID that now belongs to a stranger is neither signalled nor obeyed."""

import subprocess
import time

from hyperfleet.api import continue_search
from hyperfleet.process_identity import boot_id, liveness, start_time, this_process
from hyperfleet.store import SearchState, SqlStore

from .conftest import crash, hf, search_args


def _stranger():
    proc = subprocess.Popen(["sleep", "120"])
    for _ in range(100):
        if start_time(proc.pid) is not None:
            break
        time.sleep(0.01)
    return proc


def _record_stranger_as_driver(store, label, stranger):
    search, _ = crash(store, label)
    # the dead driver had this pid, but started long before the process that carries it now
    store.update_search(search.id, driver_pid=stranger.pid, driver_started=start_time(stranger.pid) - 3600,
                        driver_boot_id=boot_id())
    return store.get_search(search.id)


def test_identity_tells_a_stranger_from_the_process():
    me = this_process()
    assert liveness(me.host, me.pid, me.started, me.boot_id) == "alive"
    assert liveness(me.host, me.pid, me.started - 100, me.boot_id) == "dead"        # pid reused
    assert liveness(me.host, me.pid, me.started, "another-boot") == "dead"          # rebooted since
    assert liveness(me.host, me.pid) == "alive"                                     # pid only (schema 2)
    assert liveness("some-other-host", me.pid, me.started, me.boot_id) == "unknown"
    zombie = subprocess.Popen(["true"])
    time.sleep(0.3)  # exited, not yet reaped: a zombie is not a driver
    assert liveness(me.host, zombie.pid) == "dead"
    zombie.wait()
    assert liveness(me.host, zombie.pid) == "dead"


def test_cancel_does_not_signal_a_stranger_with_the_driver_pid(project):
    assert hf(search_args("victim", max_evals=4), project).returncode == 0
    store = SqlStore(project / "hyperfleet.db")
    stranger = _stranger()
    try:
        _record_stranger_as_driver(store, "victim", stranger)
        proc = hf(["cancel", "victim"], project)
        assert proc.returncode == 0, proc.stderr
        time.sleep(0.3)
        assert stranger.poll() is None, "hyperfleet cancel signalled an unrelated process"
        assert "no longer running" in proc.stdout
        assert store.resolve_search("victim").state == SearchState.CANCELLED
    finally:
        stranger.kill()
        stranger.wait()


def test_resume_is_not_refused_because_of_a_stranger_with_the_driver_pid(project):
    assert hf(search_args("reused", max_evals=4), project).returncode == 0
    store = SqlStore(project / "hyperfleet.db")
    stranger = _stranger()
    try:
        _record_stranger_as_driver(store, "reused", stranger)
        result = continue_search("reused", store=store, max_evals=6, evaluator="serial")
        assert result.search.state == SearchState.FINISHED and result.stats.finished == 6
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()
