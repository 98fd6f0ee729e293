import json
import math

import numpy as np
import pytest

from hyperfleet import HpProblem
from hyperfleet.problem import CategoricalDimension, FloatDimension, IntDimension


def test_tutorial_types_follow_the_range(tutorial_problem):
    kinds = {d.name: type(d) for d in tutorial_problem.dims}
    assert kinds == {"log2_batch_size": IntDimension, "nunits_1": IntDimension, "nunits_2": IntDimension,
                     "dropout_1": FloatDimension, "dropout_2": FloatDimension,
                     "optimizer_type": CategoricalDimension}
    assert tutorial_problem.starting_points == [dict(
        log2_batch_size=7, nunits_1=100, nunits_2=20, dropout_1=0.2, dropout_2=0.2, optimizer_type="RMSprop")]


def test_log_scale_samples_spread_over_decades():
    p = HpProblem()
    p.add_dim("lr", (1e-5, 1e-1), log=True)
    values = np.array([c["lr"] for c in p.sample(2000, seed=0)])
    assert values.min() >= 1e-5 and values.max() <= 1e-1
    # log-uniform: about a quarter of the draws in each decade
    assert 0.2 < np.mean(values < 1e-4) < 0.3
    assert p.to_vector({"lr": 1e-3}) == pytest.approx([0.5])


def test_default_is_validated_and_kept():
    p = HpProblem()
    dim = p.add_dim("units", (10, 100), default=32)
    assert dim.default == 32
    with pytest.raises(ValueError, match="'units2'.*out of range"):
        p.add_dim("units2", (10, 100), default=500)


@pytest.mark.parametrize("spec, message", [
    ((5, 5), "'d'.*empty"),
    ((1.0, 1.0), "'d'.*empty"),
    ((10, 5), "'d'.*inverted"),
    ((1.0, 0.5), "'d'.*inverted"),
    ((1, 2.0), "'d'.*mixes int and float"),
    ((0.5, 3), "'d'.*mixes int and float"),
    ([], "'d'.*empty"),
    (("a", "b"), "'d'.*must be numbers"),
    ((1, 2, 3), "'d'.*pair"),
    (5, "'d'.*pair"),
    ([object()], "'d'.*not JSON-serializable"),
    (["a", {"k": {1, 2}}], "'d'.*not JSON-serializable"),
    ((float("nan"), 1.0), "'d'.*finite"),
])
def test_bad_ranges_name_the_dimension(spec, message):
    with pytest.raises(ValueError, match=message):
        HpProblem().add_dim("d", spec)


def test_log_needs_positive_low_and_a_range():
    with pytest.raises(ValueError, match="'lr'.*low > 0"):
        HpProblem().add_dim("lr", (0.0, 1.0), log=True)
    with pytest.raises(ValueError, match="'opt'.*log=True"):
        HpProblem().add_dim("opt", ["a", "b"], log=True)


def test_duplicate_name():
    p = HpProblem()
    p.add_dim("a", (0, 1))
    with pytest.raises(ValueError, match="'a' is already defined"):
        p.add_dim("a", (0.0, 1.0))


@pytest.mark.parametrize("point, message", [
    (dict(a=1, b=0.5, c="x", z=3), r"unknown dimension\(s\) \['z'\]"),
    (dict(a=1, b=0.5), r"missing dimension\(s\) \['c'\]"),
    (dict(a=7, b=0.5, c="x"), "'a'.*out of range"),
    (dict(a=1, b=1.5, c="x"), "'b'.*out of range"),
    (dict(a=1, b=0.5, c="w"), "'c'.*not one of the choices"),
    (dict(a=1.5, b=0.5, c="x"), "'a'.*not an integer"),
    (dict(a=1, b="high", c="x"), "'b'.*not a number"),
])
def test_bad_starting_points(point, message):
    p = HpProblem()
    p.add_dim("a", (0, 5))
    p.add_dim("b", (0.0, 1.0))
    p.add_dim("c", ["x", "y"])
    with pytest.raises(ValueError, match=message):
        p.add_starting_point(**point)
    assert p.starting_points == []


def test_starting_points_are_normalized_and_kept_in_order():
    p = HpProblem()
    p.add_dim("a", (0, 5))
    p.add_dim("b", (0.0, 1.0))
    p.add_starting_point(b=1, a=2.0)
    p.add_starting_point(a=3, b=0.5)
    assert p.starting_points == [{"a": 2, "b": 1.0}, {"a": 3, "b": 0.5}]
    assert isinstance(p.starting_points[0]["a"], int) and isinstance(p.starting_points[0]["b"], float)


def test_sampling_is_seeded_and_in_range(tutorial_problem):
    a = tutorial_problem.sample(50, seed=3)
    assert a == tutorial_problem.sample(50, seed=3)
    assert a != tutorial_problem.sample(50, seed=4)
    for config in a:
        assert tutorial_problem.validate(config) == config
    assert {c["optimizer_type"] for c in a} == {"RMSprop", "Adam"}
    assert {c["log2_batch_size"] for c in a} == set(range(5, 11))


def test_json_round_trip_keeps_everything():
    p = HpProblem()
    p.add_dim("n", (1, 1000), log=True, default=10)
    p.add_dim("lr", (1e-4, 1.0), log=True)
    p.add_dim("act", ["relu", None, 3, [1, 2], {"k": "v"}])
    p.add_starting_point(n=10, lr=0.01, act=[1, 2])
    q = HpProblem.from_json(json.loads(json.dumps(p.to_json())))
    assert q == p
    assert q.sample(5, seed=1) == p.sample(5, seed=1)


def test_categorical_keeps_true_and_one_apart():
    p = HpProblem()
    p.add_dim("c", [1, True, "1"])
    assert [p.from_vector(p.to_vector({"c": v}))["c"] for v in (1, True, "1")] == [1, True, "1"]
    assert type(p.from_vector(p.to_vector({"c": True}))["c"]) is bool


def test_vector_length_is_checked(tutorial_problem):
    with pytest.raises(ValueError, match="6 dimensions"):
        tutorial_problem.from_vector([0.5, 0.5])


def test_repr_lists_dimensions(tutorial_problem):
    text = repr(tutorial_problem)
    assert "nunits_1: int [10, 100]" in text and 'categorical ["RMSprop", "Adam"]' in text
    assert not math.isnan(tutorial_problem.to_vector(tutorial_problem.starting_points[0]).sum())
