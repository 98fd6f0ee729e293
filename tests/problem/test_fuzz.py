"""Fuzzing problem definitions and starting points: only clear ValueErrors, never a crash."""

from hypothesis import given, settings
from hypothesis import strategies as st

from hyperfleet import HpProblem, RandomSearch

anything = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=4), st.binary(max_size=4)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner), st.tuples(inner, inner, inner),
                            st.dictionaries(st.text(max_size=3), inner, max_size=3), st.frozensets(st.integers())),
    max_leaves=8)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.text(max_size=5), st.integers()), anything, st.booleans(), anything),
                max_size=5),
       st.lists(st.dictionaries(st.text(max_size=5), anything, max_size=5), max_size=3))
def test_random_definitions_raise_only_clear_value_errors(dims, points):
    problem = HpProblem()
    for name, spec, log, default in dims:
        try:
            problem.add_dim(name, spec, log=log, default=default)
        except ValueError as err:
            assert str(err) and len(str(err).splitlines()) == 1
    for point in points:
        try:
            problem.add_starting_point(**point)
        except ValueError as err:
            assert str(err) and len(str(err).splitlines()) == 1
    if len(problem):
        search = RandomSearch(problem, seed=0)
        configs = search.ask(3)
        search.tell([(c, 0.0) for c in configs])
        assert HpProblem.from_json(problem.to_json()) == problem
