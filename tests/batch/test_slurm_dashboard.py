"""The dashboard over the store of a search that runs in a real Slurm job: as on a login node
while the allocation works, its live endpoint sees the count rise and the job finish."""

import httpx
import pytest

from hyperfleet.store import SearchState
from tests.batch.test_slurm import hf, project, pytestmark, search_state, slurm_up, wait_for  # noqa: F401 - fixtures

__all__ = ["pytestmark"]

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")


def test_dashboard_follows_a_search_running_in_a_slurm_job(project):  # noqa: F811
    from tests.dashboard.conftest import Served

    out = hf(["submit", "-p", "problem.py", "-r", "synthetic_run.py", "-t", "5", "-n", "1", "--slots-per-node", "2",
              "--search", "random", "--max-evals", "24", "hps", "watched"], project, sleep="0.5").stdout
    assert "QUEUED as slurm job" in out
    served = Served(str(project / "hyperfleet.db"))
    try:
        live = f"{served.url}/api/search/watched/live"
        seen = []

        def running_and_counting():
            data = httpx.get(live, timeout=60).json()
            seen.append((data["state"], data["finished"]))
            return data["state"] == "RUNNING" and 0 < data["finished"] < 24

        wait_for(running_and_counting, limit=240, what="the job to run and report evaluations", project=project)
        wait_for(lambda: search_state(project, "watched").state == SearchState.FINISHED, limit=240,
                 what="the job to finish", project=project)
        final = httpx.get(live, timeout=60).json()
        assert final["state"] == "FINISHED" and final["finished"] == 24
        counts = [n for _, n in seen]
        assert counts == sorted(counts) and final["finished"] > counts[-1]
        front = httpx.get(served.url + "/api/searches", timeout=60).json()
        assert [s["finished"] for s in front["searches"] if s["label"] == "watched"] == [24]
    finally:
        served.stop()
