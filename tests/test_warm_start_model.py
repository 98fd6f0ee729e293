"""Warm start in AMBS's model: an earlier search's results guide a new search, and new results
that contradict them win where they are (the problem changed since)."""

import numpy as np
import pytest

from hyperfleet import HpProblem
from hyperfleet.search.ambs import AMBS
from hyperfleet.search.ambs.surrogates import GaussianProcess


def line_problem():
    p = HpProblem()
    p.add_dim("x", (0.0, 1.0))
    return p


def old(x):
    """The earlier problem: best at x = 0.3."""
    return -((x - 0.3) ** 2)


def warm_rows():
    """What an earlier search told: dense near its optimum (it exploited there), sparse elsewhere."""
    xs = list(np.linspace(0.2, 0.4, 12)) + list(np.linspace(0.0, 1.0, 8))
    return [({"x": float(x)}, old(float(x))) for x in xs]


def predict(search, x):
    model = search._surrogate()
    F = search.encoder.features(search.encoder.encode([{"x": x}]), snapped=True)
    return float(model.predict(F)[0][0])


@pytest.mark.parametrize("surrogate,warm_model", [("gp", "prior"), ("gp", "noise"), ("et", "prior"),
                                                  ("rf", "prior")])
def test_new_results_that_contradict_warm_ones_win_near_them(surrogate, warm_model):
    search = AMBS(line_problem(), seed=0, surrogate=surrogate, warm_model=warm_model)
    search.tell_warm_start(warm_rows())
    assert predict(search, 0.3) > -0.05  # only the warm results: the old optimum
    # the problem changed: near the old optimum it is now 0.2 lower
    search.tell([({"x": x}, old(x) - 0.2) for x in (0.27, 0.29, 0.31, 0.33)])
    assert predict(search, 0.3) < -0.16  # follows the new results, not the 12 warm ones there
    assert search.n_warm == 20 and len(search.history) == 24


def test_warm_noise_stays_small_when_new_results_agree():
    search = AMBS(line_problem(), seed=0, surrogate="gp", warm_model="noise")
    search.tell_warm_start(warm_rows())
    search.tell([({"x": x}, old(x)) for x in (0.27, 0.29, 0.31, 0.33)])
    model = search._surrogate()
    assert isinstance(model, GaussianProcess)
    assert model.warm_noise_ < 1e-3  # the warm rows count fully
    assert abs(predict(search, 0.35) - old(0.35)) < 0.005


def test_warm_noise_grows_with_the_contradiction():
    noise = []
    for drop in (0.0, 0.05, 0.2):
        search = AMBS(line_problem(), seed=0, surrogate="gp", warm_model="noise")
        search.tell_warm_start(warm_rows())
        search.tell([({"x": x}, old(x) - drop) for x in (0.27, 0.29, 0.31, 0.33)])
        noise.append(search._surrogate().warm_noise_)
    assert noise[0] < noise[1] < noise[2]


def test_gp_warm_rows_change_nothing_without_warm_marks():
    rng = np.random.default_rng(0)
    X = rng.random((15, 2))
    y = np.sin(3 * X[:, 0]) + X[:, 1]
    plain = GaussianProcess(rng=np.random.default_rng(1)).fit(X, y)
    marked = GaussianProcess(rng=np.random.default_rng(1)).fit(X, y, warm=np.zeros(15, dtype=bool))
    assert np.allclose(plain.predict(X[:3])[0], marked.predict(X[:3])[0])
    assert marked.warm_noise_ == 0.0
    with pytest.raises(ValueError, match="warm has 3 entries for 15 rows"):
        GaussianProcess().fit(X, y, warm=np.ones(3, dtype=bool))


@pytest.mark.parametrize("warm_model", ["prior", "noise"])
def test_ei_incumbent_comes_from_new_results_after_a_few(warm_model):
    """The warm best (0 at x = 0.3) no longer holds; once 3 new results succeeded, EI improves on
    the best new one, so it proposes near the new results' best instead of far from everything."""
    search = AMBS(line_problem(), seed=0, surrogate="gp", acquisition="ei", warm_model=warm_model)
    search.tell_warm_start(warm_rows())
    new = {"x": 0.5}  # the problem moved: best near 0.5 now, and 0.3 is much worse
    search.tell([({"x": x}, -((x - 0.5) ** 2)) for x in (0.3, 0.45, 0.55)])
    [config] = search.ask(1)
    assert abs(config["x"] - new["x"]) < 0.15
