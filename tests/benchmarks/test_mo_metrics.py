"""The multi-objective benchmark's own metric code (benchmarks/multiobjective): hypervolume on
hand-made points and known fronts, normalization, feasibility, and agreement with Optuna's WFG
hypervolume, moocore and pymoo's C2-DTLZ2 in the anchor venv (skipped where it is absent)."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.benchmarks.anchor_venv import ANCHOR_PYTHON, anchor_has

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "multiobjective"
sys.path.insert(0, str(BENCH))

import mo_problems  # noqa: E402
import mo_report  # noqa: E402
from mo_hv import hypervolume, nondominated  # noqa: E402

# ---------------------------------------------------------------- hand-made points

def test_hv_2d_hand_made():
    assert hypervolume([[0.5, 0.5]], [1, 1]) == pytest.approx(0.25)
    # two corners: 0.5 + 0.5 - 0.25 overlap
    assert hypervolume([[0.0, 0.5], [0.5, 0.0]], [1, 1]) == pytest.approx(0.75)
    # a dominated point, a duplicate and a point beyond the reference add nothing
    points = [[0.0, 0.5], [0.5, 0.0], [0.6, 0.6], [0.5, 0.0], [1.5, -1.0]]
    assert hypervolume(points, [1, 1]) == pytest.approx(0.75)
    # a point on the reference boundary has zero volume; no point at all too
    assert hypervolume([[1.0, 0.0]], [1, 1]) == 0.0
    assert hypervolume(np.empty((0, 2)), [1, 1]) == 0.0


def test_hv_2d_one_objective_constant_and_ties():
    # all points share f2: only the smallest f1 counts
    assert hypervolume([[0.2, 0.5], [0.4, 0.5], [0.9, 0.5]], [1, 1]) == pytest.approx(0.4)
    # same f1, different f2: only the smallest f2 counts
    assert hypervolume([[0.5, 0.2], [0.5, 0.7]], [1, 1]) == pytest.approx(0.4)


def test_hv_3d_hand_made():
    assert hypervolume([[0, 0, 0]], [1, 1, 1]) == pytest.approx(1.0)
    assert hypervolume([[0.5, 0.5, 0.5]], [1, 1, 1]) == pytest.approx(0.125)
    # three axis-aligned slabs, inclusion-exclusion: 3 * 0.5 - 3 * 0.25 + 0.125
    points = [[0, 0, 0.5], [0, 0.5, 0], [0.5, 0, 0], [0.7, 0.7, 0.7]]
    assert hypervolume(points, [1, 1, 1]) == pytest.approx(0.875)


def test_nondominated_ties_duplicates_constant():
    front = nondominated([[1, 2], [1, 2], [2, 1], [2, 2], [1, 3]])
    assert front.tolist() == [[1, 2], [2, 1]]
    assert nondominated([[0, 1, 5], [1, 0, 5], [1, 1, 5], [0, 1, 5]]).tolist() == [[0, 1, 5], [1, 0, 5]]
    assert nondominated([[3, 7]]).tolist() == [[3, 7]]


# ---------------------------------------------------------------- known fronts

@pytest.mark.parametrize("name", ["zdt1", "zdt2", "dtlz2_2"])
def test_sampled_fronts_match_closed_forms(name):
    problem = mo_problems.ALL[name]
    sampled = hypervolume(mo_report.normalize(problem, problem.front()), [mo_problems.REF] * 2)
    assert sampled == pytest.approx(problem.exact_hv, rel=1e-4)


def test_dtlz2_3_sampled_front_approaches_closed_form():
    problem = mo_problems.ALL["dtlz2_3"]
    sampled = hypervolume(problem.front(), [mo_problems.REF] * 3)
    # a finite sample of the sphere dominates a little less than the sphere itself
    assert problem.exact_hv * 0.97 < sampled < problem.exact_hv


def test_problems_reach_their_fronts():
    x = {f"x{i}": 0.5 for i in range(10)}
    f, _ = mo_problems.zdt1({**x, **{f"x{i}": 0.0 for i in range(1, 10)}, "x0": 0.25})
    assert f == pytest.approx((0.25, 0.5))
    f, _ = mo_problems.dtlz2(3)(x)                     # g = 0: on the unit sphere
    assert np.linalg.norm(f) == pytest.approx(1.0)
    f, g = mo_problems.c2dtlz2(x)                      # the sphere point at 45 degrees: feasible
    assert f == pytest.approx((math.sqrt(0.5), math.sqrt(0.5))) and g[0] < 0
    f, g = mo_problems.c2dtlz2({**x, "x0": 0.3})       # between two feasible regions
    assert g[0] > 0


def test_normalized_hv_counts_feasible_successful_points_only():
    problem = mo_problems.ALL["c2dtlz2"]
    good = [math.sqrt(0.5), math.sqrt(0.5)]
    record = {"objectives": [None, good, [0.0, 0.0]], "constraints": [[], [-0.1], [5.0]]}
    hv = mo_report.normalized_hv(problem, record)
    expected = (1.1 - good[0]) ** 2 / mo_report.reference_hv("c2dtlz2")
    assert hv == pytest.approx(expected)
    assert mo_report.normalized_hv(problem, record, 1) == 0.0


def test_normalize_flips_maximized_objectives():
    problem = mo_problems.ALL["mlp_digits"]          # accuracy max, log10 params min
    (lo_acc, lo_size), (hi_acc, hi_size) = problem.lower, problem.upper
    rows = mo_report.normalize(problem, [[hi_acc, lo_size], [lo_acc, hi_size]])
    np.testing.assert_allclose(rows, [[0.0, 0.0], [1.0, 1.0]], atol=1e-12)


def test_ranks_share_ties():
    assert mo_report._ranks({"a": 0.9, "b": 0.5, "c": 0.9}) == {"a": 1.5, "b": 3.0, "c": 1.5}


# ---------------------------------------------------------------- against the anchors' code

ANCHOR_CHECK = r"""
import json, sys
import numpy as np
from optuna._hypervolume import compute_hypervolume
import moocore
from pymoo.problems.many.cdtlz import constraint_c2
cases = json.loads(sys.stdin.read())
out = {"optuna": [], "moocore": []}
for points, ref in cases["hv"]:
    p, r = np.array(points, dtype=float), np.array(ref, dtype=float)
    p = p[np.all(p < r, axis=1)]
    out["optuna"].append(float(compute_hypervolume(p, r)) if len(p) else 0.0)
    out["moocore"].append(float(moocore.hypervolume(p, ref=r)) if len(p) else 0.0)
