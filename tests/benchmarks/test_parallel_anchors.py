"""The parallel-quality benchmark (benchmarks/scale/parallel_*.py): the event-driven clock keeps W
workers busy, gives every engine the same schedule for a seed, and the report's ranks and
best-so-far read that schedule right. One run end to end per interpreter (Optuna's in the anchor
venv, skipped where it is absent)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.benchmarks.anchor_venv import ANCHOR_PYTHON, anchor_has

ROOT = Path(__file__).resolve().parents[2]
SCALE = ROOT / "benchmarks" / "scale"
sys.path.insert(0, str(SCALE))
sys.path.insert(0, str(SCALE.parent))

import engines  # noqa: E402
import parallel_engine  # noqa: E402
import parallel_report  # noqa: E402
from aside_problems import ASIDE, find_problem  # noqa: E402


class _Counting:
    """An engine wrapper that records how many evaluations were pending at each ask."""

    def __init__(self, inner):
        self.inner, self.pending, self.asked = inner, 0, []

    def ask(self, n):
        self.asked.append((n, self.pending))
        configs = self.inner.ask(n)
        self.pending += len(configs)
        return configs

    def tell(self, results):
        self.pending -= len(results)
        self.inner.tell(results)


def _run(spec: str, workers: int, evals: int, seed: int = 3) -> tuple[dict, _Counting]:
    problem = find_problem("branin")
    engine = _Counting(engines.make_engine(spec, problem.space, seed, evals))
    out = parallel_engine.simulate(engine, problem, workers=workers, evals=evals,
                                   seconds=parallel_engine.durations(seed, evals, 60.0, 0.5),
                                   wall_limit=float("inf"))
    return out, engine


def test_workers_kept_busy_and_the_schedule_is_the_engines_own_business():
    random_run, random_engine = _run("hf-random", workers=8, evals=40)
    ambs_run, _ = _run("hf-ambs", workers=8, evals=40)
    assert random_run["complete"] and len(random_run["values"]) == 40
    # the first ask fills every worker; each later one refills exactly the freed workers
    assert random_engine.asked[0] == (8, 0)
    assert all(n + pending == 8 for n, pending in random_engine.asked[1:])
    # the same seed: the same completion times whatever the engine proposed
    assert random_run["ends"] == ambs_run["ends"]
    assert random_run["values"] != ambs_run["values"]
    assert random_run["ends"] == sorted(random_run["ends"])


def test_durations_depend_on_the_seed_only():
    a = parallel_engine.durations(0, 100, 60.0, 0.5)
    assert list(a) == list(parallel_engine.durations(0, 100, 60.0, 0.5))
    assert list(a) != list(parallel_engine.durations(1, 100, 60.0, 0.5))
    assert 50 < a.mean() < 70


def test_report_ranks_and_best_so_far():
    assert parallel_report.ranks({"a": 0.1, "b": 0.3, "c": 0.1}) == {"a": 1.5, "c": 1.5, "b": 3}
    record = dict(ends=[10.0, 20.0, 30.0], values=[1.0, None, 3.0], complete=False)
    assert parallel_report.best_by(record, 25.0) == 1.0
    assert parallel_report.best_by(record, 5.0) is None
    assert parallel_report.reached(record, 30.0) and not parallel_report.reached(record, 31.0)


def test_aside_problems_reach_their_optimum():
    st = ASIDE["stybtang_mixed"]
    x = -2.903534
    assert st(dict(x0=x, x1=x, x2=x, x3=x, n=-6, mode="plain")) == pytest.approx(st.optimum)
    assert ASIDE["rosen_int"](dict(a=1.0, b=1.0, c=1.0, i=4, j=4)) == pytest.approx(0.0)


@pytest.mark.skipif(not anchor_has("optuna"), reason="anchor venv without optuna")
def test_optuna_constant_liar_in_the_anchor_venv():
    proc = subprocess.run([str(ANCHOR_PYTHON), str(SCALE / "parallel_engine.py"),
                           "optuna-tpe:constant_liar=true:multivariate=true", "branin", "3",
                           "--workers", "8", "--evals", "40"], capture_output=True, text=True,
                          check=True, env=dict(os.environ), timeout=300)
    record = json.loads(proc.stdout.splitlines()[-1])
    assert record["complete"] and record["versions"]["optuna"]
    assert record["ends"] == _run("hf-random", workers=8, evals=40)[0]["ends"]
