from pathlib import Path

import pytest

import hyperfleet.testing.runs
from hyperfleet import HpProblem

RUNS = Path(hyperfleet.testing.runs.__file__)
TUTORIAL = Path(__file__).parents[1] / "examples" / "tutorial"


def run_ref(name: str) -> str:
    return f"{RUNS}:{name}"


@pytest.fixture
def x_problem() -> HpProblem:
    problem = HpProblem()
    problem.add_dim("x", (0.0, 1.0))
    return problem


@pytest.fixture
def tutorial_problem() -> HpProblem:
    from hyperfleet.user_code import load_problem

    return load_problem(str(TUTORIAL / "problem.py"))[0]
