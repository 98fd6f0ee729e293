"""A SQLite store written by hyperfleet at schema version 7 (commit e7253de: a random search of 5
serial evaluations of testing/runs.py:quadratic, label old-v7) opens, migrates to version 8,
whose index on (search_id, end_time) serves the dashboard's live query, with nothing lost."""

import shutil
from pathlib import Path

import sqlalchemy as sa

from hyperfleet.dashboard.queries import live
from hyperfleet.store import SqlStore
from hyperfleet.store.schema import SCHEMA_VERSION

FIXTURE = Path(__file__).parent / "data" / "store-v7.db"


def test_store_written_by_version_7_is_migrated_and_its_live_query_uses_the_index(tmp_path):
    path = tmp_path / "v7.db"
    shutil.copy(FIXTURE, path)
    with sa.create_engine(f"sqlite:///{path}").connect() as conn:  # what version 7 left
        names = {r[1] for r in conn.exec_driver_sql("PRAGMA index_list(evaluations)")}
        assert "ix_evaluations_search_end" not in names
    store = SqlStore(str(path))
    try:
        [search] = store.list_searches()
        assert search.label == "old-v7" and search.state.value == "FINISHED"
        evaluations = store.list_evaluations(search.id)
        assert [e.number for e in evaluations] == [0, 1, 2, 3, 4]
        assert all(e.state.value == "DONE" and 0 < e.objective <= 1 for e in evaluations)
        with store.engine.connect() as conn:
            version = conn.execute(sa.text("SELECT value FROM hyperfleet_meta WHERE key='schema_version'")).scalar()
            names = {r[1] for r in conn.exec_driver_sql("PRAGMA index_list(evaluations)")}
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT number FROM evaluations WHERE search_id = ? AND end_time > ? "
                "AND state IN ('DONE', 'FAILED') ORDER BY end_time, number LIMIT 100", (search.id, 0.0)))
        assert version == str(SCHEMA_VERSION) == "8"
        assert "ix_evaluations_search_end" in names
        assert "ix_evaluations_search_end" in plan, plan
        rows = live(store, search, since=0.0)["rows"]  # the dashboard's live query
        assert [r[0] for r in rows] == [0, 1, 2, 3, 4] and all(r[3] == "DONE" for r in rows)
    finally:
        store.close()
