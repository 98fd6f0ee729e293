"""The core rule of the median, patience, fixed and learning-curve-model stoppers."""

import math

import numpy as np
import pytest

from hyperfleet.stop import FixedStopper, LCModelStopper, MedianStopper, PatienceStopper, make_stopper


def test_median_compares_best_with_running_averages_of_others():
    s = MedianStopper(min_step=2, min_curves=3)
    for eid, values in {"a": [0.2, 0.4, 0.6], "b": [0.3, 0.5, 0.7], "c": [0.4, 0.6, 0.8]}.items():
        for t, v in enumerate(values, start=1):
            assert s.report(eid, t, v)
        s.finish(eid, stopped=False)
    # running averages at step 2: a 0.3, b 0.4, c 0.5 -> median 0.4
    assert s.report("x", 1, 0.0) is True      # warm-up: not judged at step 1
    assert s.report("y", 1, 0.0) is True
    assert s.report("y", 2, 0.39) is False    # best 0.39 < 0.4
    # y's average (0.195) now counts too: 0.195, 0.3, 0.4, 0.5 -> median 0.35
    assert s.report("x", 2, 0.36) is True
    # at step 3 the others are a, b, c (y was stopped): 0.4, 0.5, 0.6 -> median 0.5
    assert s.report("x", 3, 0.49) is False


def test_median_needs_min_curves():
    s = MedianStopper(min_curves=2)
    s.report("a", 1, 0.9)
    assert s.report("b", 1, 0.1) is True      # one other curve only
    assert s.report("c", 1, 0.1) is False     # median of 0.9 and 0.1 is 0.5


def test_patience_and_min_delta():
    s = PatienceStopper(patience=2, min_delta=0.05)
    values = [0.5, 0.54, 0.55, 0.61, 0.62, 0.63]
    # 0.54 and 0.55 are not improvements over 0.5 by more than 0.05
    decisions = [s.report("a", t, v) for t, v in enumerate(values, start=1)]
    assert decisions == [True, True, False, False, False, False]
    s = PatienceStopper(patience=2, min_step=10)
    assert all(s.report("b", t, 0.5) for t in range(1, 10))
    assert s.report("b", 10, 0.5) is False


def test_fixed_stops_everyone_at_step_but_protected():
    s = FixedStopper(step=3)
    s.protect("p")
    assert [s.report("a", t, 1.0) for t in (1, 2, 3)] == [True, True, False]
    assert [s.report("p", t, 0.0) for t in (1, 2, 3, 4)] == [True] * 4
    with pytest.raises(ValueError, match="stopper 'fixed': needs the setting 'step'"):
        make_stopper("fixed")
    with pytest.raises(ValueError, match="'step': needs an integer"):
        make_stopper("fixed", step=2.5)


def saturating(q, tau, t):
    return q - (q - 0.1) * math.exp(-t / tau)


def test_lcmodel_predicts_the_final_value():
    s = LCModelStopper(max_step=50)
    rng = np.random.default_rng(0)
    for t in range(1, 16):
        s.report("a", t, saturating(0.9, 5, t) + rng.normal(0, 0.003))
    mean, sd = s.predict("a")
    truth = saturating(0.9, 5, 50)
    assert abs(mean - truth) < 0.03 and sd < 0.05
    assert abs(mean - truth) < 4 * sd


def test_lcmodel_is_calibrated_on_mixed_curve_families():
    s = LCModelStopper(max_step=40)
    rng = np.random.default_rng(1)
    z = []
    for i in range(45):
        q, tau, kind = rng.uniform(0.5, 0.95), rng.uniform(2, 15), i % 3
        f = [lambda t, q=q, tau=tau: saturating(q, tau, t),
             lambda t, q=q: q - (q - 0.1) * t ** -0.7,
             lambda t, q=q, tau=tau: q - (q - 0.1) / (1 + t / tau)][kind]
        for t in range(1, 11):
            s.report(f"c{i}", t, f(t) + rng.normal(0, 0.005))
        mean, sd = s.predict(f"c{i}")
        z.append((f(40) - mean) / sd)
    z = np.abs(z)
    assert np.mean(z < 1.645) > 0.8, "the 90 % predictive interval covers too few finals"
    assert np.mean(z < 0.5) > 0.15, "the predictive is too wide to be useful"


def test_lcmodel_stops_a_curve_heading_below_the_best_and_keeps_a_slow_starter():
    s = LCModelStopper(max_step=30, min_step=3)
    for t in range(1, 31):
        s.report("best", t, saturating(0.8, 3, t))
    s.finish("best", stopped=False)
    bad = [s.report("bad", t, saturating(0.5, 2, t)) for t in range(1, 8)]
    assert bad[:2] == [True, True] and bad[-1] is False
    # a slow starter, below the best now but heading above it
    slow = [s.report("slow", t, saturating(0.95, 8, t)) for t in range(1, 11)]
    assert all(slow)


def test_lcmodel_learns_the_curve_shape_from_completed_curves():
    """Completed curves of one family narrow the prediction of a new, short curve of that
    family (the families that fitted them weigh more); without completed curves, or with
    ``shape_prior=false``, every family weighs the same."""
    rng = np.random.default_rng(3)
    taus = rng.uniform(3, 6, 12)
    made = {flag: LCModelStopper(max_step=30, min_step=100, shape_prior=flag) for flag in (True, False)}
    assert np.allclose(made[True].log_shape_prior(), made[True].log_shape_prior()[0])
    assert made[False].log_shape_prior() is None
    for s in made.values():
        for i, tau in enumerate(taus):
            for t in range(1, 31):
                s.report(f"c{i}", t, saturating(0.6 + 0.02 * i, tau, t) + rng.normal(0, 0.003))
            s.finish(f"c{i}", stopped=False)
        for t in range(1, 5):
            s.report("new", t, saturating(0.85, 4.5, t))
    prior = made[True].log_shape_prior()
    assert prior.max() - prior.min() > 1.0  # the completed curves' families now weigh more
    mean_on, sd_on = made[True].predict("new")
    mean_off, sd_off = made[False].predict("new")
    truth = saturating(0.85, 4.5, 30)
    assert sd_on < 0.7 * sd_off
    assert abs(mean_on - truth) < 2 * sd_on
    assert abs(mean_on - truth) < abs(mean_off - truth) + 0.01
