"""Property-based round trips of sampling and encoding."""

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hyperfleet import HpProblem

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000),
                         st.text(max_size=5), st.floats(allow_nan=False, allow_infinity=False, width=32))


@st.composite
def dimension_specs(draw):
    kind = draw(st.sampled_from(["int", "float", "logfloat", "logint", "cat"]))
    if kind in ("int", "logint"):
        low = draw(st.integers(1 if kind == "logint" else -1000, 1000))
        high = draw(st.integers(low + 1, low + 10_000))
        return (low, high), kind == "logint"
    if kind in ("float", "logfloat"):
        low = draw(st.floats(1e-6 if kind == "logfloat" else -1e6, 1e6))
        width = draw(st.floats(1e-3, 1e6))
        return (float(low), float(low + width)), kind == "logfloat"
    choices = draw(st.lists(json_scalars, min_size=1, max_size=6,
                            unique_by=lambda v: (type(v).__name__, json.dumps(v + 0.0 if isinstance(v, float) else v))))
    return choices, False


@st.composite
def problems(draw):
    p = HpProblem()
    for name in draw(st.lists(names, min_size=1, max_size=6, unique=True)):
        spec, log = draw(dimension_specs())
        p.add_dim(name, spec, log=log)
    return p


@settings(max_examples=60, deadline=None)
@given(problems(), st.integers(0, 2**32 - 1))
def test_samples_are_valid_and_survive_encoding(problem, seed):
    for config in problem.sample(5, seed=seed):
        assert problem.validate(config) == config
        vector = problem.to_vector(config)
        assert vector.shape == (len(problem),)
        assert np.all((vector >= 0) & (vector <= 1))
        decoded = problem.from_vector(vector)
        assert problem.validate(decoded) == decoded
        for dim in problem.dims:
            if dim.kind == "float" and not dim.log:
                assert np.isclose(decoded[dim.name], config[dim.name], rtol=1e-9, atol=1e-9 * (dim.high - dim.low))
            elif dim.kind == "float":
                assert np.isclose(decoded[dim.name], config[dim.name], rtol=1e-6)
            elif dim.kind == "int" and not dim.log:
                assert decoded[dim.name] == config[dim.name]
            elif dim.kind == "cat":
                assert problem.key({dim.name: decoded[dim.name]} | {d.name: config[d.name] for d in problem.dims
                                   if d.name != dim.name}) == problem.key(config)


@settings(max_examples=60, deadline=None)
@given(problems(), st.lists(st.floats(0, 1), min_size=6, max_size=6))
def test_any_unit_vector_decodes_to_a_valid_config(problem, units):
    config = problem.from_vector(units[: len(problem)])
    assert problem.validate(config) == config


@settings(max_examples=40, deadline=None)
@given(problems(), st.integers(0, 1000))
def test_json_round_trip(problem, seed):
    problem.add_starting_point(**problem.sample(1, seed=seed)[0])
    again = HpProblem.from_json(problem.to_json())
    assert again == problem
    assert again.sample(3, seed=seed) == problem.sample(3, seed=seed)
