"""Trainings stopped early in a multi-objective search: told as stopped vectors, ranked below the
full trainings by AMBS, on the full trainings' scale, and never on the Pareto front."""

import numpy as np

from hyperfleet import HpProblem, RandomSearch
from hyperfleet.driver_objectives import told
from hyperfleet.search.ambs import AMBS
from hyperfleet.store import EvaluationRecord, EvaluationState


def problem():
    p = HpProblem()
    p.add_dim("x", (0.0, 1.0))
    p.add_objective("acc")
    p.add_objective("size", "minimize")
    return p


def test_stopped_vectors_are_below_full_ones_on_the_full_ones_scale():
    s = AMBS(problem(), seed=0, n_initial=4)
    a, b, c, d = s.ask(4)
    s.tell([(a, (0.9, 3.0)), (b, (0.5, 1.0)), (c, (0.7, 2.0))])
    s._weights = np.array([0.5, 0.5])
    before = s._scalarized().copy()
    # a training stopped after one epoch: a far lower accuracy than any full one
    s.tell([(d, {"objectives": [0.01, 0.5]}, 1)])
    s._weights = np.array([0.5, 0.5])
    after = s._scalarized()
    assert np.allclose(after[:3], before)  # its partial values do not stretch the scale
    _, y = s._training_data()
    assert y[3] < y[:3].min()  # stopped: below every full training
    assert s.stopped_at == {s.problem.key(d): 1}


def test_stopped_vectors_are_not_on_the_front():
    s = RandomSearch(problem(), seed=0)
    a, b, c = s.ask(3)
    s.tell([(a, (0.9, 3.0)), (b, (0.5, 1.0)), (c, (0.95, 0.5), 2)])  # c would dominate both
    front = [cfg for cfg, _ in s.pareto_front()]
    assert front == [a, b]


def record(state, objective=None, objectives=None, last_step=None):
    return EvaluationRecord(id="e", search_id="s", number=0, config={"x": 0.5}, state=state,
                            objective=objective, objectives=objectives, last_step=last_step)


def test_the_search_is_told_a_stopped_vector_with_its_step():
    p = problem()
    r = record(EvaluationState.STOPPED, 0.4, [0.4, 2.0], 3)
    assert told(r, p) == ({"x": 0.5}, {"objectives": [0.4, 2.0], "constraints": []}, 3)
    # one number reported in a two-objective search (a one-number stopper): nothing to place
    assert told(record(EvaluationState.STOPPED, 0.4, None, 3), p) == ({"x": 0.5}, None)
    single = HpProblem()
    single.add_dim("x", (0.0, 1.0))
    assert told(record(EvaluationState.STOPPED, 0.4, None, 3), single) == ({"x": 0.5}, 0.4, 3)
