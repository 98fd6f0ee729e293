"""Several objectives and constraints end to end: the real `hyperfleet` command, the store,
results.csv / pareto.csv, bad results, `results --pareto`, `ls`, and resume."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hyperfleet.pareto import pareto_mask
from hyperfleet.store import EvaluationState, SqlStore

PROBLEM = """
from hyperfleet import HpProblem
Problem = HpProblem()
Problem.add_dim('x', (0.0, 1.0))
Problem.add_dim('y', (0.0, 1.0))
Problem.add_objective('error', 'minimize')
Problem.add_objective('size', 'minimize')
Problem.add_constraint('memory')
"""
RUN = """
def run(c):
    x, y = c['x'], c['y']
    if x > 0.9:
        return [x]                          # one value for two objectives: that evaluation fails
    if y > 0.9:
        return {'objectives': {'error': x}}  # 'size' missing
    return {'objectives': {'error': x, 'size': (1 + y) * (1 - x ** 0.5)},
            'constraints': {'memory': y - 0.7}, 'metadata': {'note': 'fine'}}
"""


def hf(*args, cwd, check=True):
    env = {k: v for k, v in os.environ.items() if k != "HYPERFLEET_STORE"}
    proc = subprocess.run([sys.executable, "-m", "hyperfleet", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"hyperfleet {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def rows(path):
    with open(path) as f:
        return list(csv.reader(f))


@pytest.fixture(scope="module")
def mo_search(tmp_path_factory):
    work = tmp_path_factory.mktemp("mo")
    (work / "problem.py").write_text(PROBLEM)
    (work / "run.py").write_text(RUN)
    proc = hf("search", "-p", "problem.py", "-r", "run.py", "--search", "random", "--max-evals", "30",
              "--evaluator", "serial", "--name", "mo", "--seed", "3", "--store", "s.db", cwd=work)
    store = SqlStore(str(work / "s.db"))
    [search] = store.list_searches()
    yield work, proc, store, search
    store.close()


def test_values_are_stored_and_bad_results_fail_with_one_line(mo_search):
    work, proc, store, search = mo_search
    evals = store.list_evaluations(search.id)
    assert len(evals) == 30
    failed = [e for e in evals if e.state == EvaluationState.FAILED]
    done = [e for e in evals if e.state == EvaluationState.DONE]
    assert failed and done
    for e in failed:
        assert "\n" not in e.error and e.error.startswith("bad result: ")
        assert ("declares 2 (error, size)" in e.error) == (e.config["x"] > 0.9)
        assert ("missing objective(s) ['size']" in e.error) == (e.config["x"] <= 0.9)
    for e in done:
        assert len(e.objectives) == 2 and e.objective == e.objectives[0] == e.config["x"]
        assert e.constraints == [pytest.approx(e.config["y"] - 0.7)]
        assert e.feasible == (e.config["y"] <= 0.7) and e.metadata["note"] == "fine"
    assert "Pareto front:" in proc.stdout and "pareto.csv" in proc.stdout


def test_results_csv_and_pareto_csv_columns_and_rows(mo_search):
    work, _, store, search = mo_search
    folder = Path(search.folder)
    table = rows(folder / "results.csv")
    assert table[0] == ["x", "y", "memory", "error", "size", "elapsed_sec"]  # last objective 2nd-to-last
    assert len(table) == 31
    front = rows(folder / "pareto.csv")
    assert front[0] == table[0]
    done = [e for e in store.list_evaluations(search.id)
            if e.state == EvaluationState.DONE and e.feasible]
    Y = np.array([e.objectives for e in done])
    expected = {repr(e.config["x"]) for e, on in zip(done, pareto_mask(Y, ["minimize"] * 2)) if on}
    assert {r[0] for r in front[1:]} == expected and expected
    assert all(float(r[2]) <= 0 for r in front[1:])  # only feasible rows


def test_results_pareto_and_ls_show_the_objectives(mo_search):
    work, *_ = mo_search
    out = hf("results", "mo", "--pareto", "--store", "s.db", cwd=work).stdout
    assert "Pareto front of search" in out and "error" in out and "size" in out and "memory" in out
    n_front = len(rows(Path(mo_search[3].folder) / "pareto.csv")) - 1
    assert f"{n_front} feasible non-dominated" in out
    listing = hf("ls", "mo", "--store", "s.db", cwd=work).stdout
    assert "error, size" in listing and "(infeasible)" in listing and "(feasible)" in listing


@pytest.mark.parametrize("algorithm", ["random", "ambs"])
def test_resume_rebuilds_the_multi_objective_search(tmp_path, algorithm):
    (tmp_path / "problem.py").write_text(PROBLEM)
    (tmp_path / "run.py").write_text(RUN)
    args = ["search", "-p", "problem.py", "-r", "run.py", "--search", algorithm, "--evaluator",
            "serial", "--name", "again", "--store", "s.db", "--seed", "1"]
    hf(*args, "--max-evals", "8", cwd=tmp_path)
    store = SqlStore(str(tmp_path / "s.db"))
    try:
        [search] = store.list_searches()
        before = {tuple(sorted(e.config.items())) for e in store.list_evaluations(search.id)}
        proc = hf(*args, "--max-evals", "12", cwd=tmp_path)
        evals = store.list_evaluations(search.id)
        assert len(evals) == 12 and "Pareto front:" in proc.stdout
        new = [e for e in evals if tuple(sorted(e.config.items())) not in before]
        assert len(new) == 4  # told the 8 recorded ones, proposed none of them again
        assert len(rows(Path(search.folder) / "results.csv")) == 13
        done = [e for e in evals if e.state == EvaluationState.DONE and e.feasible]
        Y = np.array([e.objectives for e in done])
        n_front = int(pareto_mask(Y, ["minimize"] * 2).sum())
        assert len(rows(Path(search.folder) / "pareto.csv")) == n_front + 1
    finally:
        store.close()


def test_undeclared_tuple_gets_objective_columns(tmp_path):
    (tmp_path / "problem.py").write_text("from hyperfleet import HpProblem\nProblem = HpProblem()\n"
                                         "Problem.add_dim('x', (0.0, 1.0))\n")
    (tmp_path / "run.py").write_text("def run(c):\n    return c['x'], 1 - c['x'] ** 2\n")
    hf("search", "-p", "problem.py", "-r", "run.py", "--search", "random", "--max-evals", "6",
       "--evaluator", "serial", "--name", "plain", "--store", "s.db", cwd=tmp_path)
    store = SqlStore(str(tmp_path / "s.db"))
    try:
        [search] = store.list_searches()
        table = rows(Path(search.folder) / "results.csv")
        assert table[0] == ["x", "objective_0", "objective_1", "elapsed_sec"] and len(table) == 7
        assert all(float(r[1]) == float(r[0]) for r in table[1:])
        # maximized both: every point is on the front (x up, 1 - x^2 down)
        assert len(rows(Path(search.folder) / "pareto.csv")) == 7
    finally:
        store.close()


def test_report_draws_the_front_and_the_hypervolume(mo_search):
    work, _, store, search = mo_search
    out = hf("report", "mo", "--store", "s.db", cwd=work).stdout
    folder = Path(search.folder)
    assert "report_front.png" in out and "report_hypervolume.png" in out
    assert (folder / "report_front.png").stat().st_size > 5000
    page = (folder / "report.html").read_text()
    assert "Pareto front (" in page and "Hypervolume over time" in page
    n_front = len(rows(folder / "pareto.csv")) - 1
    assert f"Pareto front ({n_front} feasible non-dominated evaluations)" in page
    assert "<th>error</th><th>size</th><th>memory</th>" in page


def test_hypervolume_curve_never_decreases(mo_search):
    from hyperfleet.problem import HpProblem
    from hyperfleet.report.front import hypervolume_curve

    _, _, store, search = mo_search
    counts, volumes, ref = hypervolume_curve(HpProblem.from_dict(search.problem),
                                             store.list_evaluations(search.id))
    assert counts[-1] == 30 and len(ref) == 2 and volumes[-1] > 0
    assert all(b >= a for a, b in zip(volumes, volumes[1:]))


def test_single_minimized_objective_with_a_constraint_best_is_lowest_feasible(tmp_path):
    (tmp_path / "problem.py").write_text(
        "from hyperfleet import HpProblem\nProblem = HpProblem()\nProblem.add_dim('x', (0.0, 1.0))\n"
        "Problem.add_objective('loss', 'minimize')\nProblem.add_constraint('c')\n")
    # the lowest losses (x < 0.3) are infeasible: the best is the lowest loss with x >= 0.3
    (tmp_path / "run.py").write_text(
        "def run(c):\n    return {'objectives': [c['x']], 'constraints': [0.3 - c['x']]}\n")
    hf("search", "-p", "problem.py", "-r", "run.py", "--search", "random", "--max-evals", "12",
       "--evaluator", "serial", "--name", "loss", "--seed", "0", "--store", "s.db", cwd=tmp_path)
    store = SqlStore(str(tmp_path / "s.db"))
    try:
        [search] = store.list_searches()
        done = store.list_evaluations(search.id)
        want = min(e.objective for e in done if e.config["x"] >= 0.3)
        assert any(e.config["x"] < 0.3 for e in done)  # an infeasible, lower loss exists
        assert store.summary(search.id).best == want
    finally:
        store.close()
    out = hf("results", "loss", "--store", "s.db", cwd=tmp_path).stdout
    first = out.splitlines()[3].split()
    assert float(first[2]) == pytest.approx(want, rel=1e-5)
