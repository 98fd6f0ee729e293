"""Stores to test against: SQLite files in both journal modes, and PostgreSQL when one is given.

PostgreSQL: ``$HYPERFLEET_TEST_POSTGRES_URL`` (CI sets it from ``.ci/postgres-up.sh``); the
``postgres_url`` / ``postgres_schema_url`` fixtures are in the top conftest.
"""

import functools

import pytest

from hyperfleet.store import SqlStore

BACKENDS = ["sqlite-wal", "sqlite-delete", "postgresql"]


@pytest.fixture(params=BACKENDS)
def make_store(request, tmp_path):
    """Opens the same new store on every call (picklable, for other processes)."""
    if request.param == "postgresql":
        return functools.partial(SqlStore, request.getfixturevalue("postgres_schema_url"))
    mode = request.param.removeprefix("sqlite-")
    return functools.partial(SqlStore, str(tmp_path / "hf.db"), journal_mode=mode)
