"""The dashboard's store: the store's reading methods on connections that cannot write.

SQLite: ``PRAGMA query_only`` on every connection (a file only readable by the user opens too).
PostgreSQL: every session's transactions are read-only (``SET SESSION CHARACTERISTICS``).
The schema is never created or migrated: a store of another version is refused with a message.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import sqlalchemy as sa

from hyperfleet.store.base import StoreError
from hyperfleet.store.engines import describe, parse_url, safe_url, server_engine, store_url
from hyperfleet.store.retry import busy_timeout
from hyperfleet.store.schema import SCHEMA_VERSION, _version
from hyperfleet.store.sql_store import SqlStore


class ReadOnlyStore(SqlStore):
    """A :class:`~hyperfleet.store.SqlStore` whose connections refuse every write.

    Args:
        location: a SQLite file or a store URL (as ``--store`` takes it).

    Raises:
        StoreError: no store there, it cannot be reached, or its schema version is not this
            hyperfleet's (open it once with ``hyperfleet ls`` to bring an older one up to date).
    """

    def __init__(self, location: str | os.PathLike) -> None:  # noqa: D107 - see the class
        url = parse_url(store_url(location))
        self.url = None  # never handed on: the dashboard starts no job
        self.password = None
        self.journal_mode = None
        self.is_sqlite = url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            path = Path(url.database or "")
            if not path.is_file():
                raise StoreError(f"no hyperfleet store at {path}; give the store of your searches with "
                                 f"--store (a hyperfleet.db file or a database URL)")
            self.where = str(path)
            self.root = path.parent
            self.engine = _sqlite_engine(path)
        else:
            self.where = safe_url(url)
            self.root = Path.cwd()
            self.engine = server_engine(url)
            if url.get_backend_name() == "postgresql":
                sa.event.listen(self.engine, "connect", _postgres_read_only)
        try:
            with self.engine.connect() as conn:
                version = _version(conn, self.where)
        except sa.exc.DBAPIError as err:
            self.engine.dispose()
            raise StoreError(f"cannot open store {self.where}: {describe(err, url)}") from None
        if version is None:
            self.engine.dispose()
            raise StoreError(f"{self.where} is not a hyperfleet store (it has no hyperfleet tables); "
                             f"give another --store")
        if version != SCHEMA_VERSION:
            self.engine.dispose()
            raise StoreError(f"store {self.where} has schema version {version}; this dashboard reads "
                             f"version {SCHEMA_VERSION}. Run `hyperfleet ls --store ...` once to bring an "
                             f"older store up to date, or use the hyperfleet that wrote it")


def _sqlite_engine(path: Path) -> sa.Engine:
    wait = busy_timeout()

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(str(path), timeout=wait, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
        conn.execute("PRAGMA query_only=ON")
        return conn

    return sa.create_engine("sqlite:///" + str(path), creator=connect, poolclass=sa.pool.QueuePool)


def _postgres_read_only(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    finally:
        cursor.close()
    dbapi_connection.commit()  # a SET inside a transaction rolled back would be undone
