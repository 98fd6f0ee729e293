"""Early stopping inside a real Slurm job: `hyperfleet submit --stopper ...` records the stopper,
the job's driver stops the trainings, and the store shows them STOPPED with their curves."""

import shutil

import pytest

from hyperfleet.store import EvaluationState, SearchState, SqlStore
from tests.batch.test_slurm import hf, search_state, slurm_up, wait_for  # noqa: F401 - slurm_up: autouse fixture
from tests.conftest import TUTORIAL

pytestmark = pytest.mark.skipif(shutil.which("sbatch") is None,
                                reason="Slurm is not installed here (.ci/run installs and starts it)")

RUN = """
import time
import hyperfleet

def run(config):
    value = 0.0
    for epoch in range(1, 9):
        value = (1.0 - config['dropout_1']) * epoch / 8
        if not hyperfleet.report(value, step=epoch):
            break
        time.sleep(0.02)
    return value
"""


def test_submit_with_a_stopper_stops_trainings_in_the_job(tmp_path):
    shutil.copy(TUTORIAL / "problem.py", tmp_path / "problem.py")
    (tmp_path / "curve_run.py").write_text(RUN)
    out = hf(["submit", "-p", "problem.py", "-r", "curve_run.py", "-t", "5", "-n", "1", "--search", "random",
              "--max-evals", "8", "--stopper", "fixed", "--stopper-setting", "step=2", "hps", "early-job"],
             tmp_path).stdout
    assert "QUEUED as slurm job" in out
    assert search_state(tmp_path, "early-job").settings["stopper_settings"] == {"step": 2}
    wait_for(lambda: search_state(tmp_path, "early-job").state == SearchState.FINISHED,
             what="the job to finish", project=tmp_path)
    db = SqlStore(tmp_path / "hyperfleet.db")
    search = db.resolve_search("early-job")
    start, *others = db.list_evaluations(search.id)
    assert start.state == EvaluationState.DONE and start.last_step == 8  # the starting point: protected
    assert len(others) == 7
    for e in others:
        assert e.state == EvaluationState.STOPPED and e.last_step == 2, (e.state, e.error)
        assert [r.step for r in db.list_reports(search.id, [e.id])] == [1, 2]
    assert "1 done, 7 stopped" in hf(["ls", "early-job"], tmp_path).stdout
    bad = hf(["submit", "-p", "problem.py", "-r", "curve_run.py", "-t", "5", "--stopper", "nosuch", "bad-stopper"],
             tmp_path, check=False)
    assert bad.returncode == 2 and "error: unknown stopper 'nosuch'" in bad.stderr
    assert not SqlStore(tmp_path / "hyperfleet.db").find_searches("bad-stopper")
