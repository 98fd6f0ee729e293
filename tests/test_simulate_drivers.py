"""Several simulated drivers on one search (hyperfleet.simulate with drivers=K): a shared budget,
results shared through the store, each driver's ask charged to its own workers only."""

import time
from dataclasses import replace

import pytest

from hyperfleet import HpProblem, RandomSearch
from hyperfleet.search import Search
from hyperfleet.simulate import simulate
from tests.test_simulate import check_invariants, hf, objective, user_files  # noqa: F401


def check_shared_invariants(r, workers, max_evals):
    """The one-driver invariants, except that every driver is also told the others' results."""
    cycles = r.cycles
    assert sum(c.told for c in cycles) >= r.n_evals
    # the results told count once: as if only the first cycle had told them
    r.cycles = [replace(c, told=r.n_evals if i == 0 else 0) for i, c in enumerate(cycles)]
    try:
        check_invariants(r, workers, max_evals)
    finally:
        r.cycles = cycles


@pytest.fixture
def problem() -> HpProblem:
    p = HpProblem()
    p.add_dim("x", (0.0, 1.0))
    return p


class PerPointAsk(RandomSearch):
    """Random search whose ask sleeps 2 ms per configuration asked (a model costing per point)."""

    def _ask(self, n):
        time.sleep(0.002 * n)
        return super()._ask(n)


@pytest.mark.parametrize("drivers", [2, 3, 5])
@pytest.mark.parametrize("workers, max_evals", [(10, 37), (16, 200)])
def test_the_budget_is_shared_and_never_exceeded(problem, drivers, workers, max_evals):
    r = simulate(problem, objective, search="random", workers=workers, max_evals=max_evals,
                 duration="lognormal:60:0.5", seed=1, drivers=drivers)
    check_shared_invariants(r, workers, max_evals)
    assert r.n_evals == max_evals and r.drivers == drivers
    assert {c.driver for c in r.cycles} == set(range(drivers))
    for e in r.evaluations:  # a driver launches on its own workers only
        owner = [c.driver for c in r.cycles if c.start + c.charged == e.start]
        assert e.worker % drivers in owner


def test_every_driver_learns_the_others_results_through_the_store(problem):
    r = simulate(problem, objective, search="random", workers=12, max_evals=120,
                 duration="lognormal:60:0.5", seed=0, drivers=3, store_latency=0.5)
    own = sum(1 for e in r.evaluations if e.worker % 3 == 0)
    # the first driver told its search its own results and (nearly) all of the others'
    assert own < 50 < len(r.search.history) <= 120
    told_other = sum(c.told for c in r.cycles) - r.n_evals
    assert told_other > 0


def test_results_stay_invisible_for_the_store_latency(problem):
    r = simulate(problem, objective, search="random", workers=12, max_evals=120,
                 duration="lognormal:60:0.5", seed=0, drivers=3, store_latency=1e9)
    own = sum(1 for e in r.evaluations if e.worker % 3 == 0)
    assert len(r.search.history) == own  # nothing recorded by the others was visible yet


def test_each_driver_is_charged_only_its_own_ask(problem):
    # one driver: each of the 5 waves waits 64 x 2 ms of ask before its workers start
    one = simulate(problem, objective, search=PerPointAsk(problem, seed=0), workers=64,
                   max_evals=320, duration="constant:60", seed=0)
    assert one.makespan >= 300 + 5 * 0.128
    four = simulate(problem, objective, search="random", workers=64, max_evals=320,
                    duration="constant:60", seed=0, drivers=4)
    assert four.makespan < 300 + 0.1  # a cheap ask, shared by 4 drivers


def test_no_drain_with_several_drivers_keeps_every_worker_busy(problem):
    r = simulate(problem, objective, search="random", workers=32, max_evals=300,
                 duration="lognormal:60:0.5", seed=2, drivers=4, drain=False)
    assert r.n_evals >= 300 and r.n_cancelled > 0
    assert r.utilization > 0.999
    assert sum(1 for e in r.evaluations if not e.cancelled) == r.n_evals


def test_ambs_drivers_propose_distinct_points_for_their_own_workers():
    p = HpProblem()
    p.add_dim("x", (0.0, 1.0))
    p.add_dim("y", (0.0, 1.0))
    r = simulate(p, lambda c: -(c["x"] - 0.3) ** 2 - (c["y"] - 0.6) ** 2, search="ambs", workers=8,
                 max_evals=48, duration="lognormal:60:0.5", seed=0, drivers=2, overhead_scale=0)
    assert r.n_evals == 48 and r.best_objective > -0.05
    assert len({p.key(e.config) for e in r.evaluations}) == 48


@pytest.mark.parametrize("kwargs, message", [
    (dict(drivers=0), "drivers must be an integer >= 1"),
    (dict(drivers=9), "9 drivers for 8 workers"),
    (dict(drivers=2, store_latency=-1), "store_latency must be >= 0"),
])
def test_bad_driver_arguments(problem, kwargs, message):
    with pytest.raises(ValueError, match=message):
        simulate(problem, objective, search="random", workers=8, max_evals=10, **kwargs)


def test_several_drivers_need_a_search_by_name(problem):
    with pytest.raises(ValueError, match="several drivers need a search by name"):
        simulate(problem, objective, search=RandomSearch(problem), workers=8, max_evals=10,
                 drivers=2)
    assert issubclass(PerPointAsk, Search)


def test_cli_drivers(user_files):  # noqa: F811
    res = hf("simulate", "-p", str(user_files / "problem.py"), "-r", str(user_files / "run.py"),
             "--workers", "16", "--max-evals", "64", "--duration", "lognormal:60:0.5",
             "--search", "random", "--seed", "0", "--drivers", "4", "--store-latency", "0.2",
             "--quiet")
    assert res.exit_code == 0, res.output
    assert "4 drivers (store latency 0.2 s)" in res.stdout
    res = hf("simulate", "-p", str(user_files / "problem.py"), "-r", str(user_files / "run.py"),
             "--workers", "2", "--max-evals", "4", "--duration", "constant:1", "--drivers", "3")
    assert res.exit_code == 2 and "error: 3 drivers for 2 workers" in res.output
