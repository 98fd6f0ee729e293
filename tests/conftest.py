import os
import uuid
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
    import copy

    from hyperfleet.user_code import load_problem

    # a copy: the loaded module (and its Problem) is cached, and tests add starting points to it
    return copy.deepcopy(load_problem(str(TUTORIAL / "problem.py"))[0])


# ----- PostgreSQL (tests/store, and a Slurm job with a password-protected store) ----------
POSTGRES_ENV = "HYPERFLEET_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def postgres_url():
    """The test server's URL; skips locally without one (CI always has one)."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"${POSTGRES_ENV} is not set, so there is no PostgreSQL to test against; "
                    f"run `export {POSTGRES_ENV}=$(bash .ci/postgres-up.sh)` (CI always does)")
    return url


@pytest.fixture
def postgres_schema_url(postgres_url):
    """A URL whose tables land in a new, empty schema of the test database."""
    import sqlalchemy as sa

    from hyperfleet.store.engines import parse_url

    schema = f"hf_test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(parse_url(postgres_url))
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = sa.engine.make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    engine.dispose()
