"""`hyperfleet submit --drivers 2` in a real Slurm job: two drivers on one search, nothing lost."""

import csv
from pathlib import Path

from hyperfleet.store import EvaluationState, MemberState, SearchState, SqlStore
from tests.batch.test_slurm import hf, project, pytestmark, search_state, slurm_up, wait_for  # noqa: F401 - fixtures

__all__ = ["pytestmark"]


def test_submit_with_two_drivers_runs_one_search(project):  # noqa: F811
    out = hf(["submit", "-p", "problem.py", "-r", "synthetic_run.py", "-t", "5", "-n", "1", "--slots-per-node", "4",
              "--drivers", "2", "--search", "random", "--max-evals", "40", "hps", "two-drivers"], project,
             sleep="0.2").stdout
    assert "QUEUED as slurm job" in out
    wait_for(lambda: search_state(project, "two-drivers").state == SearchState.FINISHED, limit=240,
             what="the job to finish", project=project)
    record = search_state(project, "two-drivers")
    store = SqlStore(project / "hyperfleet.db")
    try:
        evals = store.list_evaluations(record.id)
        members = store.list_members(record.id)
    finally:
        store.close()
    counted = [e for e in evals if e.state != EvaluationState.CANCELLED]
    assert len(counted) == 40 and all(e.state == EvaluationState.DONE for e in counted)
    assert len({e.number for e in evals}) == len(evals)
    assert [m.role for m in members] == ["primary", "member"]
    assert all(m.state == MemberState.LEFT and m.workers == 2 for m in members)
    assert {e.driver_id for e in counted} == {m.id for m in members}, "a driver of the job ran nothing"
    with open(Path(record.folder) / "results.csv") as f:
        assert len(list(csv.reader(f))) == 41
    script = next(Path(record.folder).glob("batch-*.slurm.sh")).read_text()
    assert "--join" in script and "--queued-only" in script