out["c2"] = constraint_c2(np.array(cases["c2"]), 0.2).tolist()
print(json.dumps(out))
"""


@pytest.mark.skipif(not anchor_has("optuna", "moocore", "pymoo"),
                    reason="anchor venv without optuna, moocore and pymoo")
def test_hv_and_constraint_agree_with_optuna_moocore_pymoo():
    rng = np.random.default_rng(0)
    cases = []
    for m, n in [(2, 5), (2, 60), (3, 8), (3, 60), (3, 200)]:
        points = rng.uniform(0, 1, (n, m))
        if m == 3 and n == 200:             # points near a sphere: many non-dominated
            points = points / np.linalg.norm(points, axis=1, keepdims=True)
        cases.append((np.round(points, 6).tolist(), [1.1] * m))
    cases.append(([[0.2, 0.5, 0.5], [0.2, 0.5, 0.5], [0.5, 0.2, 0.9]], [1.0, 1.0, 1.0]))
    c2_points = rng.uniform(0, 1.5, (50, 2))
    proc = subprocess.run([str(ANCHOR_PYTHON), "-c", ANCHOR_CHECK], cwd="/",
                          input=json.dumps({"hv": cases, "c2": c2_points.tolist()}),
                          capture_output=True, text=True, timeout=300, check=True)
    theirs = json.loads(proc.stdout.strip().splitlines()[-1])
    ours = [hypervolume(p, r) for p, r in cases]
    assert ours == pytest.approx(theirs["optuna"], rel=1e-9, abs=1e-12)
    assert ours == pytest.approx(theirs["moocore"], rel=1e-9, abs=1e-12)
    assert mo_problems.c2_constraint(c2_points).tolist() == pytest.approx(theirs["c2"])


# ---------------------------------------------------------------- the harness end to end

def _run_one(python: str, engine: str, problem: str, budget: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(BENCH.parents[1] / "src")}
    proc = subprocess.run([python, str(BENCH / "run_one.py"), engine, problem, "0", "--budget",
                           str(budget)], env=env, capture_output=True, text=True, timeout=300,
                          check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_run_one_hyperfleet_random_on_constrained_problem():
    record = _run_one(sys.executable, "hf-random", "c2dtlz2", 12)
    assert len(record["objectives"]) == len(record["constraints"]) == len(record["ask_tell_ms"]) == 12
    assert all(len(f) == 2 and len(g) == 1 for f, g in zip(record["objectives"], record["constraints"]))
    assert 0.0 <= mo_report.normalized_hv(mo_problems.ALL["c2dtlz2"], record) <= 1.0


@pytest.mark.skipif(not anchor_has("optuna"), reason="anchor venv without optuna")
def test_run_one_optuna_on_the_real_task():
    record = _run_one(str(ANCHOR_PYTHON), "optuna-nsga2", "mlp_digits", 8)
    assert all(len(f) == 2 for f in record["objectives"])
    # every looked-up value is a row of the table
    assert {tuple(f) for f in record["objectives"]} <= set(mo_problems.mo_task.table().values())
