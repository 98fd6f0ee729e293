"""Warm start: an earlier search's results told to a new one, across changed spaces."""

import os
import subprocess
import sys

import pytest

from hyperfleet import HpProblem, RandomSearch, run_search
from hyperfleet.api import continue_search
from hyperfleet.store import SqlStore
from hyperfleet.warm_start import fit, load_warm_start


def xy_problem(x_high=1.0, with_kind=True):
    p = HpProblem()
    p.add_dim("x", (0.0, x_high))
    p.add_dim("y", (0.0, 1.0))
    if with_kind:
        p.add_dim("kind", ["a", "b"])
    return p


def xy_run(param_dict):
    return -(param_dict["x"] - 0.3) ** 2 - (param_dict["y"] - 0.6) ** 2


def first_search(tmp_path, n=12):
    store = tmp_path / "hf.db"
    result = run_search(xy_problem(), xy_run, search="random", max_evals=n, evaluator="serial",
                        label="first", seed=0, store=store)
    return store, result


def test_warm_results_are_told_not_rerun_and_outside_the_budget(tmp_path, capsys):
    store, first = first_search(tmp_path)
    search = RandomSearch(xy_problem(), seed=1)
    second = run_search(xy_problem(), xy_run, search=search, max_evals=5, evaluator="serial",
                        label="second", store=store, warm_start="first")
    assert "warm start: 12 results from first" in capsys.readouterr().err
    assert search.n_warm == 12 and len(search.history) == 17
    db = SqlStore(store)
    assert len(db.list_evaluations(second.search.id)) == 5  # the budget is the new search's own
    firsts = {tuple(sorted(e.config.items())) for e in db.list_evaluations(first.search.id)}
    seconds = {tuple(sorted(e.config.items())) for e in db.list_evaluations(second.search.id)}
    assert not firsts & seconds  # nothing re-run
    warm = db.get_search(second.search.id).settings["warm_start"]
    assert warm["search"] == first.search.id and warm["told"] == 12 and warm["dropped"] == 0


def test_warm_start_fits_a_changed_space_and_says_what_it_dropped(tmp_path):
    store, first = first_search(tmp_path, n=20)
    db = SqlStore(store)
    xs = [e.config["x"] for e in db.list_evaluations(first.search.id)]
    new = xy_problem(x_high=0.5, with_kind=False)  # x narrowed, kind dropped
    new.add_dim("width", (1, 8), default=4)         # added, with the value the first search used
    warm = load_warm_start(db, "first", new)
    kept = sum(x <= 0.5 for x in xs)
    assert 0 < kept < 20 and len(warm.results) == kept
    assert all(c["width"] == 4 and "kind" not in c and c["x"] <= 0.5 for c, _, _ in warm.results)
    assert warm.line == (f"warm start: {kept} results from first (dropped {20 - kept}: {20 - kept} outside "
                         f"the new range of 'x'; column 'kind' not in the new problem, ignored)")
    # an added dimension without a default: the results cannot be placed in the new space
    bare = xy_problem()
    bare.add_dim("depth", (1, 3))
    warm = load_warm_start(db, first.search.id[:8], bare)
    assert warm.results == []
    assert "dropped 20: 20 no value for the new dimension 'depth' (give it a default)" in warm.line


def test_fit_follows_new_conditions_and_clauses():
    import hyperfleet as cs

    p = xy_problem()
    p.add_dim("momentum", (0.0, 1.0), default=0.5)
    p.add_condition(cs.EqualsCondition("momentum", "kind", "a"))
    p.add_condition(cs.LessThanCondition("y", "x", 0.5))
    p.add_forbidden_clause(cs.ForbiddenEqualsClause("kind", "b"))
    assert fit({"x": 0.2, "y": 0.1, "kind": "a"}, p) == ({"x": 0.2, "y": 0.1, "kind": "a", "momentum": 0.5}, "")
    assert fit({"x": 0.7, "y": 0.1, "kind": "a"}, p)[0] == {"x": 0.7, "kind": "a", "momentum": 0.5}
    assert fit({"x": 0.7, "y": 0.1, "kind": "b"}, p) == (None, "forbidden by the new clauses")


def test_resume_tells_the_same_warm_results(tmp_path):
    store, first = first_search(tmp_path)
    run_search(xy_problem(), xy_run, search="random", max_evals=3, evaluator="serial", label="second",
               seed=2, store=store, warm_start="first")
    run_search(xy_problem(), xy_run, search="random", max_evals=16, evaluator="serial", label="first",
               store=store)  # the source grows afterwards
    search = RandomSearch(xy_problem(), seed=3)
    result = continue_search("second", store=store, max_evals=6, evaluator="serial", search=search)
    assert result.stats.done == 6
    assert search.n_warm == 12  # the 12 read at the start, not the 16 there are now


def test_cli_warm_start_and_ls(tmp_path):
    problem = tmp_path / "problem.py"
    problem.write_text("from hyperfleet import HpProblem\nProblem = HpProblem()\n"
                       "Problem.add_dim('x', (0.0, 1.0))\n")
    run = tmp_path / "run.py"
    run.write_text("def run(p):\n    return -(p['x'] - 0.3) ** 2\n")
    env = {k: v for k, v in os.environ.items() if k != "HYPERFLEET_STORE"}

    def hf(*args):
        return subprocess.run([sys.executable, "-m", "hyperfleet", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)

    base = ["search", "-p", str(problem), "-r", str(run), "--search", "random", "--evaluator", "serial",
            "--quiet"]
    assert hf(*base, "--max-evals", "6", "--name", "one").returncode == 0
    out = hf(*base, "--max-evals", "3", "--name", "two", "--warm-start", "one")
    assert out.returncode == 0, out.stderr
    assert "warm start: 6 results from one" in out.stderr
    ls = hf("ls", "two")
    assert "3 done" in ls.stdout and "warm start: 6 results from one" in ls.stdout
    bad = hf(*base, "--max-evals", "3", "--name", "three", "--warm-start", "nosuch")
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: --warm-start nosuch: no search with label or id 'nosuch'")
    assert "Traceback" not in bad.stderr
    model = hf("search", "-p", str(problem), "-r", str(run), "--evaluator", "serial", "--quiet",
               "--max-evals", "3", "--name", "four", "--warm-start", "one",
               "--setting", "warm_model=bad")
    assert model.returncode != 0
    assert model.stderr.strip() == "error: AMBS setting 'warm_model': must be one of prior, noise (got 'bad')"


@pytest.mark.parametrize("search", ["ambs"])
def test_ambs_warm_start_skips_its_initial_design(tmp_path, search):
    from hyperfleet.search.ambs import AMBS

    store, _ = first_search(tmp_path)
    ambs = AMBS(xy_problem(), seed=0, surrogate="et", n_trees=16)
    load_warm_start(SqlStore(store), "first", xy_problem()).tell(ambs)
    ambs.set_budget(10)
    assert not ambs._in_final_phase()  # the warm results are not part of the budget
    [config] = ambs.ask(1)
    assert ambs._design_queue == []  # 12 results already: no space-filling design is needed
