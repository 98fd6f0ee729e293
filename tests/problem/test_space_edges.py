"""Spaces that used to be accepted and fail later, or sample wrongly (issue 16, item 16)."""

import math

import pytest

from hyperfleet import HpProblem
from hyperfleet.execute.worker import judge_result


@pytest.mark.parametrize("choices", [[1.0, math.nan], ["a", [1, math.nan]], [{"k": math.nan}]])
def test_a_nan_choice_is_refused_with_a_clear_message(choices):
    with pytest.raises(ValueError, match="NaN.*equals nothing"):
        HpProblem().add_dim("c", choices)


@pytest.mark.parametrize("name", ["objective", "elapsed_sec"])
def test_names_of_the_csv_columns_are_reserved(name):
    with pytest.raises(ValueError, match=f"'{name}' is reserved.*objective, elapsed_sec"):
        HpProblem().add_dim(name, (0.0, 1.0))


def test_a_float_range_whose_width_overflows_samples_the_whole_range():
    problem = HpProblem()
    problem.add_dim("x", (-1e308, 1e308))
    values = [c["x"] for c in problem.sample(200, seed=0)]
    assert all(math.isfinite(v) and -1e308 <= v <= 1e308 for v in values)
    assert min(values) < -1e307 and max(values) > 1e307 and len(set(values)) == 200
    assert problem.to_vector({"x": 0.0})[0] == pytest.approx(0.5)
    assert problem.to_vector({"x": 1e308})[0] == 1.0
    assert problem.from_vector([0.25])["x"] == pytest.approx(-5e307)


def test_choices_of_mixed_types_stay_distinct():
    problem = HpProblem()
    dim = problem.add_dim("c", [1, 1.0, True, "1", None, [1], {"a": 1}])
    assert [dim.index(v) for v in (1, 1.0, True, "1", None, [1], {"a": 1})] == list(range(7))
    with pytest.raises(ValueError, match="appears twice"):
        HpProblem().add_dim("d", [{"a": 1, "b": 2}, {"b": 2, "a": 1}])


def test_an_objective_too_large_for_a_float_is_a_clear_failure():
    objective, _, error = judge_result(10**400)
    assert objective is None and "too large for a float" in error and "401 digits" in error
    objective, _, error = judge_result({"objective": -(10**400)})
    assert objective is None and "too large for a float" in error
