"""A SQLite store written by hyperfleet at schema version 6 (commit 4057f8a: a search with the
``asha`` stopper, one-number reports) opens, migrates to the current version and takes reports with
objective vectors, with nothing lost."""

import shutil
from pathlib import Path

import sqlalchemy as sa

from hyperfleet.store import ReportRecord, SqlStore
from hyperfleet.store.schema import SCHEMA_VERSION

# run_search(problem x in [0.1, 1], testing/runs.py:reports_curve, stopper="asha",
# stopper_settings={"max_step": 5}, search="random", seed=0, max_evals=4, evaluator="serial")
FIXTURE = Path(__file__).parent / "data" / "store-v6-reports.db"


def test_store_written_by_version_6_is_migrated(tmp_path):
    path = tmp_path / "v6.db"
    shutil.copy(FIXTURE, path)
    store = SqlStore(str(path))
    try:
        [search] = store.list_searches()
        assert search.label == "old-v6" and search.settings["stopper"] == "asha"
        old = store.list_reports(search.id)
        assert len(old) == 8 and all(r.objectives is None and r.constraints is None for r in old)
        assert [r.seq for r in old] == sorted(r.seq for r in old)
        first = store.list_evaluations(search.id)[0]
        store.add_reports(search.id, [ReportRecord(first.id, 100, 99, 0.5, 1.0, [0.5, -2.0], [0.1])])
        with store.engine.connect() as conn:
            version = conn.execute(sa.text("SELECT value FROM hyperfleet_meta "
                                           "WHERE key='schema_version'")).scalar()
        assert version == str(SCHEMA_VERSION) == "8"
    finally:
        store.close()
    again = SqlStore(str(path))
    try:
        reports = again.list_reports(search.id)
        assert reports[:-1] == old
        assert reports[-1].objectives == [0.5, -2.0] and reports[-1].constraints == [0.1]
    finally:
        again.close()
