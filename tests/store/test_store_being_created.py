"""A read-only command that opens a store another process is creating (its file exists a moment
before its tables) waits for it instead of calling it "not a hyperfleet store"; a database that
stays without hyperfleet's tables is still refused, after that short wait."""

import sqlite3
import threading
import time

import pytest

from hyperfleet.store import SqlStore, StoreError, open_store
from hyperfleet.store.schema import CREATION_WAIT_S


def test_a_store_whose_tables_come_a_moment_later_is_opened(tmp_path):
    path = tmp_path / "hyperfleet.db"
    sqlite3.connect(path).execute("PRAGMA journal_mode=wal").fetchall()  # a file, no tables yet
    made = []
    creator = threading.Thread(target=lambda: (time.sleep(0.4), made.append(SqlStore(path))))
    creator.start()
    store = open_store(str(path), create=False)
    try:
        assert store.list_searches() == []
    finally:
        store.close()
        creator.join()
        made[0].close()


def test_a_database_that_stays_foreign_is_refused_after_the_wait(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE mine (x)")
    start = time.monotonic()
    with pytest.raises(StoreError, match="is not a hyperfleet store"):
        open_store(str(path), create=False)
    assert CREATION_WAIT_S <= time.monotonic() - start < CREATION_WAIT_S + 5
