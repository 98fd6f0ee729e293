"""AMBS on ordinal / stepped / all-categorical spaces: only grid points, never a repeat."""

import numpy as np

from hyperfleet import AMBS, Categorical, HpProblem
from hyperfleet.search.ambs.encoding import Encoder


def _grid_problem():
    p = HpProblem()
    p.add_dim("units", (16, 128), step=16)          # 8 levels
    p.add_dim("batch", [16, 32, 64, 128])            # 4 levels
    p.add_dim("dropout", (0.0, 0.6), step=0.3)       # 3 levels
    p.add_dim("act", ["relu", "tanh"])               # categorical
    return p  # 192 configurations


def _objective(c):
    return -((c["units"] - 80) / 64) ** 2 - (np.log2(c["batch"]) - 5) ** 2 / 4 \
        - (c["dropout"] - 0.3) ** 2 + 0.2 * (c["act"] == "tanh")


def test_ambs_proposes_only_grid_points_and_no_repeat_until_exhausted():
    p = _grid_problem()
    search = AMBS(p, seed=0, n_initial=6)
    keys = []
    for _ in range(192):
        [c] = search.ask(1)
        assert p.validate(c) == c  # a level of every dimension
        keys.append(p.key(c))
        search.tell([(c, _objective(c))])
    assert len(set(keys)) == 192  # every configuration exactly once
    [c] = search.ask(1)
    assert p.key(c) in set(keys)  # the space is used up: a repeat is the only option


def test_ambs_batches_have_no_repeats_in_a_finite_space():
    p = _grid_problem()
    search = AMBS(p, seed=1, n_initial=8)
    keys = set()
    for _ in range(6):
        batch = search.ask(8)
        new = {p.key(c) for c in batch}
        assert len(new) == 8 and not new & keys
        keys |= new
        search.tell([(c, _objective(c)) for c in batch])


def test_ordinal_finds_the_optimum_of_an_ordered_objective_fast():
    p = HpProblem()
    p.add_dim("w", (1, 200), step=1)   # plain ints: reference
    p.add_dim("k", [float(v) for v in range(0, 400, 2)])  # 200 ordered levels
    best = []
    for seed in range(3):
        search = AMBS(p, seed=seed)
        top = -np.inf
        for _ in range(30):
            [c] = search.ask(1)
            y = -abs(c["w"] - 133) - abs(c["k"] - 222.0)
            top = max(top, y)
            search.tell([(c, y)])
        best.append(top)
    # smooth in the level order: categorical treatment of 200 levels could not get near it
    assert np.mean(best) > -40


def test_encoder_features_of_ordinals_are_one_column_in_order():
    p = HpProblem()
    p.add_dim("b", [16, 32, 64, 128])
    p.add_dim("c", Categorical([16, 32, 64]))
    enc = Encoder(p)
    assert enc.n_features == 1 + 3
    grid = enc.enumerate_all()
    assert len(grid) == 12
    U = enc.encode([{"b": v, "c": 16} for v in (16, 32, 64, 128)])
    F = enc.features(U, snapped=True)
    assert np.all(np.diff(F[:, 0]) > 0)



def test_auto_acquisition_is_ucb_on_finite_spaces_and_ei_on_continuous_ones():
    from hyperfleet.search.ambs import ExpectedImprovement, UpperConfidenceBound

    p = _grid_problem()
    acq = AMBS(p, seed=0)._base_acquisition
    assert isinstance(acq, UpperConfidenceBound) and acq.kappa == 1.96
    q = HpProblem()
    q.add_dim("x", (0.0, 1.0))
    q.add_dim("act", ["relu", "tanh"])
    assert isinstance(AMBS(q, seed=0)._base_acquisition, ExpectedImprovement)

    def run(**settings):
        search = AMBS(p, seed=3, n_initial=5, **settings)
        keys = []
        for _ in range(14):
            [c] = search.ask(1)
            keys.append(p.key(c))
            search.tell([(c, _objective(c))])
        return keys

    auto = run()
    assert auto == run(acquisition="ucb", kappa=1.96)  # auto proposes what explicit UCB does
    assert auto != run(acquisition="ei")  # and not what EI would
