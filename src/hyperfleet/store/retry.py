"""Waiting out a locked store, and turning database errors into one line at the store's boundary.

A SQLite file another process holds locked (a long ``hyperfleet ls``, a backup, a stuck NFS lock)
or a PostgreSQL serialization failure is *transient*: the call is retried with backoff for up to
:func:`patience` seconds in all (``$HYPERFLEET_STORE_PATIENCE``, default 120). Whatever still fails,
and every other database error, leaves the store as a :class:`~hyperfleet.store.StoreError` of one
line without SQL or password (the original stays chained, for ``--debug``).
"""

from __future__ import annotations

import functools
import logging
import os
import time
from typing import Callable, TypeVar

import sqlalchemy as sa

from hyperfleet.store.base import StoreError, StoreUnavailable
from hyperfleet.store.critical import critical

PATIENCE_ENV = "HYPERFLEET_STORE_PATIENCE"
DEFAULT_PATIENCE_S = 120.0
MAX_BUSY_TIMEOUT_S = 30.0
_FIRST_DELAY_S, _MAX_DELAY_S = 0.05, 2.0
# PostgreSQL: serialization failure, deadlock, lock not available, connection exceptions (class 08)
_PG_TRANSIENT = ("40001", "40P01", "55P03")

logger = logging.getLogger("hyperfleet")
T = TypeVar("T")


def patience() -> float:
    """Seconds a store call may wait for a locked store in all (``$HYPERFLEET_STORE_PATIENCE``)."""
    text = os.environ.get(PATIENCE_ENV, "").strip()
    if not text:
        return DEFAULT_PATIENCE_S
    try:
        value = float(text)
    except ValueError:
        raise StoreError(f"${PATIENCE_ENV}={text!r} is not a number of seconds") from None
    if not value > 0:
        raise StoreError(f"${PATIENCE_ENV}={text!r} must be a positive number of seconds")
    return value


def busy_timeout() -> float:
    """SQLite's own wait for a lock, per attempt: a third of the patience, at most 30 s."""
    return min(MAX_BUSY_TIMEOUT_S, patience() / 3)


def is_transient(err: BaseException) -> bool:
    """A lock or a dropped connection, which a later attempt may not meet."""
    if not isinstance(err, sa.exc.OperationalError):
        return False
    text = str(err.orig).lower()
    if "database is locked" in text or "database is busy" in text or "database table is locked" in text:
        return True
    code = getattr(err.orig, "sqlstate", None) or getattr(err.orig, "pgcode", None) or ""
    return code in _PG_TRANSIENT or code.startswith("08") or bool(getattr(err, "connection_invalidated", False))


def one_line(err: BaseException, password: str | None = None) -> str:
    """The database's message on one line, without the SQL statement or the password."""
    orig = getattr(err, "orig", None)
    text = " ".join(str(orig if orig is not None else err).split())
    if isinstance(err, sa.exc.StatementError) and orig is None:
        text = text.split(" [SQL:")[0]
    if password:
        text = text.replace(password, "***")
    return text


def _reraise_interrupt(err: BaseException) -> None:
    """A signal (SIGTERM, Ctrl-C) that arrived during a query, which the database driver's
    clean-up then turned into a database error: raise the signal's exception, not that error."""
    seen = err.__context__
    while seen is not None:
        if not isinstance(seen, Exception):  # KeyboardInterrupt, SystemExit, the driver's Terminated
            raise seen
        seen = seen.__context__


def guarded(method: Callable[..., T]) -> Callable[..., T]:
    """Retry ``method`` of a :class:`~hyperfleet.store.SqlStore` on transient errors; translate the rest.

    Each store method runs in one transaction of its own, so an attempt that failed left nothing.
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        deadline = time.monotonic() + patience()
        delay = _FIRST_DELAY_S
        while True:
            try:
                with critical():  # a signal waits for the transaction's end, never cuts it in half
                    return method(self, *args, **kwargs)
            except sa.exc.DBAPIError as err:
                _reraise_interrupt(err)
                if is_transient(err) and time.monotonic() + delay < deadline:
                    logger.info("store %s busy (%s); retrying in %.2f s", self.where, one_line(err), delay)
                    time.sleep(delay)
                    delay = min(2 * delay, _MAX_DELAY_S)
                    continue
                text = one_line(err, self.password)
                if is_transient(err):
                    raise StoreUnavailable(f"store {self.where} stayed unavailable for {patience():g} s "
                                           f"({text}); set ${PATIENCE_ENV} to wait longer") from err
                raise StoreError(f"store {self.where} refused {method.__name__.replace('_', ' ')}: "
                                 f"{type(err.orig).__name__}: {text}") from err
            except sa.exc.SQLAlchemyError as err:
                raise StoreError(f"store {self.where}: {method.__name__.replace('_', ' ')} failed: "
                                 f"{type(err).__name__}: {one_line(err, self.password)}") from err

    return wrapper
