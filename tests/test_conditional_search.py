"""AMBS and random search on a conditional space with forbidden clauses, through the real driver."""

import csv
import math
from pathlib import Path

import pytest

import hyperfleet as cs
from hyperfleet import HpProblem, run_search
from hyperfleet.api import continue_search
from hyperfleet.store import EvaluationState, SqlStore


def conditional_problem():
    p = HpProblem()
    p.add_dim("optimizer", ["sgd", "adam"])
    p.add_dim("lr", (1e-4, 1.0), log=True)
    p.add_dim("momentum", (0.0, 0.99))
    p.add_dim("n_layers", (1, 3))
    for i in (1, 2, 3):
        p.add_dim(f"units_{i}", (4, 256), log=True)
    p.add_condition(cs.EqualsCondition("momentum", "optimizer", "sgd"))
    p.add_condition(cs.RangeCondition("units_2", "n_layers", 2, None))
    p.add_condition(cs.RangeCondition("units_3", "n_layers", 3, None))
    p.add_forbidden_clause(cs.ForbiddenAndConjunction(cs.ForbiddenEqualsClause("optimizer", "adam"),
                                                      cs.ForbiddenEqualsClause("n_layers", 3)))
    p.add_starting_point(optimizer="adam", lr=0.01, n_layers=1, units_1=32)
    return p


def conditional_run(param_dict):
    """Fails loudly when handed an inactive hyperparameter or a forbidden configuration."""
    expected = {"optimizer", "lr", "n_layers", "units_1"}
    if param_dict["optimizer"] == "sgd":
        expected.add("momentum")
    expected.update(f"units_{i}" for i in range(2, param_dict["n_layers"] + 1))
    assert set(param_dict) == expected, param_dict
    assert not (param_dict["optimizer"] == "adam" and param_dict["n_layers"] == 3)
    y = -(math.log10(param_dict["lr"]) + 2) ** 2
    y -= (param_dict.get("momentum", 0.6) - 0.9) ** 2
    y -= sum((math.log2(param_dict[f"units_{i}"]) - 5) ** 2 for i in range(1, param_dict["n_layers"] + 1)) / 20
    return y + 0.2 * param_dict["n_layers"]


@pytest.mark.parametrize("search", ["ambs", "random"])
def test_search_end_to_end_on_a_conditional_space(tmp_path, search):
    problem = conditional_problem()
    store = tmp_path / "hf.db"
    settings = {"surrogate": "et", "n_trees": 16} if search == "ambs" else {}
    result = run_search(problem, conditional_run, search=search, max_evals=18, evaluator="serial",
                        label="cond", seed=1, store=store, search_settings=settings)
    assert result.stats.done == 18 and result.stats.failed == 0  # the run function asserts the rules
    db = SqlStore(store)
    evaluations = db.list_evaluations(result.search.id)
    assert all(problem.validate(e.config) == e.config for e in evaluations)
    assert any(e.config["optimizer"] == "sgd" for e in evaluations)
    assert any(e.config["optimizer"] == "adam" for e in evaluations)
    with open(Path(result.folder) / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 18
    for row in rows:  # an inactive hyperparameter is an empty cell
        assert (row["momentum"] == "") == (row["optimizer"] == "adam")
        assert (row["units_3"] == "") == (row["n_layers"] != "3")
    # the conditions and clauses are recorded: resume rebuilds the same problem and goes on
    assert db.get_search(result.search.id).problem["conditions"]
    more = continue_search("cond", store=store, max_evals=22, evaluator="serial")
    assert more.stats.done == 22
    assert all(problem.validate(e.config) == e.config
               for e in db.list_evaluations(result.search.id, [EvaluationState.DONE]))


def test_ambs_learns_on_a_conditional_space():
    from hyperfleet.search.ambs import AMBS

    problem = conditional_problem()
    search = AMBS(problem, seed=0, surrogate="et", n_trees=16)
    best = -math.inf
    for _ in range(30):
        [config] = search.ask(1)
        y = conditional_run(config)
        best = max(best, y)
        search.tell([(config, y)])
    random_best = max(conditional_run(c) for c in problem.sample(30, seed=0))
    assert best > random_best
