"""Item 6: one driver per search. Two resumes of one crashed search: one drives, the other says so."""

import socket
import time

import pytest

from hyperfleet.api import continue_search
from hyperfleet.driver_lifecycle import STALE, SearchBusy
from hyperfleet.store import EvaluationState, SearchState, SqlStore

from .conftest import check_agreement, crash, hf, hf_start, search_args


@pytest.mark.parametrize("evaluator", ["process", "dask"])
def test_two_resumes_at_once_only_one_drives(project, evaluator):
    assert hf(search_args("twice", max_evals=6), project).returncode == 0
    store = SqlStore(project / "hyperfleet.db")
    search, _ = crash(store, "twice", n_running=2)
    args = ["resume", "twice", "--max-evals", 30, "--evaluator", evaluator, "--workers", 2, "--quiet"]
    env = {"RUN_SLEEP": "0.2"}
    procs = [hf_start(args, project, env), hf_start(args, project, env)]
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    codes = sorted(r[0] for r in results)
    assert codes == [0, 2], results
    loser = next(r for r in results if r[0] == 2)
    lines = loser[2].strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: search twice") and "hyperfleet cancel twice" in lines[0], lines
    assert "Traceback" not in loser[2] and "SQL" not in loser[2]
    evaluations = store.list_evaluations(search.id)
    kept = [e for e in evaluations if e.state != EvaluationState.CANCELLED]
    assert len(kept) == 30, "max_evals exceeded or not reached"
    assert store.get_search(search.id).state == SearchState.FINISHED
    assert store.get_search(search.id).driver_token is None
    counts = check_agreement(store, search.id)
    assert counts.get("RUNNING", 0) == 0


def test_a_live_driver_refuses_a_second_one_in_process(project):
    proc = hf_start(search_args("live", max_evals=200), project, {"RUN_SLEEP": "0.2"})
    store = SqlStore(project / "hyperfleet.db")
    try:
        for _ in range(300):
            found = store.find_searches("live")
            # the claim comes a moment before the state turns RUNNING; wait for both
            if found and found[0].driver_token and found[0].state == SearchState.RUNNING:
                break
            time.sleep(0.05)
        before = len(store.list_evaluations(found[0].id))
        with pytest.raises(SearchBusy, match="is running \\(driver pid"):
            continue_search("live", store=store)
        assert store.resolve_search("live").state == SearchState.RUNNING
        assert len(store.list_evaluations(found[0].id)) >= before
    finally:
        proc.kill()
        proc.wait()


def test_ls_shows_a_dead_driver_as_stale_and_resume_takes_it_over(project):
    assert hf(search_args("ghost", max_evals=4), project).returncode == 0
    store = SqlStore(project / "hyperfleet.db")
    crash(store, "ghost")
    out = hf(["ls"], project, env={"COLUMNS": "200"}).stdout
    assert STALE in out, out
    proc = hf(["resume", "ghost", "--max-evals", 6, "--quiet"], project)
    assert proc.returncode == 0, proc.stderr
    assert store.resolve_search("ghost").state == SearchState.FINISHED
    assert STALE not in hf(["ls"], project, env={"COLUMNS": "200"}).stdout


def test_another_hosts_driver_counts_as_dead_once_its_lease_expired(project):
    assert hf(search_args("remote", max_evals=4), project).returncode == 0
    store = SqlStore(project / "hyperfleet.db")
    search, _ = crash(store, "remote")
    store.update_search(search.id, driver_host="node-elsewhere", lease_expires=time.time() + 600)
    with pytest.raises(SearchBusy, match="RUNNING on node-elsewhere"):
        continue_search("remote", store=store, evaluator="serial")
    assert store.get_search(search.id).driver_token == "dead-driver-token"
    store.update_search(search.id, lease_expires=time.time() - 1)
    assert "STALE" in hf(["ls"], project, env={"COLUMNS": "200"}).stdout
    result = continue_search("remote", store=store, max_evals=5, evaluator="serial")
    assert result.search.state == SearchState.FINISHED
    assert result.search.driver_host == socket.gethostname()


def test_a_driver_whose_lease_was_taken_over_stops_writing(project):
    """A driver frozen past its lease (SIGSTOP, a store unreachable for 30 s) finds another driver in
    its place: it stops at its next heartbeat with one line, and writes nothing after that."""
    from hyperfleet.driver_lifecycle import HEARTBEAT_S

    proc = hf_start(search_args("usurped", max_evals=500), project, {"RUN_SLEEP": "0.1"})
    store = SqlStore(project / "hyperfleet.db")
    for _ in range(600):
        found = store.find_searches("usurped")
        if found and found[0].driver_token and store.list_evaluations(found[0].id):
            break
        time.sleep(0.05)
    search = found[0]
    store.update_search(search.id, lease_expires=time.time() - 1)  # as if it had missed its heartbeats
    assert store.claim_search(search.id, "usurper", 600, driver_host="elsewhere", driver_pid=1)
    taken = time.time()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, (out, err)
    assert err.strip().count("\n") == 0 and "taken over by another driver" in err, err
    after = store.get_search(search.id)
    assert (after.driver_token, after.state) == ("usurper", SearchState.RUNNING), "it wrote after losing"
    late = [e for e in store.list_evaluations(search.id) if e.created_time > taken + HEARTBEAT_S + 2]
    assert not late, "evaluations were created after the takeover was seen"
