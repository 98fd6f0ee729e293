"""A SQLite store written by hyperfleet at schema version 2 (commit 4759f50, before early stopping)
opens, migrates and takes intermediate values, with nothing it held lost."""

import shutil
from pathlib import Path

import sqlalchemy as sa

from hyperfleet.store import EvaluationState, ReportRecord, SqlStore
from hyperfleet.store.schema import SCHEMA_VERSION

FIXTURE = Path(__file__).parent / "data" / "store-v2.db"  # run_search(..., max_evals=3) with that code


def test_store_written_by_version_2_is_migrated(tmp_path):
    path = tmp_path / "v2.db"
    shutil.copy(FIXTURE, path)
    store = SqlStore(str(path))
    try:
        [search] = store.list_searches()
        assert search.label == "old-v2" and search.settings["max_evals"] == 3
        evals = store.list_evaluations(search.id)
        assert [e.state for e in evals] == [EvaluationState.DONE] * 3
        assert all(e.objective is not None and e.last_step is None for e in evals)
        store.add_reports(search.id, [ReportRecord(evals[0].id, 1, 1, 0.5, 1.0)])
        store.update_evaluation(evals[1].id, state=EvaluationState.STOPPED, last_step=2, finish_seq=1)
        assert store.summary(search.id).stopped == 1
        with store.engine.connect() as conn:
            version = conn.execute(sa.text("SELECT value FROM hyperfleet_meta WHERE key='schema_version'")).scalar()
        assert version == str(SCHEMA_VERSION)
    finally:
        store.close()
    again = SqlStore(str(path))
    try:
        assert [r.value for r in again.list_reports(again.list_searches()[0].id)] == [0.5]
    finally:
        again.close()
