"""SqlStore beyond the shared kit: SQLite journal modes, busy waits and file modes; how it fails.

The behaviour every store shares is in test_store_kit.py (hyperfleet.testing.store_kit).
"""

import os
import sqlite3
import stat
import sys
import threading
import time

import pytest
import sqlalchemy as sa

from hyperfleet.store import SCHEMA_VERSION, EvaluationState, SqlStore, StoreError
from hyperfleet.testing.store_kit import new_search


@pytest.fixture(autouse=True)
def _no_journal_from_outside(monkeypatch):
    monkeypatch.delenv("HYPERFLEET_SQLITE_JOURNAL", raising=False)


def _journal(path) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()  # not left for the garbage collector: an open connection pins WAL mode


def test_new_store_is_wal_with_the_current_schema(tmp_path):
    path = tmp_path / "hf.db"
    store = SqlStore(path)
    new_search(store)
    assert store.journal_mode == "wal" and store.url == f"sqlite:///{path}"
    store.close()
    assert _journal(path) == "wal"
    with sqlite3.connect(path) as conn:
        version = conn.execute("SELECT value FROM hyperfleet_meta WHERE key='schema_version'").fetchone()
    assert version == (str(SCHEMA_VERSION),)


@pytest.mark.parametrize("how", ["argument", "url", "environment"])
def test_rollback_journal_mode(tmp_path, monkeypatch, how):
    path = tmp_path / "hf.db"
    if how == "argument":
        store = SqlStore(path, journal_mode="delete")
    elif how == "url":
        store = SqlStore(f"sqlite:///{path}?journal_mode=delete")
    else:
        monkeypatch.setenv("HYPERFLEET_SQLITE_JOURNAL", "DELETE")
        store = SqlStore(path)
    search = new_search(store)
    store.create_evaluation(search.id, 0, {})
    assert store.journal_mode == "delete" and store.url == f"sqlite:///{path}?journal_mode=delete"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hf.db"], "no -wal or -journal file stays"
    assert _journal(path) == "delete"
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    again = SqlStore(store.url)  # the URL reopens it the same way
    assert again.journal_mode == "delete" and again.summary(search.id).total == 1
    store.close()
    again.close()


def test_an_existing_store_keeps_its_journal_mode_unless_told(tmp_path):
    path = tmp_path / "hf.db"
    SqlStore(path, journal_mode="delete").close()
    reader = SqlStore(path)  # forgot the setting: must not switch a network-file-system store to WAL
    assert reader.journal_mode == "delete" and "journal_mode=delete" in reader.url
    reader.close()
    assert _journal(path) == "delete"
    SqlStore(path, journal_mode="wal").close()
    assert _journal(path) == "wal"
    wal = SqlStore(path)
    assert wal.journal_mode == "wal"
    wal.close()
    SqlStore(f"sqlite:///{path}?journal_mode=delete").close()
    assert _journal(path) == "delete"


def test_leaving_wal_while_another_process_has_the_store_open_is_refused(tmp_path):
    path = tmp_path / "hf.db"
    running = SqlStore(path)
    new_search(running)
    with pytest.raises(StoreError, match="it is in WAL mode and another process has it open"):
        SqlStore(path, journal_mode="delete")
    assert running.list_searches()
    running.close()


@pytest.mark.parametrize("how", ["argument", "url", "environment"])
def test_bad_journal_mode_names_the_allowed_ones(tmp_path, monkeypatch, how):
    path = tmp_path / "hf.db"
    with pytest.raises(StoreError, match=r"unknown SQLite journal mode 'truncate' .*'wal' .*'delete'"):
        if how == "argument":
            SqlStore(path, journal_mode="truncate")
        elif how == "url":
            SqlStore(f"sqlite:///{path}?journal_mode=truncate")
        else:
            monkeypatch.setenv("HYPERFLEET_SQLITE_JOURNAL", "truncate")
            SqlStore(path)
    assert not path.exists()


def test_journal_mode_is_for_sqlite_only():
    with pytest.raises(StoreError, match="journal_mode applies to SQLite stores only"):
        SqlStore("postgresql+psycopg://u:secret@127.0.0.1:9/db", journal_mode="delete")


@pytest.mark.parametrize("mode", ["wal", "delete"])
def test_a_writer_waits_for_a_lock_instead_of_failing(tmp_path, mode):
    """Another process writing (or, with the rollback journal, reading) makes the store wait, not fail."""
    path = tmp_path / "hf.db"
    store = SqlStore(path, journal_mode=mode)
    search = new_search(store)
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE searches SET message = 'held'")
    threading.Timer(1.0, lambda: other.execute("COMMIT")).start()
    start = time.time()
    store.create_evaluation(search.id, 0, {})
    assert 0.8 < time.time() - start < 20
    assert store.get_search(search.id).message == "held"
    other.close()
    store.close()


def test_wal_readers_never_block_the_writer(tmp_path):
    path = tmp_path / "hf.db"
    store = SqlStore(path)
    search = new_search(store)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM evaluations").fetchone() == (0,)  # holds a snapshot
    start = time.time()
    for n in range(20):
        store.create_evaluation(search.id, n, {}, state=EvaluationState.DONE, objective=n)
    assert time.time() - start < 5
    assert reader.execute("SELECT count(*) FROM evaluations").fetchone() == (0,)
    reader.execute("COMMIT")
    assert reader.execute("SELECT count(*) FROM evaluations").fetchone() == (20,)
    reader.close()
    store.close()


