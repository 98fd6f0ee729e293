"""The default warm-start model (``warm_model=prior``): a GP of the earlier search's results is
the prior mean of a GP of the new results' residuals (``hyperfleet.search.ambs.transfer``)."""

import numpy as np
import pytest

from hyperfleet import HpProblem
from hyperfleet.search.ambs import AMBS
from hyperfleet.search.ambs.surrogates import GaussianProcess
from hyperfleet.search.ambs.transfer import PriorMeanGP


def bowl(config, shift=0.0):
    """Maximised; 0 at x_i = 0.3 + shift (4 floats)."""
    return -sum((config[f"x{i}"] - 0.3 - shift) ** 2 for i in range(4))


def problem():
    p = HpProblem()
    for i in range(4):
        p.add_dim(f"x{i}", (0.0, 1.0))
    return p


def earlier_results(n=30, seed=0):
    """An earlier AMBS search on the unshifted bowl."""
    search = AMBS(problem(), seed=seed)
    out = []
    for _ in range(n):
        [c] = search.ask(1)
        out.append((c, bowl(c)))
        search.tell([out[-1]])
    return out


def test_the_default_is_the_prior_mean_model_and_it_is_a_setting():
    search = AMBS(problem(), seed=0)
    search.tell_warm_start(earlier_results(12))
    assert search.settings.warm_model == "prior"
    assert isinstance(search._surrogate(), PriorMeanGP)
    noise = AMBS(problem(), seed=0, warm_model="noise")
    noise.tell_warm_start(earlier_results(12))
    assert isinstance(noise._surrogate(), GaussianProcess)
    with pytest.raises(ValueError, match="warm_model.*prior, noise"):
        AMBS(problem(), warm_model="both")


def test_a_warm_search_starts_at_the_old_optimum():
    """Nothing new yet: the model is the old one, so the first proposal exploits it."""
    old = earlier_results()
    old_best = max(y for _, y in old)
    search = AMBS(problem(), seed=1)
    search.set_budget(30)
    search.tell_warm_start(old)
    [c] = search.ask(1)
    assert bowl(c) > old_best - 0.01, (c, old_best)


def test_warm_start_reaches_a_shifted_optimum_sooner_than_a_cold_search():
    old = earlier_results()

    def evals_to(target, warm, seed):
        search = AMBS(problem(), seed=seed)
        search.set_budget(25)
        if warm:
            search.tell_warm_start(old)
        for n in range(1, 26):
            [c] = search.ask(1)
            y = bowl(c, shift=0.05)
            search.tell([(c, y)])
            if y >= target:
                return n
        return 26

    target = -0.01  # a regret of 0.01 on the shifted bowl
    warm = [evals_to(target, True, s) for s in (1, 2)]
    cold = [evals_to(target, False, s) for s in (1, 2)]
    assert max(warm) < min(cold), (warm, cold)


@pytest.mark.parametrize("explore", [0.0, 0.6, 1.0])
def test_prior_mean_gp_predictions_and_gradients(explore):
    rng = np.random.default_rng(0)
    Xo = rng.random((25, 2))
    old = GaussianProcess(rng=np.random.default_rng(1)).fit(Xo, -np.sum((Xo - 0.3) ** 2, axis=1))
    no_news = PriorMeanGP.fit_on(old, GaussianProcess(), np.empty((0, 2)), np.empty(0))
    X = rng.random((5, 2))
    assert np.allclose(no_news.predict(X)[0], old.predict(X)[0])  # no new result: the old model
    Xn = np.array([[0.3, 0.3], [0.35, 0.3], [0.3, 0.35], [0.8, 0.8]])
    yn = -np.sum((Xn - 0.35) ** 2, axis=1) - 0.1  # moved, and 0.1 lower
    model = PriorMeanGP.fit_on(old, GaussianProcess(rng=np.random.default_rng(2)), Xn, yn,
                               explore=explore)
    assert model.explore == explore
    mean, std = model.predict(Xn)
    assert np.allclose(mean, yn, atol=0.02)  # it follows the new results where they are
    m, s, dm, ds = model.predict_grad(X)
    assert np.allclose(m, model.predict(X)[0]) and np.allclose(s, model.predict(X)[1])
    h = 1e-6
    for k in range(2):
        e = np.zeros(2)
        e[k] = h
        mp, sp = model.predict(X + e)
        mm, sm = model.predict(X - e)
        assert np.allclose(dm[:, k], (mp - mm) / (2 * h), rtol=1e-3, atol=1e-5)
        assert np.allclose(ds[:, k], (sp - sm) / (2 * h), rtol=1e-3, atol=1e-5)


