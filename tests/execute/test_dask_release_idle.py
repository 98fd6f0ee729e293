"""The drain on a real Dask cluster: with ``release_idle``, workers with nothing left to run end.

Three workers of a real ``LocalCluster``, four evaluations: three short ones and one long one
that starts on the first worker to free up. Once the fourth has started the budget has no more
work, so the two workers that finish their short evaluation are retired while the long one still
runs (and the last one once it ends); without ``release_idle`` all three are held until the search ends.
"""

import time

import pytest

from hyperfleet import HpProblem
from hyperfleet.api import run_search
from hyperfleet.execute.dask import DaskExecutor
from hyperfleet.store import SqlStore
from hyperfleet.testing import executor_kit as kit

distributed = pytest.importorskip("distributed")

RUN = '''
import os, time

def run(config):
    if config["x"] == "long":
        time.sleep(float(os.environ["LONG_S"]))
    else:
        time.sleep(0.3)
    return {"a": 1.0, "b": 2.0, "c": 3.0, "long": 4.0}[config["x"]]
'''


def _problem():
    problem = HpProblem()
    problem.add_dim("x", ["a", "b", "c", "long"])
    for x in ("a", "b", "c", "long"):
        problem.add_starting_point(x=x)
    return problem


class _WorkersSeen:
    """A driver callback: how many workers the cluster has at each result."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.seen = []

    def on_done(self, record, stats):
        time.sleep(1.5)  # the retirement is asynchronous
        self.seen.append((record.config["x"], len(self.cluster.scheduler_info["workers"])))


@pytest.mark.parametrize("release", [True, False])
def test_idle_workers_are_released_in_the_drain(tmp_path, monkeypatch, release):
    (tmp_path / "run.py").write_text(RUN)
    monkeypatch.setenv("LONG_S", "12")
    cluster = distributed.LocalCluster(n_workers=3, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    try:
        seen = _WorkersSeen(cluster)
        ex = DaskExecutor(client=cluster, release_idle=release)
        store = SqlStore(tmp_path / "hf.db")
        result = run_search(_problem(), str(tmp_path / "run.py"), search="random", max_evals=4,
                            evaluator=ex, store=store, label="drain", callbacks=[seen], seed=0)
        assert result.stats.done == 4 and result.stats.failed == 0
        # every evaluation finished, the long one last
        assert seen.seen[-1][0] == "long"
        workers_at_long_end = seen.seen[-1][1]
        if release:
            # two while the long one ran, the last worker once it had finished
            assert ex.released == 3
            assert workers_at_long_end == 1, seen.seen
        else:
            assert ex.released == 0
            assert workers_at_long_end == 3, seen.seen
        rows = store.list_evaluations(store.resolve_search("drain").id)
        assert sorted(r.objective for r in rows) == [1.0, 2.0, 3.0, 4.0]
        store.close()
    finally:
        cluster.close()


def test_no_release_while_an_evaluation_waits_for_a_worker(tmp_path):
    """Two workers, three evaluations submitted at once: the third waits in the scheduler's
    queue, so no worker may be released before it has one."""
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    try:
        ex = DaskExecutor(client=cluster, release_idle=True)
        tasks = [kit.task("sleeps_and_records_pid", tmp_path, seconds=2.0) for _ in range(3)]
        for t in tasks:
            ex.submit(t)
        time.sleep(0.5)
        assert ex.release_idle() == 0  # two busy, one queued
        assert len(cluster.scheduler_info["workers"]) == 2
        done = kit.collect(ex, 3)
        assert sorted(o.eval_id for o in done) == sorted(t.eval_id for t in tasks)
        assert all(o.state == "DONE" for o in done)
        time.sleep(1.1)
        assert ex.release_idle() == 2  # nothing left: both go
        ex.shutdown()
    finally:
        cluster.close()
