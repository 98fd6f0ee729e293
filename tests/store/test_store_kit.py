"""Every store passes the shared kit (hyperfleet.testing.store_kit) on real databases.

The ``postgresql`` cases skip without ``$HYPERFLEET_TEST_POSTGRES_URL`` (see conftest.py).
"""

import pytest

from hyperfleet.testing import store_kit as kit


@pytest.mark.parametrize("check", kit.ALL_CHECKS + kit.SQL_CHECKS,
                         ids=lambda c: c.__name__.removeprefix("check_"))
def test_store_kit(make_store, check):
    check(make_store)
