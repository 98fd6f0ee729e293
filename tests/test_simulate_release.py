"""Releasing idle workers in the drain (``simulate(..., release_idle=True)``, ``--release-idle``):
a worker the budget has no more work for stops being held, as an ``--elastic`` search ends its
idle worker jobs."""

import pytest

from hyperfleet import HpProblem
from hyperfleet.simulate import simulate
from tests.test_simulate import check_invariants, hf, objective, user_files  # noqa: F401
from tests.test_simulate_drivers import check_shared_invariants


@pytest.fixture
def problem() -> HpProblem:
    p = HpProblem()
    p.add_dim("x", (0.0, 1.0))
    return p


def _last_end_per_worker(r):
    last = {}
    for e in r.evaluations:
        last[e.worker] = max(last.get(e.worker, 0.0), e.end)
    return last


@pytest.mark.parametrize("drivers", [1, 3])
def test_a_free_driver_releases_each_worker_when_its_last_evaluation_ends(problem, drivers):
    kw = dict(search="random", workers=24, max_evals=150, duration="lognormal:60:0.5", seed=3,
              overhead_scale=0, drivers=drivers)
    held = simulate(problem, objective, **kw)
    freed = simulate(problem, objective, release_idle=True, **kw)
    (check_invariants if drivers == 1 else check_shared_invariants)(freed, 24, 150)
    # the release changes nothing in what runs, only how long the workers are held
    assert [(e.worker, e.start, e.end) for e in freed.evaluations] == \
        [(e.worker, e.start, e.end) for e in held.evaluations]
    assert freed.makespan == held.makespan and freed.utilization == held.utilization
    last = _last_end_per_worker(freed)
    assert freed.n_released == len(last) == 24
    # held until its last evaluation ended, released at once after it (the driver is free)
    assert freed.held_time == pytest.approx(sum(last.values()), rel=1e-12)
    assert freed.held_time < 24 * freed.makespan
    # never idle before its last evaluation: every second held was finished work
    assert freed.held_utilization == pytest.approx(1.0, rel=1e-9)
    assert held.held_utilization == pytest.approx(held.utilization) and held.utilization < 0.95
    assert held.n_released == 0 and not held.release_idle
    data = freed.to_dict()
    assert data["release_idle"] is True and data["n_released"] == 24
    assert data["held_utilization"] == freed.held_utilization
    assert "released idle       24 workers" in freed.summary()
    assert "released idle" not in held.summary()


def test_workers_beyond_the_budget_are_released_at_the_first_cycle(problem):
    r = simulate(problem, objective, search="random", workers=10, max_evals=4,
                 duration="constant:30", seed=0, overhead_scale=0, release_idle=True)
    assert r.n_evals == 4 and r.n_released == 10
    assert r.held_time == pytest.approx(4 * 30.0)  # the 6 without work are never held
    assert r.utilization == pytest.approx(0.4) and r.held_utilization == pytest.approx(1.0)


def test_a_charged_driver_still_counts_its_wait_in_the_time_held(problem):
    """With the real ask time charged, a worker waits for the driver before each evaluation: the
    time held is more than the finished work, by that wait."""
    r = simulate(problem, objective, search="random", workers=8, max_evals=60,
                 duration="lognormal:5:0.5", seed=2, overhead_scale=50.0, release_idle=True)
    check_invariants(r, 8, 60)
    useful = sum(e.end - e.start for e in r.evaluations)
    assert r.held_time > useful and r.held_utilization == pytest.approx(useful / r.held_time)
    assert r.held_utilization > r.utilization


def test_release_needs_a_drain(problem):
    with pytest.raises(ValueError, match="release_idle needs a drain"):
        simulate(problem, objective, search="random", workers=2, max_evals=4,
                 duration="constant:1", drain=False, release_idle=True)


def test_cli_release_idle(user_files):  # noqa: F811
    res = hf("simulate", "-p", str(user_files / "problem.py"), "-r", str(user_files / "run.py"),
             "--workers", "16", "--max-evals", "64", "--duration", "lognormal:60:0.5",
             "--search", "random", "--seed", "0", "--release-idle", "--quiet")
    assert res.exit_code == 0, res.output
    assert "released idle       16 workers once the budget had no more work for them" in res.stdout
    bad = hf("simulate", "-p", str(user_files / "problem.py"), "-r", str(user_files / "run.py"),
             "--workers", "4", "--max-evals", "8", "--duration", "constant:1", "--no-drain",
             "--release-idle")
    assert bad.exit_code == 2
    assert bad.stderr.strip().startswith("error: release_idle needs a drain")
    assert len(bad.stderr.strip().splitlines()) == 1
