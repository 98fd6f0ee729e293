"""A SQLite store written by hyperfleet at schema version 4 (commit 6fa714d, main before several
drivers) opens, migrates to version 6, and its search is resumed and joined with nothing lost."""

import shutil
from pathlib import Path

import sqlalchemy as sa

from hyperfleet import HpProblem
from hyperfleet.api import continue_search
from hyperfleet.store import EvaluationState, SqlStore
from hyperfleet.store.schema import SCHEMA_VERSION

DATA = Path(__file__).parent / "data"
FIXTURE = DATA / "store-v4.db"  # run_search(problem, "run.py", search="random", max_evals=4, seed=3) with that code
RUN = "def run(c):\n    return c['x'] + c['k'] / 100\n"


def test_store_written_by_version_4_is_migrated_and_resumed(tmp_path):
    path = tmp_path / "store.db"
    shutil.copy(FIXTURE, path)
    (tmp_path / "run.py").write_text(RUN)
    store = SqlStore(str(path))
    try:
        [search] = store.list_searches()
        old = store.list_evaluations(search.id)
        assert [e.state for e in old] == [EvaluationState.DONE] * 4
        assert all(e.driver_id is None and e.done_seq is None for e in old)
        assert store.list_members(search.id) == []
        with store.engine.connect() as conn:
            version = conn.execute(sa.text("SELECT value FROM hyperfleet_meta WHERE key='schema_version'")).scalar()
            indexes = {i["name"] for i in sa.inspect(conn).get_indexes("evaluations")}
        assert version == str(SCHEMA_VERSION)
        assert {"ix_evaluations_search_key", "ix_evaluations_search_done"} <= indexes
        folder = tmp_path / "searches" / "old"
        folder.mkdir(parents=True)
        store.update_search(search.id, folder=str(folder), problem_path=None, run_path=str(tmp_path / "run.py"))
        problem = HpProblem.from_dict(search.problem)
        result = continue_search(search.id, store=store, max_evals=8, evaluator="serial")
        assert result.stats.done == 8
        evals = store.list_evaluations(search.id)
        assert [e.number for e in evals] == list(range(8))
        new = evals[4:]
        assert all(e.driver_id is not None and e.config_key for e in new)
        assert sorted(e.done_seq for e in new) == [1, 2, 3, 4]
        assert len({problem.key(e.config) for e in evals}) == 8
        assert len((folder / "results.csv").read_text().splitlines()) == 9  # the header and every evaluation
        [member] = store.list_members(search.id)
        assert member.role == "primary" and member.id == new[0].driver_id
    finally:
        store.close()
