"""Ordinal and stepped dimensions: declaring, sampling, encoding, serialization, back-compat."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hyperfleet import Categorical, Float, HpProblem, Int, Ordinal
from hyperfleet.problem import CategoricalDimension, OrdinalDimension
from hyperfleet.problem.hp_problem import same_space

levels = st.lists(st.integers(-10_000, 10_000), min_size=2, max_size=12, unique=True)
pos_levels = st.lists(st.floats(1e-6, 1e6), min_size=2, max_size=12, unique_by=lambda v: f"{v:.12g}")


def test_a_list_of_numbers_is_ordered_and_sorted():
    p = HpProblem()
    dim = p.add_dim("batch", [128, 16, 64, 32])
    assert isinstance(dim, OrdinalDimension)
    assert dim.values == (16, 32, 64, 128)
    assert [dim.to_unit(v) for v in dim.values] == sorted(dim.to_unit(v) for v in dim.values)
    assert p.validate({"batch": 32.0}) == {"batch": 32}
    assert isinstance(p.validate({"batch": 32.0})["batch"], int)


def test_explicit_categorical_keeps_numbers_unordered():
    p = HpProblem()
    dim = p.add_dim("seed", Categorical([3, 1, 2]))
    assert isinstance(dim, CategoricalDimension) and dim.choices == (3, 1, 2)
    assert isinstance(p.add_dim("text", ["a", "b"]), CategoricalDimension)
    assert isinstance(p.add_dim("const", [3]), CategoricalDimension)  # one value: a constant


def test_ordinal_of_labels_keeps_the_given_order():
    p = HpProblem()
    dim = p.add_dim("size", Ordinal(["small", "medium", "large"]))
    assert dim.values == ("small", "medium", "large")
    assert dim.to_unit("small") < dim.to_unit("medium") < dim.to_unit("large")


@pytest.mark.parametrize("spec, step, expected", [
    ((16, 512), 16, tuple(range(16, 513, 16))),
    (Int(16, 512, step=16), None, tuple(range(16, 513, 16))),
    (Float(0.0, 0.6, step=0.3), None, (0.0, 0.3, 0.6)),
    ((0.0, 1.0), 0.1, tuple(round(0.1 * k, 12) for k in range(11))),
])
def test_stepped_ranges(spec, step, expected):
    p = HpProblem()
    dim = p.add_dim("x", spec, step=step)
    assert isinstance(dim, OrdinalDimension)
    assert dim.values == pytest.approx(expected)
    assert set(c["x"] for c in p.sample(400, seed=1)) <= set(dim.values)
    assert HpProblem.from_dict(p.to_dict()) == p
    assert "values" not in p.to_dict()["dims"][0]  # a range is written as a range


def test_step_one_on_ints_is_the_plain_integer_range():
    p = HpProblem()
    assert p.add_dim("n", (1, 10), step=1).kind == "int"


@pytest.mark.parametrize("spec, kwargs, words", [
    ((16, 500), {"step": 16}, "does not divide"),
    ((16, 512), {"step": 0}, "positive"),
    ((16, 512), {"step": 2.5}, "integer step"),
    ([1, 2, 3], {"step": 1}, "not to a list"),
    ([1, 1.0], {}, "repeat"),
    ([0, 1, 2], {"log": True}, "> 0"),
    (Ordinal(["a", "b"], log=True), {}, "> 0"),
    ([1.0, float("inf")], {}, "finite"),
    ((1, 10**7), {"step": 1.0 / 1.0 + 0}, None),  # allowed: step 1 is the plain range
])
def test_bad_ordinals_say_what_is_wrong(spec, kwargs, words):
    p = HpProblem()
    if words is None:
        p.add_dim("x", spec, **kwargs)
        return
    with pytest.raises(ValueError, match=words) as err:
        p.add_dim("x", spec, **kwargs)
    assert len(str(err.value).splitlines()) == 1 and "'x'" in str(err.value)


def test_values_outside_the_levels_are_refused():
    p = HpProblem()
    p.add_dim("b", [16, 32, 64])
    for bad in (48, "32", True, None):
        with pytest.raises(ValueError, match="not one of the levels"):
            p.add_starting_point(b=bad)


@settings(max_examples=60, deadline=None)
@given(levels, st.integers(0, 2**31))
def test_sampling_and_vectors_stay_on_levels(values, seed):
    p = HpProblem()
    dim = p.add_dim("x", values)
    configs = p.sample(50, seed=seed)
    assert all(c["x"] in dim.values for c in configs)
    for c in configs:
        assert p.from_vector(p.to_vector(c)) == c
    # order preserved: unit values increase with the levels
    units = [dim.to_unit(v) for v in dim.values]
    assert units == sorted(units) and len(set(units)) == len(units)
    assert all(0.0 <= u <= 1.0 for u in units)
    # any unit value decodes to the nearest level's bin
    u = np.random.default_rng(seed).random(20)
    assert all(dim.from_unit(x) in dim.values for x in u)


@settings(max_examples=60, deadline=None)
@given(pos_levels)
def test_log_ordinal_positions_are_log_values(values):
    p = HpProblem()
    dim = p.add_dim("x", values, log=True)
    lo, hi = math.log(min(values)), math.log(max(values))
    for v in dim.values:
        assert dim.to_unit(v) == pytest.approx((math.log(v) - lo) / (hi - lo))
        assert dim.from_unit(dim.to_unit(v)) == v
    assert HpProblem.from_json(p.to_json()) == p


def test_log_stepped_range_draws_small_levels_more_often():
    p = HpProblem()
    p.add_dim("units", (16, 512), step=16, log=True)
    draws = np.array([c["units"] for c in p.sample(4000, seed=0)])
    assert np.mean(draws <= 128) > 0.5  # 8 of 32 levels, but log-uniform favours them


def test_old_recorded_categorical_of_numbers_still_loads_and_matches():
    recorded = {"dims": [{"name": "batch", "kind": "cat", "choices": [16, 32, 64], "default": None}],
                "starting_points": [{"batch": 32}]}
    old = HpProblem.from_dict(recorded)
    assert isinstance(old.dims[0], CategoricalDimension)
    assert old.starting_points == [{"batch": 32}]
    now = HpProblem()
    now.add_dim("batch", [16, 32, 64])
    assert same_space(old.to_dict()["dims"], now.to_dict()["dims"])
    other = HpProblem()
    other.add_dim("batch", [16, 32, 128])
    assert not same_space(old.to_dict()["dims"], other.to_dict()["dims"])


def test_key_identifies_levels():
    p = HpProblem()
    p.add_dim("b", [16, 32])
    assert p.key({"b": 32}) == p.key({"b": 32.0}) == (1,)