def test_pending_points_lower_the_prediction_near_them():
    """The constant liar: conditioning on a pending point at its lie moves the mean there (also
    before any new result, when the residual starts from the pending points alone)."""
    rng = np.random.default_rng(0)
    Xo = rng.random((25, 2))
    old = GaussianProcess(rng=np.random.default_rng(1)).fit(Xo, -np.sum((Xo - 0.3) ** 2, axis=1))
    at = np.array([[0.3, 0.3]])
    for Xn, yn in ((np.empty((0, 2)), np.empty(0)), (np.array([[0.7, 0.7]]), np.array([-0.3]))):
        model = PriorMeanGP.fit_on(old, GaussianProcess(), Xn, yn)
        lied = model.condition(at, np.array([-0.5]))
        near = model.predict(at)[0][0] - lied.predict(at)[0][0]
        far = np.array([[0.9, 0.1]])
        assert near > 0.3  # the lie is learnt where it is
        assert model.predict(far)[0][0] - lied.predict(far)[0][0] < near / 2


def test_warm_explore_adds_the_old_models_uncertainty_where_it_had_no_data():
    """``warm_explore`` 0 (the default): the residual GP alone is the uncertainty; 1: the old
    model's own uncertainty is added where the earlier search never looked."""
    rng = np.random.default_rng(0)
    Xo = 0.4 * rng.random((25, 2))  # the earlier search stayed in one corner
    old = GaussianProcess(rng=np.random.default_rng(1)).fit(Xo, -np.sum((Xo - 0.3) ** 2, axis=1))
    Xn = np.array([[0.3, 0.3], [0.32, 0.28], [0.28, 0.33], [0.25, 0.3], [0.35, 0.35], [0.3, 0.25]])
    yn = -np.sum((Xn - 0.32) ** 2, axis=1)
    models = {e: PriorMeanGP.fit_on(old, GaussianProcess(rng=np.random.default_rng(2)), Xn, yn,
                                    explore=e) for e in (0.0, 1.0)}
    far, near = np.array([[0.95, 0.95]]), np.array([[0.2, 0.2]])
    _, s_res = models[0.0].residual.predict(far)
    assert np.allclose(models[0.0].predict(far)[1], s_res)  # the residual's alone
    assert models[1.0].predict(far)[1][0] > 1.5 * models[0.0].predict(far)[1][0]
    # near the old data the old model is sure: the share adds almost nothing there
    assert models[1.0].predict(near)[1][0] < 1.1 * models[0.0].predict(near)[1][0]
    assert np.allclose(models[1.0].predict(far)[0], models[0.0].predict(far)[0])  # same mean


def test_warm_explore_is_a_checked_setting_that_reaches_the_model():
    old = earlier_results(12)
    search = AMBS(problem(), seed=0, warm_explore="0.5")
    search.tell_warm_start(old)
    search.tell([(c, bowl(c, 0.05)) for c in search.ask(4)])
    assert search.settings.warm_explore == 0.5 and search._surrogate().explore == 0.5
    assert AMBS(problem()).settings.warm_explore == 0.0
    for bad in ("1.5", "-0.1"):
        with pytest.raises(ValueError, match=r"warm_explore.*\[0, 1\]"):
            AMBS(problem(), warm_explore=bad)
