"""ConfigSpace interop and the modern DeepHyper problem API."""

import pytest

import hyperfleet as hcs
from hyperfleet import HpProblem

CS = pytest.importorskip("ConfigSpace")


def configspace_with_rules():
    cs = CS.ConfigurationSpace(seed=0)
    opt = CS.CategoricalHyperparameter("optimizer", ["sgd", "adam"], default_value="adam")
    lr = CS.UniformFloatHyperparameter("lr", 1e-4, 1e-1, log=True)
    momentum = CS.UniformFloatHyperparameter("momentum", 0.0, 0.99)
    n = CS.UniformIntegerHyperparameter("n_layers", 1, 3)
    u2 = CS.UniformIntegerHyperparameter("units_2", 8, 256, log=True)
    u3 = CS.UniformIntegerHyperparameter("units_3", 8, 256, log=True)
    act = CS.Constant("activation", "relu")
    batch = CS.CategoricalHyperparameter("batch", [16, 32, 64], default_value=64)
    cs.add(opt, lr, momentum, n, u2, u3, act, batch)
    cs.add(CS.EqualsCondition(momentum, opt, "sgd"),
           CS.InCondition(u2, n, [2, 3]),
           CS.AndConjunction(CS.GreaterThanCondition(u3, n, 2), CS.NotEqualsCondition(u3, opt, "sgd")))
    cs.add(CS.ForbiddenAndConjunction(CS.ForbiddenEqualsClause(opt, "adam"),
                                      CS.ForbiddenInClause(batch, [16, 32])),
           CS.ForbiddenEqualsClause(n, 1))
    return cs


def test_configspace_round_trip_with_conditions_and_forbidden_clauses():
    cs = configspace_with_rules()
    problem = HpProblem.from_configspace(cs)
    assert len(problem.conditions) == 3 and len(problem.forbidden_clauses) == 2
    assert problem.to_configspace() == cs
    for config in problem.sample(200, seed=0):
        assert ("momentum" in config) == (config["optimizer"] == "sgd")
        assert config["n_layers"] != 1
        assert not (config["optimizer"] == "adam" and config["batch"] in (16, 32))
        CS.Configuration(cs, values=config)  # ConfigSpace accepts it (raises otherwise)
    for config in cs.sample_configuration(100):
        values = {k: (v.item() if hasattr(v, "item") else v) for k, v in dict(config).items()}
        assert problem.validate(values) == values


def test_problem_round_trip_through_configspace():
    p = HpProblem()
    opt = p.add_hyperparameter(["sgd", "adam"], "optimizer")
    m = p.add_hyperparameter((0.0, 0.99), "momentum", default_value=0.9)
    n = p.add_hyperparameter((1, 4), "n_layers")
    w = p.add_hyperparameter((0.0, 1.0), "wide")
    p.add_condition(hcs.EqualsCondition(m, opt, "sgd"))
    p.add_condition(hcs.RangeCondition(w, n, 2, 3))
    p.add_forbidden_clause(hcs.ForbiddenAndConjunction(hcs.ForbiddenEqualsClause(opt, "adam"),
                                                       hcs.ForbiddenInClause(n, [3, 4])))
    q = HpProblem.from_configspace(p.to_configspace())
    assert {d.name: (d.kind, d.to_dict().get("low"), d.to_dict().get("high")) for d in q.dims} == \
        {d.name: (d.kind, d.to_dict().get("low"), d.to_dict().get("high")) for d in p.dims}
    assert q["momentum"].default == 0.9
    assert q.forbidden_clauses == p.forbidden_clauses
    # the integer range condition comes back as the InCondition it was written as
    assert hcs.InCondition("wide", "n_layers", [2, 3]) in q.conditions
    configs = p.sample(100, seed=1)
    assert all(q.validate(c) == c for c in configs)


def test_configspace_conditions_go_straight_into_add_condition():
    cs = configspace_with_rules()
    p = HpProblem()
    for hp in cs.values():
        p.add_hyperparameter(hp)
    p.add_conditions(cs.conditions)
    for clause in cs.forbidden_clauses:
        p.add_forbidden_clause(clause)
    assert p == HpProblem.from_configspace(cs)


def test_deephyper_problem_needs_only_new_imports():
    # DeepHyper 0.13:  from deephyper.hpo import HpProblem;  import ConfigSpace as cs
    cs = hcs  # hyperfleet exports the condition and clause classes under ConfigSpace's names
    problem = HpProblem()
    x = problem.add_hyperparameter((0.0, 10.0), "x")
    y = problem.add_hyperparameter((1e-4, 1.0, "log-uniform"), "y")
    k = problem.add_hyperparameter((0, 10), "k", default_value=5)
    kind = problem.add_hyperparameter(["a", "b"], "kind")
    const = problem.add_hyperparameter("fixed", "const")
    mixed = problem.add_hyperparameter((1, 5.0), "mixed")  # a float bound makes it continuous
    problem.add_condition(cs.LessThanCondition(y, x, 1.0))
    problem.add_forbidden_clause(cs.ForbiddenEqualsClause(kind, "b"))
    assert y.log and k.default == 5 and const.choices == ("fixed",) and mixed.kind == "float"
    assert problem["x"] is x
    for c in problem.sample(50, seed=0):
        assert ("y" in c) == (c["x"] < 1.0) and c["kind"] == "a"


def test_unsupported_configspace_pieces_say_so():
    p = HpProblem()
    with pytest.raises(ValueError, match="NormalFloatHyperparameter.*not supported"):
        p.add_hyperparameter(CS.NormalFloatHyperparameter("n", mu=0.0, sigma=1.0, lower=-3.0, upper=3.0))
    with pytest.raises(ValueError, match="normal priors"):
        p.add_hyperparameter({"mu": 0.0, "sigma": 1.0}, "n")
    with pytest.raises(ValueError, match="give the dimension a name"):
        p.add_hyperparameter((0, 1))
    with pytest.raises(ValueError, match="ConfigurationSpace"):
        HpProblem.from_configspace({"x": (0, 1)})


def test_deephyper_add_takes_hyperparameters_conditions_and_clauses():
    p = HpProblem()
    opt = p.add(CS.CategoricalHyperparameter("opt", ["sgd", "adam"]))
    m = p.add((0.0, 1.0), "m")
    p.add(hcs.EqualsCondition(m, opt, "sgd"))
    p.add(CS.ForbiddenEqualsClause(CS.CategoricalHyperparameter("opt", ["sgd", "adam"]), "adam"))
    assert len(p.conditions) == 1 and len(p.forbidden_clauses) == 1
    assert all(c["opt"] == "sgd" and "m" in c for c in p.sample(20, seed=0))


def test_ordinal_and_stepped_dimensions_round_trip_as_configspace_ordinals():
    problem = HpProblem()
    problem.add_dim("batch", [16, 32, 64, 128])
    problem.add_dim("units", (16, 512), step=16)
    problem.add_dim("cat", hcs.Categorical([1, 2, 3]))
    cs = problem.to_configspace()
    assert isinstance(cs["batch"], CS.OrdinalHyperparameter)
    assert list(cs["batch"].sequence) == [16, 32, 64, 128]
    assert list(cs["units"].sequence) == list(range(16, 513, 16))
    assert isinstance(cs["cat"], CS.CategoricalHyperparameter)
    back = HpProblem.from_configspace(cs)
    assert back.space["batch"].kind == "ord" and back.space["cat"].kind == "cat"
    assert list(back.space["batch"].values) == [16, 32, 64, 128]
    assert back.to_configspace() == cs
