"""AMBS batch proposals for many free workers (search/ambs/batching.py): one pool per refit,
reused between completions, cheap at any batch size, distinct points, still finding the optimum."""

import time

import numpy as np
import pytest

from hyperfleet import HpProblem
from hyperfleet.search.ambs import AMBS
from hyperfleet.search.ambs.batching import min_sq_distance
from tests.search.test_ambs import hartmann6, hartmann_problem, mixed_objective, mixed_problem


def told(search, objective, n):
    configs = search.ask(n)
    search.tell([(c, objective(c)) for c in configs])
    return configs


def test_a_large_batch_is_one_pool_and_costs_little_per_point():
    p = mixed_problem()
    search = AMBS(p, seed=0)
    told(search, mixed_objective, 60)
    c0 = time.process_time()
    batch = search.ask(1024)
    cpu = time.process_time() - c0
    assert len({p.key(c) for c in batch}) == 1024
    assert search._batch.builds == 1
    # before batch proposals this ask ran a constant liar with 1,024 fantasies and an acquisition
    # optimisation per point: minutes of CPU; the pool takes about a second
    assert cpu < 15, f"ask(1024) took {cpu:.1f} s of CPU"


def test_one_worker_and_small_batches_never_use_the_pool():
    p = hartmann_problem()
    search = AMBS(p, seed=0)
    for _ in range(15):
        told(search, hartmann6, 1)
    told(search, hartmann6, 8)
    assert search._batch.builds == 0 and search._batch.reuses == 0


def test_the_surrogate_and_its_pool_are_reused_until_enough_results_arrived():
    p = hartmann_problem()
    search = AMBS(p, seed=1)
    told(search, hartmann6, 300)
    running = search.ask(200)  # many pending: batch proposals
    assert search._batch.builds == 1
    fitted = search._model
    search.tell([(c, hartmann6(c)) for c in running[:2]])  # 2 < 1 % of 302: reuse
    more = search.ask(2)
    assert search._batch.builds == 1 and search._batch.reuses == 1
    assert search._model is fitted
    assert not {p.key(c) for c in more} & {p.key(c) for c in running}
    search.tell([(c, hartmann6(c)) for c in running[2:6]])  # 6 >= ceil(1 % of 300): refit
    search.ask(2)
    assert search._batch.builds == 2


def test_batch_points_are_spread_by_the_penalty():
    p = hartmann_problem()
    search = AMBS(p, seed=2)
    told(search, hartmann6, 40)
    U = p.to_array(search.ask(300))
    d2 = [min_sq_distance(U[i:i + 1], np.delete(U, i, axis=0))[0] for i in range(len(U))]
    # 300 points asked at once do not pile up on the incumbent
    assert np.median(np.sqrt(d2)) > 0.05


def test_batches_converge_on_hartmann6():
    p = hartmann_problem()
    search = AMBS(p, seed=0)
    best = max(hartmann6(c) for c in told(search, hartmann6, 128))
    for _ in range(5):
        best = max(best, max(hartmann6(c) for c in told(search, hartmann6, 128)))
    assert best > 3.0  # optimum 3.32237; random search with 768 points reaches ~2.6


def test_a_small_finite_space_is_exhausted_without_repeats_in_one_batch():
    p = HpProblem()
    p.add_dim("n", (1, 10))
    p.add_dim("opt", ["sgd", "adam", "rms"])
    search = AMBS(p, seed=0)
    told(search, lambda c: -abs(c["n"] - 3) + (c["opt"] == "adam"), 5)
    batch = search.ask(100)
    keys = [p.key(c) for c in batch]
    assert len(set(keys[:25])) == 25  # 30 configurations, 5 told: every unseen one first
    assert not set(keys[:25]) & {p.key(c) for c, *_ in search.history}


def test_the_end_of_a_known_budget_picks_neighbours_of_the_best():
    p = hartmann_problem()
    search = AMBS(p, seed=4, budget=400)
    told(search, hartmann6, 300)
    batch = search.ask(100)  # the last 10 % of the budget: the final phase
    best = max(search.history, key=lambda r: r[1])[0]
    dist = np.max(np.abs(p.to_array(batch[-40:]) - p.to_vector(best)), axis=1)
    assert np.median(dist) < 0.35


@pytest.mark.parametrize("settings", [{"batch_above": -2}, {"batch_refit": 2.0}])
def test_bad_batch_settings(settings):
    with pytest.raises(ValueError, match=list(settings)[0]):
        AMBS(hartmann_problem(), **settings)


def test_batch_above_minus_one_keeps_the_per_point_proposals():
    p = mixed_problem()
    search = AMBS(p, seed=0, batch_above=-1, n_candidates=64, n_local=1)
    told(search, mixed_objective, 20)
    search.ask(70)
    assert search._batch.builds == 0
