"""Behaviour every store must show, run on a real SQLite file."""

import sqlite3

import pytest

from hyperfleet.store import EvaluationState, SearchState, SqlStore, StoreError


@pytest.fixture
def store(tmp_path):
    s = SqlStore(tmp_path / "hf.db")
    yield s
    s.close()


def _search(store, label="demo"):
    return store.create_search(label, "/tmp/f", {"dims": []}, {"max_evals": 3}, problem_path="p.py:Problem",
                               run_path="r.py:run")


def test_search_round_trip(store):
    record = _search(store)
    again = store.get_search(record.id)
    assert again.label == "demo" and again.state == SearchState.CREATED
    assert again.settings == {"max_evals": 3} and again.run_path == "r.py:run"
    store.update_search(record.id, state=SearchState.RUNNING, start_time=10.0)
    assert store.get_search(record.id).state == SearchState.RUNNING


def test_evaluations_states_and_summary(store):
    search = _search(store)
    a = store.create_evaluation(search.id, 0, {"x": 1}, state=EvaluationState.RUNNING)
    b = store.create_evaluation(search.id, 1, {"x": 2}, state=EvaluationState.RUNNING)
    c = store.create_evaluation(search.id, 2, {"x": 3}, state=EvaluationState.RUNNING)
    store.update_evaluation(a.id, state=EvaluationState.DONE, objective=0.5, metadata={"loss": [1, 2]})
    store.update_evaluation(b.id, state=EvaluationState.FAILED, error="boom")
    summary = store.summary(search.id)
    assert (summary.done, summary.failed, summary.running, summary.total) == (1, 1, 1, 3)
    assert summary.best == 0.5
    done = store.list_evaluations(search.id, [EvaluationState.DONE])
    assert [e.id for e in done] == [a.id] and done[0].metadata == {"loss": [1, 2]}
    assert [e.number for e in store.list_evaluations(search.id)] == [0, 1, 2]
    assert store.find_evaluations(c.id[:10])[0].config == {"x": 3}


def test_evaluation_numbers_are_unique_per_search(store):
    search = _search(store)
    store.create_evaluation(search.id, 0, {})
    with pytest.raises(Exception):
        store.create_evaluation(search.id, 0, {})


def test_resolve_by_label_latest_and_by_id_prefix(store):
    first = _search(store, "mnist")
    second = _search(store, "mnist")
    other = _search(store, "other")
    assert store.resolve_search("mnist").id == second.id
    assert store.resolve_search(first.id[:8]).id == first.id
    assert store.resolve_search(other.id).id == other.id
    with pytest.raises(StoreError, match="no search with label or id 'nope'"):
        store.resolve_search("nope")


def test_ambiguous_prefix_is_reported(store):
    for _ in range(40):
        _search(store)
    ids = [s.id for s in store.list_searches()]
    prefix = next(i[0] for i in ids if sum(j.startswith(i[0]) for j in ids) > 1)
    with pytest.raises(StoreError, match="matches .* searches"):
        store.resolve_search(prefix)


def test_persists_across_reopen_and_is_wal(tmp_path):
    path = tmp_path / "hf.db"
    s = SqlStore(path)
    record = _search(s)
    s.close()
    again = SqlStore(str(path))
    assert again.get_search(record.id).label == "demo"
    again.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT value FROM hyperfleet_meta WHERE key='schema_version'").fetchone() == ("2",)


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "hf.db"
    SqlStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE hyperfleet_meta SET value='99' WHERE key='schema_version'")
    with pytest.raises(StoreError, match="schema version 99"):
        SqlStore(path)


def test_bad_locations(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        SqlStore(tmp_path / "missing" / "hf.db")
    not_db = tmp_path / "notes.txt"
    not_db.write_text("this is not a database " * 100)
    with pytest.raises(StoreError, match="cannot open store"):
        SqlStore(not_db)
    with pytest.raises(StoreError, match="cannot use store URL"):
        SqlStore("nosuchdialect://user:secret@host/db")


def test_version_1_store_is_migrated(tmp_path):
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
        assert conn.execute("SELECT value FROM hyperfleet_meta").fetchone() == ("2",)
