"""A SQLite store written by hyperfleet at schema version 4 (commit 6fa714d, before several
objectives) opens, migrates to version 5 and takes objective vectors, with nothing lost."""

import shutil
from pathlib import Path

import sqlalchemy as sa

from hyperfleet.store import EvaluationState, SqlStore
from hyperfleet.store.schema import SCHEMA_VERSION

FIXTURE = Path(__file__).parent / "data" / "store-v4-objectives.db"  # run_search(..., max_evals=3) with that code


def test_store_written_by_version_4_is_migrated(tmp_path):
    path = tmp_path / "v4.db"
    shutil.copy(FIXTURE, path)
    store = SqlStore(str(path))
    try:
        [search] = store.list_searches()
        assert search.label == "old-v4" and search.settings["max_evals"] == 3
        evals = store.list_evaluations(search.id)
        assert [e.state for e in evals] == [EvaluationState.DONE] * 3
        assert all(e.objective is not None and e.objectives is None and e.feasible is None
                   for e in evals)
        store.update_evaluation(evals[0].id, objectives=[1.0, -2.5], constraints=[0.5],
                                feasible=False)
        with store.engine.connect() as conn:
            version = conn.execute(sa.text("SELECT value FROM hyperfleet_meta "
                                           "WHERE key='schema_version'")).scalar()
        assert version == str(SCHEMA_VERSION) == "8"
    finally:
        store.close()
    again = SqlStore(str(path))
    try:
        [first] = [e for e in again.list_evaluations(search.id) if e.id == evals[0].id]
        assert first.objectives == [1.0, -2.5] and first.constraints == [0.5]
        assert first.feasible is False and first.objective == evals[0].objective
    finally:
        again.close()
