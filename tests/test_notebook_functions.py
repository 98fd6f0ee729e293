"""Run functions no file defines (notebooks, ``python -``, closures, lambdas) and scripts without
the ``__main__`` guard."""

import inspect
import os
import pydoc
import subprocess
import sys
import textwrap
import threading

import pytest

import hyperfleet
from hyperfleet import HpProblem
from hyperfleet.api import continue_search, run_search
from hyperfleet.store import SqlStore
from hyperfleet.user_code import UserCodeError


def _problem() -> HpProblem:
    problem = HpProblem()
    problem.add_dim("x", (0.0, 1.0))
    return problem


def _notebook_function():
    """A function defined as a notebook cell defines it: in a ``__main__``-like namespace, no file."""
    namespace = {"__name__": "__main__"}
    exec("import math\n\ndef run(config):\n    return math.sqrt(config['x']) + 10\n", namespace)
    return namespace["run"]


def _closure():
    offset = 20.0

    def run(config):
        return config["x"] + offset

    return run


FUNCTIONS = {"notebook": (_notebook_function, 10.0, 11.0), "closure": (_closure, 20.0, 21.0),
             "lambda": (lambda: (lambda config: config["x"] + 30.0), 30.0, 31.0)}


@pytest.mark.parametrize("evaluator", ["serial", "thread", "process", "dask"])
def test_notebook_closure_and_lambda_run_with_every_evaluator(tmp_path, evaluator):
    if evaluator == "dask":
        pytest.importorskip("distributed")
    store = SqlStore(tmp_path / "hf.db")
    workers = None if evaluator == "serial" else 2
    for name, (make, low, high) in FUNCTIONS.items():
        result = run_search(_problem(), make(), search="random", max_evals=3, evaluator=evaluator,
                            workers=workers, store=store, label=f"{name}-{evaluator}", seed=0)
        assert result.stats.done == 3 and result.stats.failed == 0, name
        assert low <= result.best.objective <= high, name


def test_a_function_that_cannot_be_pickled_fails_once_before_anything_runs(tmp_path):
    lock = threading.Lock()

    def run(config):
        with lock:
            return config["x"]

    with pytest.raises(UserCodeError, match="cannot be sent to worker processes.*evaluator='thread'"):
        run_search(_problem(), run, search="random", max_evals=2, evaluator="process", workers=1,
                   store=str(tmp_path / "hf.db"), label="nope")
    assert not (tmp_path / "hf.db").exists() or SqlStore(tmp_path / "hf.db").list_searches() == []
    assert not (tmp_path / "searches").exists()
    # in this process it needs no pickling
    result = run_search(_problem(), run, search="random", max_evals=2, evaluator="thread", workers=2,
                        store=str(tmp_path / "hf.db"), label="yes")
    assert result.stats.done == 2


def test_resuming_a_search_of_a_function_needs_the_function_again(tmp_path):
    store = SqlStore(tmp_path / "hf.db")
    run = _closure()
    run_search(_problem(), run, search="random", max_evals=2, evaluator="serial", store=store, label="nb", seed=0)
    with pytest.raises(ValueError, match=r"continue_search\('nb', run=that_function\)"):
        continue_search("nb", store=store, max_evals=4)
    result = continue_search("nb", store=store, max_evals=4, run=run)
    assert result.stats.done == 4


def _python(args, script, cwd, timeout=180):
    env = {k: v for k, v in os.environ.items() if k != "HYPERFLEET_STORE"}
    return subprocess.run([sys.executable, *args], input=script, cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_a_function_typed_into_python_stdin_runs_on_worker_processes(tmp_path):
    script = textwrap.dedent("""
        from hyperfleet import HpProblem, run_search
        problem = HpProblem()
        problem.add_dim("x", (0.0, 1.0))
        def run(config):
            return config["x"] + 40
        result = run_search(problem, run, search="random", max_evals=3, evaluator="process", workers=2, seed=0)
        print("done", result.stats.done, result.stats.failed)
    """)
    proc = _python(["-"], script, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "done 3 0" in proc.stdout


README_EXAMPLE = """
from hyperfleet import HpProblem, run_search

problem = HpProblem()
problem.add_dim("x", (0.0, 1.0))

result = run_search(problem, "model_run.py", search="random", max_evals=4, evaluator="process", workers=2)
print(result.best.objective)
"""


def test_a_script_without_the_main_guard_gets_one_clear_message(tmp_path):
    (tmp_path / "model_run.py").write_text("def run(config):\n    return config['x']\n")
    (tmp_path / "search.py").write_text(README_EXAMPLE)
    proc = _python(["search.py"], "", tmp_path)
    assert proc.returncode != 0
    assert 'if __name__ == "__main__":' in proc.stderr
    assert proc.stderr.count("Traceback") <= 1, proc.stderr
    assert "bootstrapping phase" not in proc.stderr and "search.py:7" in proc.stderr
    assert not (tmp_path / "hyperfleet.db").exists() and not (tmp_path / "searches").exists()
    # with the guard, as the README shows it, the same script works
    guarded = README_EXAMPLE.replace("\nresult = run_search", '\nif __name__ == "__main__":\n    result = run_search')
    guarded = guarded.replace("\nprint(", "\n    print(")
    (tmp_path / "search.py").write_text(guarded)
    proc = _python(["search.py"], "", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert 0 <= float(proc.stdout.strip().splitlines()[-1]) <= 1


def test_help_shows_the_real_run_search_and_every_public_name():
    signature = inspect.signature(hyperfleet.run_search)
    assert "max_evals" in signature.parameters and "callbacks" in signature.parameters
    assert "Run a whole search" in (hyperfleet.run_search.__doc__ or "")
    text = pydoc.render_doc(hyperfleet, renderer=pydoc.plaintext)
    for name in hyperfleet.__all__:
        assert name in text, name
    assert "class AMBS" in text and "run_search(problem" in text
