"""Telling a search trainings stopped early: ``(config, objective, step)``."""

import numpy as np
import pytest

from hyperfleet import HpProblem, RandomSearch
from hyperfleet.search.ambs import AMBS
from hyperfleet.search.ambs.stopped import stopped_as


def problem():
    p = HpProblem()
    p.add_dim("x", (0.0, 1.0))
    return p


def test_base_accepts_both_forms_and_records_the_step():
    s = RandomSearch(problem(), seed=0)
    a, b, c = s.ask(3)
    s.tell([(a, 0.5), (b, 0.2, 3), (c, 0.1, None)])
    assert s.history == [(a, 0.5), (b, 0.2), (c, 0.1)]
    assert s.stopped_at == {s.problem.key(b): 3}
    assert not s.pending
    with pytest.raises(ValueError, match="positive integer"):
        s.tell([(a, 0.5, 0)])
    with pytest.raises(ValueError, match=r"\(config, objective, step\)"):
        s.tell([(a,)])


def test_stopped_is_not_failed():
    s = AMBS(problem(), seed=0)
    configs = s.ask(4)
    s.tell([(configs[0], 0.9), (configs[1], 0.8), (configs[2], 0.3, 2), (configs[3], None)])
    U, y = s._training_data()
    # the failure takes the worst value; the stopped one keeps its place above it ... or equal
    assert y[3] == y.min() and y[2] >= y[3]
    assert y[2] < 0.8  # below every full training


def test_rank_transform_orders_stopped_below_full_by_step_then_value():
    U = np.zeros((6, 1))
    y = np.array([0.9, 0.7, 0.95, 0.1, 0.5, 0.6])
    step = np.array([0, 0, 1, 1, 3, 3])
    _, out = stopped_as("rank", U, y, step)
    assert list(out[:2]) == [0.9, 0.7]
    assert out[2:].max() < 0.7
    # step first (3 beats 1 whatever the values), then the value
    assert out[3] < out[2] < out[4] < out[5]
    _, last = stopped_as("last", U, y, step)
    assert list(last) == list(y)
    Ud, yd = stopped_as("drop", U, y, step)
    assert list(yd) == [0.9, 0.7] and len(Ud) == 2


def test_ambs_with_stopped_results_keeps_proposing_unseen_configurations():
    for mode in ("rank", "last", "drop"):
        s = AMBS(problem(), seed=1, stopped=mode)
        seen = set()
        for i in range(14):
            [c] = s.ask(1)
            key = s.problem.key(c)
            assert key not in seen
            seen.add(key)
            s.tell([(c, -(c["x"] - 0.3) ** 2, 2 if i % 3 else None)])


def test_ambs_stopped_setting_is_validated():
    with pytest.raises(ValueError, match="AMBS setting 'stopped': must be one of rank, last, drop"):
        AMBS(problem(), stopped="keep")
