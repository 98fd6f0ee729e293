"""Categorical choices that are tuples (layer shapes, kernel sizes): JSON turns them into lists,
so a search read back from the store had another problem than the one declared, and ``resume``
refused it as changed."""

import json
import subprocess
import sys

from hyperfleet.problem import HpProblem

PROBLEM = """
from hyperfleet import HpProblem
Problem = HpProblem()
Problem.add_dim("shape", [(1, 2), (3, 4), (5, 6)])
Problem.add_dim("x", (0.0, 1.0))
"""

RUN = """
def run(p):
    if not isinstance(p["shape"], tuple):
        raise TypeError(f"shape reached run as {type(p['shape']).__name__}")
    return p["x"] + sum(p["shape"])
"""


def test_tuple_and_list_choices_survive_json():
    problem = HpProblem()
    problem.add_dim("shape", [(1, 2), [3, [4, 5]]])
    back = HpProblem.from_dict(json.loads(json.dumps(problem.to_dict())))
    assert back.dims[0].choices == ((1, 2), (3, (4, 5))) == problem.dims[0].choices
    assert back.to_dict() == problem.to_dict()
    assert back.dims[0].validate([3, [4, 5]]) == (3, (4, 5))


def test_a_search_with_tuple_choices_resumes_and_run_always_gets_tuples(tmp_path):
    (tmp_path / "problem.py").write_text(PROBLEM)
    (tmp_path / "run.py").write_text(RUN)

    def hf(*args):
        return subprocess.run([sys.executable, "-m", "hyperfleet", *args, "--quiet"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)

    first = hf("search", "-p", "problem.py", "-r", "run.py", "--max-evals", "6", "--name", "t",
               "--evaluator", "serial", "--seed", "1")
    assert first.returncode == 0, first.stderr
    again = hf("resume", "t", "--max-evals", "10")
    assert again.returncode == 0, again.stderr
    from hyperfleet.store import EvaluationState, SqlStore

    store = SqlStore(tmp_path / "hyperfleet.db")
    evaluations = store.list_evaluations(store.resolve_search("t").id)
    assert len(evaluations) == 10 and all(e.state == EvaluationState.DONE for e in evaluations), \
        [e.error for e in evaluations if e.error]
