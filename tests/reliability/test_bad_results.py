"""Item 8: one unstorable result fails that evaluation only; what is kept per evaluation is capped."""

import json
from pathlib import Path

import pytest

from hyperfleet import HpProblem, run_search
from hyperfleet.execute import EvalOutcome
from hyperfleet.execute.limits import ERROR_MAX_CHARS, METADATA_MAX_BYTES, OUTPUT_KEEP_BYTES, clean_outcome
from hyperfleet.execute.serial import SerialExecutor
from hyperfleet.store import EvaluationState, SqlStore

RUN = """
import numpy as np

def run(c):
    n = c['n']
    if n == 1:
        return {"objective": 1.0, "bad": {(1, 2): "v"}}
    if n == 2:
        return {"objective": 2.0, "thing": object()}
    if n == 3:
        return {"objective": 3.0, "big": "x" * (3 * 1024 * 1024), "small": 1}
    if n == 4:
        print("y" * (11 * 1024 * 1024))
        raise ValueError("z" * (1024 * 1024))
    return {"objective": float(np.float32(n)), "arr": np.arange(3), "m": np.eye(2), "s": np.int64(n),
            "f": np.float32(0.5)}
"""


@pytest.fixture
def problem():
    p = HpProblem()
    p.add_dim("n", [0, 1, 2, 3, 4, 5])
    for n in range(6):
        p.add_starting_point(n=n)
    return p


@pytest.mark.parametrize("evaluator", ["process", "thread"])
def test_unstorable_metadata_fails_one_evaluation_and_the_search_goes_on(tmp_path, problem, evaluator):
    (tmp_path / "run.py").write_text(RUN)
    store = SqlStore(tmp_path / "hf.db")
    result = run_search(problem, str(tmp_path / "run.py"), search="random", max_evals=6, evaluator=evaluator,
                        workers=2, store=store, seed=0)
    by_n = {e.config["n"]: e for e in store.list_evaluations(result.search.id)}
    assert by_n[1].state == EvaluationState.FAILED and "keys must be strings" in by_n[1].error
    assert by_n[2].state == EvaluationState.FAILED and "object" in by_n[2].error
    assert by_n[0].state == by_n[5].state == EvaluationState.DONE
    assert by_n[5].metadata == {"arr": [0, 1, 2], "m": [[1.0, 0.0], [0.0, 1.0]], "s": 5, "f": 0.5}
    big = by_n[3]
    assert big.state == EvaluationState.DONE and big.metadata["small"] == 1 and "big" not in big.metadata
    assert "over the cap" in big.metadata["_truncated"]
    assert len(json.dumps(big.metadata)) <= METADATA_MAX_BYTES
    noisy = by_n[4]
    assert noisy.state == EvaluationState.FAILED
    assert len(noisy.error) <= ERROR_MAX_CHARS + 200 and "characters cut" in noisy.error
    stdout = Path(noisy.folder) / "stdout.txt"
    assert stdout.stat().st_size <= 2 * OUTPUT_KEEP_BYTES + 1024
    assert b"hyperfleet cut" in stdout.read_bytes()


class _BadMetadataExecutor(SerialExecutor):
    """A third-party executor that returns what the store cannot hold."""

    def wait_any(self, timeout=None):
        outcomes = super().wait_any(timeout)
        for outcome in outcomes:
            outcome.metadata = {(1, 2): "v"} if outcome.objective and outcome.objective > 0.5 else outcome.metadata
        return outcomes


def test_the_driver_guards_the_store_from_any_executor(tmp_path, x_problem):
    (tmp_path / "run.py").write_text("def run(c):\n    return c['x']\n")
    store = SqlStore(tmp_path / "hf.db")
    result = run_search(x_problem, str(tmp_path / "run.py"), search="random", max_evals=12,
                        evaluator=_BadMetadataExecutor(), store=store, seed=1)
    evaluations = store.list_evaluations(result.search.id)
    assert len(evaluations) == 12 and result.search.state.value == "FINISHED"
    bad = [e for e in evaluations if e.state == EvaluationState.FAILED]
    assert bad and all("cannot be stored" in e.error for e in bad)


def test_clean_outcome_converts_and_refuses():
    import numpy as np

    ok = clean_outcome(EvalOutcome("e", "DONE", 1.0, {"a": np.float64(2.5), "b": (1, np.int32(2))}))
    assert ok.metadata == {"a": 2.5, "b": [1, 2]} and ok.state == "DONE"
    bad = clean_outcome(EvalOutcome("e", "DONE", 1.0, {"a": {3: "x"}}))
    assert bad.state == "FAILED" and bad.objective is None and "key 3" in bad.error