@pytest.mark.parametrize("mode", ["wal", "delete"])
def test_new_store_files_are_private(tmp_path, mode):
    old = os.umask(0o022)
    try:
        store = SqlStore(tmp_path / "hf.db", journal_mode=mode)
        reader = SqlStore(tmp_path / "hf.db", journal_mode=mode)
        search = new_search(store)
        reader.summary(search.id)
        files = sorted(p.name for p in tmp_path.iterdir())
        assert files == (["hf.db", "hf.db-shm", "hf.db-wal"] if mode == "wal" else ["hf.db"])
        for name in files:
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
        store.close()
        reader.close()
    finally:
        os.umask(old)


def test_an_existing_file_keeps_its_mode(tmp_path):
    path = tmp_path / "shared.db"
    path.touch(mode=0o640)
    os.chmod(path, 0o640)  # a store the team shares on purpose
    SqlStore(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_bad_locations(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        SqlStore(tmp_path / "missing" / "hf.db")
    not_db = tmp_path / "notes.txt"
    not_db.write_text("this is not a database " * 100)
    with pytest.raises(StoreError, match="cannot open store .*notes.txt: file is not a database"):
        SqlStore(not_db)
    with pytest.raises(StoreError, match="cannot use store URL nosuchdialect://user:\\*\\*\\*@host/db"):
        SqlStore("nosuchdialect://user:secret@host/db")


def test_version_1_sqlite_store_is_migrated(tmp_path):
    """A store exactly as hyperfleet 0.1 wrote it (the kit builds version 1 with SQLAlchemy instead)."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript("""
            CREATE TABLE hyperfleet_meta (key VARCHAR(64) PRIMARY KEY, value VARCHAR(256) NOT NULL);
            INSERT INTO hyperfleet_meta VALUES ('schema_version', '1');
            CREATE TABLE searches (id VARCHAR(36) PRIMARY KEY, label VARCHAR(256) NOT NULL,
                state VARCHAR(16) NOT NULL, folder TEXT NOT NULL, problem_path TEXT, run_path TEXT,
                problem JSON NOT NULL, settings JSON NOT NULL, created_time FLOAT, start_time FLOAT,
                end_time FLOAT, message TEXT);
            INSERT INTO searches (id, label, state, folder, problem, settings)
                VALUES ('abc', 'old', 'FINISHED', '/tmp', '{}', '{}');
        """)
    store = SqlStore(path)
    record = store.get_search("abc")
    assert record.label == "old" and record.job_id is None
    store.update_search("abc", scheduler="slurm", job_id="42")
    assert store.get_search("abc").job_id == "42"
    store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM hyperfleet_meta").fetchone() == (str(SCHEMA_VERSION),)


# ----- PostgreSQL: how it fails ---------------------------------------------------------------------
def test_missing_postgres_driver_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if psycopg were not installed
    for url in ("postgresql+psycopg://hf:s3cret@127.0.0.1:9/hf", "postgresql://hf:s3cret@127.0.0.1:9/hf"):
        with pytest.raises(StoreError) as info:
            SqlStore(url)
        message = str(info.value)
        assert "pip install 'hyperfleet[postgres]'" in message and "s3cret" not in message
        assert "\n" not in message


def test_unreachable_postgres_is_one_line_without_the_password():
    pytest.importorskip("psycopg")
    start = time.time()
    with pytest.raises(StoreError) as info:
        SqlStore("postgresql://hf:s3cret@127.0.0.1:9/hf")  # nothing listens on port 9
    message = str(info.value)
    assert message.startswith("cannot connect to store postgresql+psycopg://hf:***@127.0.0.1:9/hf: ")
    assert "Connection refused" in message and "s3cret" not in message and "\n" not in message
    assert time.time() - start < 15


@pytest.mark.parametrize("url", ["postgresql://hf@127.0.0.1:9/hf?password=s3cret",
                                 "postgresql://hf@127.0.0.1:9/hf?sslmode=prefer&sslpassword=s3cret",
                                 "postgresql://hf:s3cret@127.0.0.1:9/hf?passfile=/home/hf/s3cret"])
def test_no_form_of_a_store_secret_is_shown(url):
    from hyperfleet.store.engines import has_secret, safe_url

    pytest.importorskip("psycopg")
    assert has_secret(url) and "s3cret" not in safe_url(url) and "127.0.0.1:9" in safe_url(url)
    with pytest.raises(StoreError) as info:
        SqlStore(url)
    assert "s3cret" not in str(info.value) and "cannot connect to store" in str(info.value)
    assert not has_secret("postgresql://hf@127.0.0.1:9/hf?sslmode=require")


def test_bad_postgres_credentials_are_one_line_without_the_password(postgres_url):
    url = sa.engine.make_url(postgres_url)
    wrong = url.set(password="not-the-password-42").render_as_string(hide_password=False)
    with pytest.raises(StoreError) as info:
        SqlStore(wrong)
    message = str(info.value)
    assert "password authentication failed" in message, message
    assert "not-the-password-42" not in message and str(url.password) not in message and "\n" not in message
    no_db = url.set(database="no_such_database").render_as_string(hide_password=False)
    with pytest.raises(StoreError, match='database "no_such_database" does not exist'):
        SqlStore(no_db)


def test_postgres_url_round_trip(postgres_schema_url):
    store = SqlStore(postgres_schema_url.replace("postgresql+psycopg://", "postgresql://"))
    assert store.url.startswith("postgresql+psycopg://") and store.journal_mode is None
    search = new_search(store)
    again = SqlStore(store.url)  # what a batch job is given
    assert again.get_search(search.id).label == "demo"
    again.close()
    store.close()
