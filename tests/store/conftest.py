"""Stores to test against: SQLite files in both journal modes, and PostgreSQL when one is given.

PostgreSQL: ``$HYPERFLEET_TEST_POSTGRES_URL`` (CI sets it from ``.ci/postgres-up.sh``). Each test
gets its own empty schema on that database, dropped afterwards.
"""

import functools
import os
import uuid

import pytest

from hyperfleet.store import SqlStore

POSTGRES_ENV = "HYPERFLEET_TEST_POSTGRES_URL"
BACKENDS = ["sqlite-wal", "sqlite-delete", "postgresql"]


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


@pytest.fixture(params=BACKENDS)
def make_store(request, tmp_path):
    """Opens the same new store on every call (picklable, for other processes)."""
    if request.param == "postgresql":
        return functools.partial(SqlStore, request.getfixturevalue("postgres_schema_url"))
    mode = request.param.removeprefix("sqlite-")
    return functools.partial(SqlStore, str(tmp_path / "hf.db"), journal_mode=mode)
