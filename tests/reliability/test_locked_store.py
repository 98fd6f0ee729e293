"""Item 10 and the store's messages (16): a locked store is waited out; what still fails is one line."""

import sqlite3
import threading
import time

import pytest

from hyperfleet.store import SearchState, SqlStore, StoreError
from hyperfleet.testing.store_kit import new_search

from .conftest import hf_start, search_args


def _lock_while(path, seconds, started):
    conn = sqlite3.connect(path, timeout=60, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    started.set()
    time.sleep(seconds)
    conn.execute("ROLLBACK")
    conn.close()


def _hold_lock_mid_search(project, label, seconds, patience):
    proc = hf_start(search_args(label, max_evals=60, evaluator="serial"), project,
                    {"RUN_SLEEP": "0.1", "HYPERFLEET_STORE_PATIENCE": str(patience)})
    store = SqlStore(project / "hyperfleet.db")
    for _ in range(600):
        found = store.find_searches(label)
        if found and len(store.list_evaluations(found[0].id)) >= 3:
            break
        time.sleep(0.05)
    started = threading.Event()
    locker = threading.Thread(target=_lock_while, args=(project / "hyperfleet.db", seconds, started))
    locker.start()
    started.wait(30)
    out, err = proc.communicate(timeout=300)
    locker.join()
    return proc.returncode, out, err, store


def test_a_store_locked_longer_than_sqlites_wait_is_waited_out(project):
    # patience 9 s: SQLite waits 3 s per attempt, so a 5 s lock needs the retries
    code, out, err, store = _hold_lock_mid_search(project, "patient", seconds=5, patience=9)
    assert code == 0, err
    search = store.resolve_search("patient")
    assert search.state == SearchState.FINISHED and len(store.list_evaluations(search.id)) == 60


def test_a_store_locked_for_good_stops_the_driver_with_one_line(project):
    code, out, err, store = _hold_lock_mid_search(project, "stuck", seconds=8, patience=2)
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "hyperfleet.db" in lines[0] and "hyperfleet resume stuck" in lines[0], lines[0]
    assert "OperationalError" not in err and "[SQL" not in err and "Traceback" not in err
    proc = hf_start(["resume", "stuck", "--quiet"], project)  # the lock is gone: it continues
    proc.communicate(timeout=300)
    assert proc.returncode == 0
    assert store.resolve_search("stuck").state == SearchState.FINISHED


def test_store_errors_are_one_line_without_sql(tmp_path):
    store = SqlStore(tmp_path / "hf.db")
    record = new_search(store)
    store.create_evaluation(record.id, 0, {"x": 0.1})
    with pytest.raises(StoreError) as info:
        store.create_evaluation(record.id, 0, {"x": 0.2})
    text = str(info.value)
    assert "\n" not in text and "[SQL" not in text and "UNIQUE" in text and "hf.db" in text, text
    assert info.value.__cause__ is not None  # kept for --debug
    with pytest.raises(StoreError, match="refused create evaluation"):
        store.create_evaluation("no-such-search", 1, {"x": 0.2})
