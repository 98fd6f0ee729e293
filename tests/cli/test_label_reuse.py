"""One meaning for a reused label: it continues the search with that label (search, run_search,
submit), unless --new; and an unseeded search records the seed it drew."""

import os
import subprocess
import sys

import pytest

from hyperfleet import HpProblem
from hyperfleet.api import run_search
from hyperfleet.store import EvaluationState, SearchState, SqlStore
from tests.conftest import TUTORIAL


def hf(*args, cwd):
    env = {k: v for k, v in os.environ.items() if k != "HYPERFLEET_STORE"}
    env["SYNTHETIC_SLEEP"] = "0"
    return subprocess.run([sys.executable, "-m", "hyperfleet", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=180)


SEARCH = ["search", "-p", str(TUTORIAL / "problem.py"), "-r", str(TUTORIAL / "synthetic_run.py"), "--search",
          "random", "--evaluator", "serial", "--quiet", "--name", "same"]


def test_search_with_a_taken_label_continues_that_search(tmp_path):
    first = hf(*SEARCH, "--max-evals", "3", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    seed_line = next(line for line in first.stderr.splitlines() if line.startswith("seed "))
    seed = int(seed_line.split()[1])
    again = hf(*SEARCH, "--max-evals", "5", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "label same exists (FINISHED, 3 evaluations): continuing it up to 5 evaluations" in again.stderr
    store = SqlStore(tmp_path / "hyperfleet.db")
    [record] = store.list_searches()
    assert record.settings["seed"] == seed  # the drawn seed was recorded, and kept by the continuation
    assert len(store.list_evaluations(record.id, [EvaluationState.DONE])) == 5
    # nothing left to run: refused, saying what to do
    done = hf(*SEARCH, "--max-evals", "5", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "label same exists (FINISHED, 5 evaluations): nothing to run with --max-evals 5" in done.stderr
    assert "--new" in done.stderr
    # --new starts another search with the label
    other = hf(*SEARCH, "--max-evals", "2", "--new", cwd=tmp_path)
    assert other.returncode == 0, other.stderr
    assert len(SqlStore(tmp_path / "hyperfleet.db").list_searches()) == 2
    # another algorithm or problem under a taken label is refused
    ambs = hf(*[a if a != "random" else "ambs" for a in SEARCH], "--max-evals", "9", cwd=tmp_path)
    assert ambs.returncode == 2 and "uses the random search" in ambs.stderr


def test_run_search_with_a_taken_label_continues_it(tmp_path):
    problem = HpProblem()
    problem.add_dim("x", (0.0, 1.0))
    run = tmp_path / "run.py"
    run.write_text("def run(c):\n    return c['x']\n")
    store = SqlStore(tmp_path / "hf.db")
    first = run_search(problem, str(run), search="random", max_evals=2, evaluator="serial", store=store, label="L")
    assert isinstance(first.search.settings["seed"], int)  # drawn and recorded
    second = run_search(problem, str(run), search="random", max_evals=4, evaluator="serial", store=store, label="L")
    assert second.search.id == first.search.id and second.stats.done == 4
    third = run_search(problem, str(run), search="random", max_evals=2, evaluator="serial", store=store, label="L",
                       new=True)
    assert third.search.id != first.search.id
    other = HpProblem()
    other.add_dim("y", (0.0, 1.0))
    with pytest.raises(ValueError, match="searches another space"):
        run_search(other, str(run), search="random", max_evals=9, evaluator="serial", store=store, label="L")


def test_the_same_seed_repeats_an_unseeded_search(tmp_path):
    problem = HpProblem()
    problem.add_dim("x", (0.0, 1.0))
    run = tmp_path / "run.py"
    run.write_text("def run(c):\n    return c['x']\n")
    store = SqlStore(tmp_path / "hf.db")
    first = run_search(problem, str(run), search="random", max_evals=3, evaluator="serial", store=store, label="a")
    seed = first.search.settings["seed"]
    again = run_search(problem, str(run), search="random", max_evals=3, evaluator="serial", store=store, label="b",
                       seed=seed)
    configs = [[e.config for e in store.list_evaluations(r.search.id)] for r in (first, again)]
    assert configs[0] == configs[1]


def test_submit_with_a_taken_label_continues_it_and_a_queued_one_is_refused(tmp_path):
    """submit follows the same rule (its batch test continues a search across jobs); a search
    queued by a batch job cannot be continued here meanwhile."""
    problem = HpProblem()
    problem.add_dim("x", (0.0, 1.0))
    run = tmp_path / "run.py"
    run.write_text("def run(c):\n    return c['x']\n")
    store = SqlStore(tmp_path / "hf.db")
    first = run_search(problem, str(run), search="random", max_evals=2, evaluator="serial", store=store, label="q")
    store.update_search(first.search.id, state=SearchState.QUEUED, scheduler="slurm", job_id="42")
    with pytest.raises(ValueError, match="QUEUED.*slurm job 42.*hyperfleet cancel q"):
        run_search(problem, str(run), search="random", max_evals=4, evaluator="serial", store=store, label="q")


@pytest.mark.skipif(__import__("shutil").which("sbatch") is None,
                    reason="Slurm is not installed here (.ci/run installs and starts it)")
def test_submit_with_a_taken_label_continues_that_search_in_a_new_job(tmp_path):
    import shutil
    from pathlib import Path

    from tests.batch import test_slurm as slurm

    up = subprocess.run(["bash", str(Path(__file__).parents[2] / ".ci" / "slurm-up.sh")], capture_output=True,
                        text=True, timeout=120)
    assert up.returncode == 0, up.stderr
    for name in ("problem.py", "synthetic_run.py"):
        shutil.copy(TUTORIAL / name, tmp_path / name)
    submit = ["submit", "-p", "problem.py", "-r", "synthetic_run.py", "-t", "5", "-n", "1", "--search", "random"]
    first = slurm.hf([*submit, "--max-evals", "2", "sub"], tmp_path)
    assert "seed " in first.stderr  # unseeded: drawn, printed, recorded
    slurm.wait_for(lambda: slurm.search_state(tmp_path, "sub").state == SearchState.FINISHED,
                   what="the first job", project=tmp_path)
    seed = slurm.search_state(tmp_path, "sub").settings["seed"]
    assert isinstance(seed, int)
    again = slurm.hf([*submit, "--max-evals", "3", "sub"], tmp_path)
    assert "label sub exists (FINISHED, 2 evaluations): continuing it in a new job" in again.stderr
    slurm.wait_for(lambda: len([e for e in slurm._evaluations(tmp_path, "sub") if e.state == EvaluationState.DONE]) == 3
                   and slurm.search_state(tmp_path, "sub").state == SearchState.FINISHED,
                   what="the continued job", project=tmp_path)
    store = SqlStore(tmp_path / "hyperfleet.db")
    [record] = store.list_searches()
    assert record.settings["seed"] == seed
