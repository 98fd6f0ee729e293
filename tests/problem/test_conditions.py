"""Conditions and forbidden clauses: semantics, sampling, validation, errors, serialization."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hyperfleet as cs
from hyperfleet import HpProblem
from hyperfleet.search.ambs.encoding import INACTIVE, Encoder


def optimizer_problem():
    p = HpProblem()
    opt = p.add_dim("optimizer", ["sgd", "adam", "rmsprop"])
    p.add_dim("lr", (1e-4, 1e-1), log=True)
    momentum = p.add_dim("momentum", (0.0, 0.99))
    p.add_dim("nesterov", [True, False])
    p.add_dim("beta1", (0.8, 0.999))
    p.add_condition(cs.EqualsCondition(momentum, opt, "sgd"))
    p.add_condition(cs.GreaterThanCondition("nesterov", "momentum", 0.5))  # nested: sgd and m > 0.5
    p.add_condition(cs.InCondition("beta1", "optimizer", ["adam", "rmsprop"]))
    return p


def layers_problem(max_layers=4):
    p = HpProblem()
    p.add_dim("n_layers", (1, max_layers))
    for i in range(1, max_layers + 1):
        p.add_dim(f"units_{i}", (8, 512), log=True)
        if i > 1:
            p.add_condition(cs.RangeCondition(f"units_{i}", "n_layers", i, None))
    return p


def test_inactive_hyperparameters_are_absent_from_samples():
    p = optimizer_problem()
    configs = p.sample(300, seed=1)
    for c in configs:
        assert ("momentum" in c) == (c["optimizer"] == "sgd")
        assert ("beta1" in c) == (c["optimizer"] != "sgd")
        assert ("nesterov" in c) == (c["optimizer"] == "sgd" and c["momentum"] > 0.5)
        assert p.validate(c) == c
    assert any("nesterov" in c for c in configs)  # the nested level is reached


def test_range_condition_unlocks_one_width_per_layer():
    p = layers_problem()
    for c in p.sample(100, seed=2):
        assert sorted(k for k in c if k.startswith("units_")) == \
            [f"units_{i}" for i in range(1, c["n_layers"] + 1)]


def test_or_and_conjunctions():
    p = HpProblem()
    p.add_dim("a", ["x", "y", "z"])
    p.add_dim("b", (0, 10))
    p.add_dim("c", (0.0, 1.0))
    p.add_dim("d", (0.0, 1.0))
    p.add_condition(cs.OrConjunction(cs.EqualsCondition("c", "a", "x"), cs.LessThanCondition("c", "b", 3)))
    p.add_condition(cs.AndConjunction(cs.NotEqualsCondition("d", "a", "z"), cs.RangeCondition("d", "b", 4, 6)))
    for conf in p.sample(300, seed=3):
        assert ("c" in conf) == (conf["a"] == "x" or conf["b"] < 3)
        assert ("d" in conf) == (conf["a"] != "z" and 4 <= conf["b"] <= 6)


def test_validate_and_starting_points_respect_conditions():
    p = optimizer_problem()
    assert p.validate({"optimizer": "adam", "lr": 0.01, "beta1": 0.9}) == \
        {"optimizer": "adam", "lr": 0.01, "beta1": 0.9}
    with pytest.raises(ValueError, match=r"'momentum' is inactive here.*EqualsCondition"):
        p.add_starting_point(optimizer="adam", lr=0.01, beta1=0.9, momentum=0.5)
    with pytest.raises(ValueError, match=r"missing dimension\(s\) \['momentum'\]"):
        p.add_starting_point(optimizer="sgd", lr=0.01)
    p.add_starting_point(optimizer="sgd", lr=0.01, momentum=0.9, nesterov=True)
    assert p.starting_points == [{"optimizer": "sgd", "lr": 0.01, "momentum": 0.9, "nesterov": True}]


def test_condition_added_after_a_starting_point_it_breaks_is_refused():
    p = HpProblem()
    p.add_dim("a", ["x", "y"])
    p.add_dim("b", (0.0, 1.0))
    p.add_starting_point(a="y", b=0.5)
    with pytest.raises(ValueError, match="inactive here.*added earlier"):
        p.add_condition(cs.EqualsCondition("b", "a", "x"))
    assert p.conditions == []  # undone


def test_clear_errors_for_bad_conditions():
    p = HpProblem()
    p.add_dim("a", ["x", "y"])
    p.add_dim("b", (0, 5))
    p.add_dim("c", (0.0, 1.0))
    with pytest.raises(ValueError, match="unknown parent 'nope'"):
        p.add_condition(cs.EqualsCondition("c", "nope", 1))
    with pytest.raises(ValueError, match="unknown child 'ghost'"):
        p.add_condition(cs.EqualsCondition("ghost", "a", "x"))
    with pytest.raises(ValueError, match=r"'z' is not one of the choices"):
        p.add_condition(cs.EqualsCondition("c", "a", "z"))
    with pytest.raises(ValueError, match="categorical .*EqualsCondition or InCondition"):
        p.add_condition(cs.GreaterThanCondition("c", "a", 1))
    with pytest.raises(ValueError, match="conditioned on itself"):
        p.add_condition(cs.EqualsCondition("a", "a", "x"))
    with pytest.raises(ValueError, match="same child"):
        cs.AndConjunction(cs.EqualsCondition("c", "a", "x"), cs.EqualsCondition("b", "a", "x"))
    p.add_condition(cs.EqualsCondition("b", "a", "x"))
    p.add_condition(cs.RangeCondition("c", "b", 1, 3))
    with pytest.raises(ValueError, match="already has a condition.*AndConjunction"):
        p.add_condition(cs.EqualsCondition("c", "a", "y"))
    with pytest.raises(ValueError, match=r"cycle of conditions \(a -> c -> b -> a\)"):
        p.add_condition(cs.LessThanCondition("a", "c", 0.5))
    with pytest.raises(ValueError, match="combines conditions, got 'c == 1'"):
        cs.OrConjunction(cs.EqualsCondition("c", "a", "x"), "c == 1")


def test_forbidden_clauses_are_never_sampled_and_checked_on_starting_points():
    p = optimizer_problem()
    p.add_dim("batch", [16, 32, 64])
    p.add_forbidden_clause(cs.ForbiddenAndConjunction(cs.ForbiddenEqualsClause("optimizer", "adam"),
                                                      cs.ForbiddenInClause("batch", [16, 32])))
    p.add_forbidden_clause(cs.ForbiddenEqualsClause("nesterov", True))  # only where it is active
    configs = p.sample(300, seed=4)
    assert not any(c["optimizer"] == "adam" and c["batch"] in (16, 32) for c in configs)
    assert not any(c.get("nesterov") is True for c in configs)
    assert any(c["optimizer"] == "adam" for c in configs)
    with pytest.raises(ValueError, match="forbidden by ForbiddenAndConjunction"):
        p.add_starting_point(optimizer="adam", lr=0.01, beta1=0.9, batch=32)
    p.add_starting_point(optimizer="adam", lr=0.01, beta1=0.9, batch=64)


def test_clauses_that_leave_nothing_are_refused():
    p = HpProblem()
    p.add_dim("a", ["x", "y"])
    p.add_dim("b", (0, 3))
    p.add_dim("c", (0.0, 1.0))
    p.add_forbidden_clause(cs.ForbiddenEqualsClause("a", "x"))
    p.add_forbidden_clause(cs.ForbiddenAndConjunction(cs.ForbiddenEqualsClause("a", "y"),
                                                      cs.ForbiddenInClause("b", [0, 1, 2])))
    with pytest.raises(ValueError, match="leave no valid configuration"):
        p.add_forbidden_clause(cs.ForbiddenEqualsClause("b", 3))
    assert len(p.forbidden_clauses) == 2  # the impossible one was not kept
    assert p.sample(20, seed=0) == [{"a": "y", "b": 3, "c": c["c"]} for c in p.sample(20, seed=0)]


def test_a_rare_valid_configuration_is_found_by_the_exact_check():
    p = HpProblem()
    for name in "abcde":
        p.add_dim(name, list(range(6)))  # 7,776 configurations
    for name in "abcde":  # leaves only a = b = ... = 0, which random draws rarely meet
        p.add_forbidden_clause(cs.ForbiddenInClause(name, [1, 2, 3, 4, 5]))
    assert p.sample(1, seed=0) == [dict.fromkeys("abcde", 0)]
    with pytest.raises(ValueError, match=r"leave no valid configuration \(checked all 7776"):
        p.add_forbidden_clause(cs.ForbiddenAndConjunction(cs.ForbiddenEqualsClause("a", 0),
                                                          cs.ForbiddenEqualsClause("b", 0)))


def test_clause_errors():
    p = HpProblem()
    p.add_dim("a", ["x", "y"])
    with pytest.raises(ValueError, match="unknown hyperparameter 'q'"):
        p.add_forbidden_clause(cs.ForbiddenEqualsClause("q", 1))
    with pytest.raises(ValueError, match="'z' is not one of the choices"):
        p.add_forbidden_clause(cs.ForbiddenInClause("a", ["x", "z"]))
    with pytest.raises(ValueError, match="forbidden clause such as"):
        p.add_forbidden_clause(cs.EqualsCondition("a", "a", "x"))


def test_serialization_round_trip_keeps_rules():
    p = optimizer_problem()
    p.add_forbidden_clause(cs.ForbiddenOrConjunction(cs.ForbiddenEqualsClause("optimizer", "rmsprop"),
                                                     cs.ForbiddenEqualsClause("nesterov", False)))
    p.add_starting_point(optimizer="sgd", lr=0.01, momentum=0.9, nesterov=True)
    q = HpProblem.from_json(p.to_json())
    assert q == p
    assert q.sample(50, seed=5) == p.sample(50, seed=5)
    assert q.conditions == p.conditions and q.forbidden_clauses == p.forbidden_clauses


def test_keys_and_vectors_of_configurations_with_inactive_dimensions():
    p = optimizer_problem()
    a = {"optimizer": "adam", "lr": 0.01, "beta1": 0.9}
    assert p.key(a)[2] is None  # momentum inactive
    u = p.to_vector(a)
    assert np.all((u >= 0) & (u <= 1))
    assert p.from_vector(u) == {**a, "beta1": pytest.approx(0.9)} | {"lr": pytest.approx(0.01)}


def test_encoder_masks_inactive_features():
    p = optimizer_problem()
    enc = Encoder(p)
    U = enc.encode([{"optimizer": "adam", "lr": 0.01, "beta1": 0.9},
                    {"optimizer": "sgd", "lr": 0.01, "momentum": 0.2}])
    F = enc.features(U, snapped=True)
    cols = {name: np.flatnonzero(enc.groups == j) for j, name in enumerate(p.names)}
    assert F[0, cols["momentum"]] == [INACTIVE]
    assert np.all(F[0, cols["nesterov"]] == 0.0) and np.all(F[1, cols["nesterov"]] == 0.0)
    assert F[1, cols["beta1"]] == [INACTIVE] and 0 <= F[0, cols["beta1"]][0] <= 1
    # a vector whose inactive entries differ is the same configuration and the same features
    V = U.copy()
    V[0, p.names.index("momentum")] = 0.97
    assert np.array_equal(enc.snap(V), enc.snap(U))
    assert np.array_equal(enc.features(V), F)


# ----- properties --------------------------------------------------------------------------
@st.composite
def conditional_problems(draw):
    p = HpProblem()
    n = draw(st.integers(2, 6))
    for i in range(n):
        kind = draw(st.sampled_from(["int", "float", "cat"]))
        if kind == "int":
            p.add_dim(f"h{i}", (0, draw(st.integers(1, 6))))
        elif kind == "float":
            p.add_dim(f"h{i}", (0.0, 1.0))
        else:
            p.add_dim(f"h{i}", [f"c{k}" for k in range(draw(st.integers(1, 4)))])
    for i in range(1, n):  # parents come earlier: no cycles
        if not draw(st.booleans()):
            continue
        parent = p.dims[draw(st.integers(0, i - 1))]
        if parent.kind == "cat":
            values = draw(st.lists(st.sampled_from(parent.choices), min_size=1, unique=True))
            cond = cs.InCondition(f"h{i}", parent.name, values)
        elif parent.kind == "int":
            lo = draw(st.integers(int(parent.low), int(parent.high)))
            cond = cs.RangeCondition(f"h{i}", parent.name, lo, None)
        else:
            cond = cs.LessThanCondition(f"h{i}", parent.name, draw(st.floats(0.05, 1.0)))
        p.add_condition(cond)
    cats = [d for d in p.dims if d.kind == "cat" and d.cardinality > 1]
    if cats and draw(st.booleans()):
        d = cats[0]
        try:
            p.add_forbidden_clause(cs.ForbiddenEqualsClause(d.name, d.choices[0]))
        except ValueError:
            pass
    return p


def _holds(p, config):
    """The rules evaluated by hand, one configuration at a time (independent of the masks)."""
    active = {}
    for d in p.dims:
        cond = p.rules.conditions.get(d.name)
        active[d.name] = True if cond is None else _cond(cond, config, active)
    forbidden = any(config.get(c.name, object()) == c.value and active.get(c.name)
                    for c in p.forbidden_clauses)
    return active, forbidden


def _cond(cond, config, active):
    if isinstance(cond, cs.AndConjunction):
        return all(_cond(c, config, active) for c in cond.components)
    if not active[cond.parent]:
        return False
    x = config[cond.parent]
    if isinstance(cond, cs.InCondition):
        return x in cond.values
    if isinstance(cond, cs.RangeCondition):
        return x >= cond.low
    return x < cond.value


@settings(max_examples=80, deadline=None)
@given(conditional_problems(), st.integers(0, 2**32 - 1))
def test_sampled_configurations_satisfy_conditions_and_clauses(problem, seed):
    for config in problem.sample(20, seed=seed):
        active, forbidden = _holds(problem, config)
        assert set(config) == {n for n, a in active.items() if a}
        assert not forbidden
        assert problem.validate(config) == config
        decoded = problem.from_vector(problem.to_vector(config))
        assert set(decoded) == set(config)


@settings(max_examples=40, deadline=None)
@given(conditional_problems(), st.integers(0, 2**32 - 1))
def test_decoded_random_vectors_satisfy_conditions(problem, seed):
    enc = Encoder(problem)
    U = enc.snap(np.random.default_rng(seed).random((30, len(problem))))
    A, forbidden = enc.active(U), enc.forbidden(U)
    for u, a, f in zip(U, A, forbidden):
        config = problem.from_vector(u)
        assert set(config) == {n for n, on in zip(problem.names, a) if on}
        assert problem.is_forbidden(config) == f
        if not f:
            assert problem.validate(config) == config
    assert not math.isnan(enc.features(U, snapped=True).sum())


def test_conditions_on_an_ordinal_parent_compare_its_levels_by_value():
    problem = HpProblem()
    n = problem.add_dim("n_layers", [1, 2, 4, 8])
    wide = problem.add_dim("width_deep", (16, 512), step=16)
    problem.add_condition(cs.RangeCondition(wide, n, 4, None))
    configs = problem.sample(200, seed=0)
    assert {c["n_layers"] for c in configs} == {1, 2, 4, 8}
    assert all(("width_deep" in c) == (c["n_layers"] >= 4) for c in configs)
    search = cs.AMBS(problem, seed=1)
    for c in search.ask(12):
        assert ("width_deep" in c) == (c["n_layers"] >= 4)
