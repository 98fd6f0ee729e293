"""MO-ASHA on hand-made curves: exact promotions by fronts, crowding and feasibility."""

import math

import numpy as np
import pytest

from hyperfleet.stop import ASHAStopper, MOASHAStopper, MOValue, make_stopper
from hyperfleet.stop.moasha import crowding_distance, ranked_ahead
from hyperfleet.testing import stopper_kit


def test_promotions_by_front_then_crowding():
    s = MOASHAStopper(min_step=1, max_step=9, reduction_factor=3)
    assert s.rungs.steps == [1, 3]
    decisions = [s.report(eid, 1, value) for eid, value in [
        ("a", (1.0, 0.0)),   # alone: goes on
        ("b", (0.0, 1.0)),   # n=2, top 1: a and b both extremes of front 0, nobody ahead
        ("c", (0.5, 0.5)),   # front 0 too, but a and b (extremes) are ahead: stopped
        ("d", (0.6, 0.6)),   # dominates c, on front 0 between a and b: stopped
        ("e", (2.0, 2.0)),   # dominates everyone: goes on
        ("f", (0.1, 0.1)),   # n=6, top 2: e, then a, b, d, c are all ahead: stopped
        ("g", (3.0, -1.0)),  # front 0 with e, both extremes: goes on
    ]]
    assert decisions == [True, True, False, False, True, False, True]
    # the next rung compares only those that reached it
    assert s.report("a", 3, (1.0, 0.0)) is True
    assert s.report("e", 3, (0.5, -0.5)) is False  # dominated by a there (n=2, top 1)
    assert s.report("e", 4, (9.0, 9.0)) is False   # a stop is final


def test_infeasible_rank_after_feasible_then_by_violation():
    s = MOASHAStopper(min_step=1, max_step=9, reduction_factor=2)
    assert s.report("ok", 1, MOValue((0.1, 0.1))) is True
    # far better objectives but violates a constraint: behind the feasible one (n=2, top 1)
    assert s.report("bad", 1, MOValue((5.0, 5.0), violation=2.0)) is False
    assert s.report("ok2", 1, (0.2, 0.0)) is True  # n=3, top 1: front 0 with ok, extremes
    # n=4, top 2: a smaller violation than "bad" but still behind the three feasible
    assert s.report("less_bad", 1, MOValue((9.0, 9.0), violation=0.5)) is False
    Y = np.array([[0.1, 0.1], [5, 5], [0.2, 0.0], [9, 9]])
    v = np.array([0.0, 2.0, 0.0, 0.5])
    assert [ranked_ahead(Y, v, i) for i in range(4)] == [0, 3, 0, 2]


def test_one_objective_is_asha():
    for seed in range(3):
        asha = stopper_kit.interleaved_run(ASHAStopper(max_step=27), n_evals=40, seed=seed)
        mo = stopper_kit.interleaved_run(MOASHAStopper(max_step=27), n_evals=40, seed=seed)
        assert mo == asha


def test_vectors_rebuild_by_replay():
    """Resume replays the recorded calls: the rebuilt stopper decides as the original did."""
    rng = np.random.default_rng(4)
    calls, first = [], MOASHAStopper(max_step=27, reduction_factor=3)
    for i in range(30):
        q = rng.uniform(0.2, 1.0, 2)
        for t in range(1, 28):
            value = MOValue(tuple(q * (1 - math.exp(-t / 5)) + rng.normal(0, 0.01, 2)),
                            violation=float(i % 5 == 0))
            go = first.report(f"e{i}", t, value)
            calls.append((f"e{i}", t, value, go))
            if not go:
                break
        first.finish(f"e{i}", stopped=not go)
        calls.append((f"e{i}", None, None, not go))
    assert any(c[1] is None and c[3] for c in calls) and any(c[1] is None and not c[3] for c in calls)
    again = MOASHAStopper(max_step=27, reduction_factor=3)
    for eid, t, value, go in calls:
        if t is None:
            again.finish(eid, stopped=go)
        else:
            assert again.report(eid, t, value) is go


def test_protected_never_stopped():
    s = make_stopper("moasha", max_step=9)
    s.protect("start")
    for i in range(5):
        s.report(f"good{i}", 1, (1.0 + i, 1.0 + i))
    assert s.report("start", 1, (0.0, 0.0)) is True
    assert s.report("other", 1, (0.0, 0.0)) is False


@pytest.mark.parametrize("value, words", [
    ((0.5, math.nan), "finite"), ((0.5, "x"), "number"), ((), "no objective"),
    ((0.1, 0.2, 0.3), "3 objective value"), (MOValue((0.1, 0.2), violation=math.inf), "finite"),
])
def test_bad_vectors_refused_in_one_line(value, words):
    s = MOASHAStopper(max_step=9)
    s.report("a", 1, (0.5, 0.5))
    with pytest.raises(ValueError, match=words) as info:
        s.report("a", 2, value)
    assert "\n" not in str(info.value)
    assert s.curves["a"].steps == [1]
    assert s.report("a", 2, (0.6, 0.6)) is True


def test_crowding_distance():
    Y = np.array([[0.0, 1.0], [0.25, 0.8], [0.5, 0.5], [1.0, 0.0], [0.5, 0.5]])
    d = crowding_distance(Y)
    assert math.isinf(d[0]) and math.isinf(d[3])
    assert d[1] == pytest.approx(0.5 / 1 + 0.5 / 1)  # gaps (0.5 - 0) and (1.0 - 0.5)
    assert d[2] == d[4]  # duplicates share a value
    assert all(math.isinf(x) for x in crowding_distance(np.array([[0.0, 1.0], [1.0, 0.0]])))


def test_decision_cheap_with_many_vectors():
    s = MOASHAStopper(max_step=27)
    rng = np.random.default_rng(0)
    for i in range(500):
        s.report(f"e{i}", 1, tuple(rng.random(2)))
    import time
    start = time.perf_counter()
    for i in range(50):
        s.report(f"n{i}", 1, tuple(rng.random(2)))
    per_ms = 1000 * (time.perf_counter() - start) / 50
    assert per_ms < 50, f"a decision with 500 vectors at a rung takes {per_ms:.1f} ms"


def test_fast_2d_fronts_match_non_dominated_sort():
    from hyperfleet.pareto import non_dominated_sort
    from hyperfleet.stop.moasha import _fronts_2d

    rng = np.random.default_rng(0)
    for t in range(200):  # with many ties and duplicates (small integers) and without
        n = int(rng.integers(1, 60))
        F = rng.integers(0, 5, (n, 2)).astype(float) if t % 2 else rng.random((n, 2))
        assert (_fronts_2d(F) == non_dominated_sort(F)).all()


def test_shortcuts_decide_as_the_full_ranking():
    from hyperfleet.stop.moasha import goes_on

    rng = np.random.default_rng(1)
    for t in range(80):
        n, k = int(rng.integers(1, 25)), int(rng.integers(2, 4))
        Y = rng.integers(0, 4, (n, k)).astype(float) if t % 2 else rng.random((n, k))
        v = np.where(rng.random(n) < 0.2, rng.random(n), 0.0)
        for top in (1, max(1, n // 3), n):
            for i in range(n):
                assert goes_on(Y, v, i, top) == (ranked_ahead(Y, v, i) < top)
