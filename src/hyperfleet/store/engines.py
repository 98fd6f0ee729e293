"""Opening the database behind a :class:`~hyperfleet.store.SqlStore`.

SQLite files: created readable by their owner only, WAL journal by default (readers never block
the driver), or the rollback journal ``delete`` for network file systems where WAL is unsafe.
Servers (PostgreSQL): a driver that is missing or a server that cannot be reached becomes a
one-line :class:`StoreError` without the password.
"""

from __future__ import annotations

import functools
import os
import re
import sqlite3
from pathlib import Path
from typing import Optional

import sqlalchemy as sa

from hyperfleet.store.base import StoreError
from hyperfleet.store.retry import busy_timeout
from hyperfleet.store.schema import dumps_json

JOURNAL_MODES = ("wal", "delete")
JOURNAL_ENV = "HYPERFLEET_SQLITE_JOURNAL"
POSTGRES_INSTALL = "pip install 'hyperfleet[postgres]'"
BUSY_TIMEOUT_S = 30  # the most SQLite waits for a lock per attempt; store/retry.py retries beyond it


def store_url(location: str | os.PathLike) -> str:
    """Turn a file path or a SQLAlchemy URL into a URL (a bare path means a SQLite file)."""
    text = os.fspath(location)
    if "://" in text:
        return text
    return "sqlite:///" + str(Path(text).expanduser().resolve())


def parse_url(text: str) -> sa.URL:
    """The URL, with ``postgresql://`` meaning the driver ``hyperfleet[postgres]`` installs (psycopg 3)."""
    try:
        url = sa.engine.make_url(text)
    except sa.exc.ArgumentError as err:
        raise StoreError(f"cannot use store URL {_safe(text)}: {err}") from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def journal_mode_for(url: sa.URL, requested: Optional[str]) -> str:
    """The SQLite journal mode: asked for (argument, then URL, then environment), else the file's own.

    A new file gets WAL; an existing file keeps the mode it was created with, so that a reader who
    forgot the setting does not switch a store on a network file system to WAL.
    """
    asked = [(requested, "journal_mode"), (url.query.get("journal_mode"), "the store URL"),
             (os.environ.get(JOURNAL_ENV), f"${JOURNAL_ENV}")]
    for value, source in asked:
        if isinstance(value, tuple):  # the URL named it twice
            value = value[-1]
        if value is None or (source != "journal_mode" and not value.strip()):
            continue
        mode = str(value).strip().lower()
        if mode not in JOURNAL_MODES:
            raise StoreError(f"unknown SQLite journal mode {value!r} (from {source}); use 'wal' "
                             f"(the default) or 'delete' (for network file systems without WAL support)")
        return mode
    return _file_journal_mode(url.database) or "wal"


def sqlite_engine(url: sa.URL, mode: str, create: bool = True) -> sa.Engine:
    """An engine on the SQLite file of ``url`` (without ``journal_mode``), creating the file 0600
    (or, with ``create=False``, refusing a missing file)."""
    database = url.database or ""
    if database not in ("", ":memory:") and not database.startswith("file:"):
        path = Path(database)
        if not create and not path.is_file():
            raise StoreError(f"no hyperfleet store at {path}; run `hyperfleet search` first or give "
                             f"another --store")
        if not path.parent.is_dir():
            raise StoreError(f"cannot create the store {path}: folder {path.parent} does not exist; "
                             f"create it or pass another --store")
        _create_private(path)
    wait = busy_timeout()
    engine = sa.create_engine(url, connect_args={"timeout": wait, "check_same_thread": False},
                              json_serializer=dumps_json)
    sa.event.listen(engine, "connect", functools.partial(_sqlite_pragmas, mode=mode, where=_safe(url),
                                                         busy_s=wait))
    return engine


def server_engine(url: sa.URL) -> sa.Engine:
    """An engine on a database server; connects only when used."""
    options: dict = {"pool_pre_ping": True, "json_serializer": dumps_json}
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        options["connect_args"] = {"connect_timeout": 10}
    try:
        return sa.create_engine(url, **options)
    except (sa.exc.NoSuchModuleError, ImportError) as err:
        if url.get_backend_name() != "postgresql":
            raise StoreError(f"cannot use store URL {_safe(url)}: {err}") from None
        other = "" if url.get_driver_name() == "psycopg" else ", and use a postgresql+psycopg:// URL"
        raise StoreError(f"cannot use store URL {_safe(url)}: the PostgreSQL driver is not installed "
                         f"({err}); install it with {POSTGRES_INSTALL}{other}") from None
    except sa.exc.ArgumentError as err:
        raise StoreError(f"cannot use store URL {_safe(url)}: {err}") from None


#: query keys of a URL whose values are secrets, or name where one is (libpq's sslpassword, passfile ...)
_SECRET_KEY = re.compile(r"pass|pwd|secret|token|key|cred|auth", re.IGNORECASE)


def url_secrets(text: str | sa.URL) -> list[str]:
    """The secret values in a store URL: its password and every secret-looking query value.

    A URL that cannot be parsed counts as wholly secret (the text itself is returned).
    """
    try:
        url = sa.engine.make_url(text)
    except sa.exc.ArgumentError:
        return [str(text)]
    secrets = [str(url.password)] if url.password else []
    for key, value in url.query.items():
        if _SECRET_KEY.search(key) or (key == "options" and _SECRET_KEY.search(str(value))):
            secrets += [v for v in (value if isinstance(value, tuple) else (value,)) if v]
    return secrets


def has_secret(text: str | sa.URL) -> bool:
    """True when a store URL holds a password or another secret anywhere (see :func:`url_secrets`)."""
    return bool(url_secrets(text))


def describe(err: sa.exc.DBAPIError, url: sa.URL) -> str:
    """The driver's message on one line, without the password."""
    text = " ".join(str(err.orig).split())
    text = text.removeprefix("connection failed: ")
    for secret in url_secrets(url):
        text = text.replace(secret, "***")
    return text


def safe_url(url: str | sa.URL) -> str:
    """The URL with its password and every secret-looking query value hidden (``***``)."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        return "<invalid URL>"
    hidden = {key: "***" for key in parsed.query
              if _SECRET_KEY.search(key) or (key == "options" and _SECRET_KEY.search(str(parsed.query[key])))}
    if hidden:
        parsed = parsed.update_query_dict(hidden)
    return parsed.render_as_string(hide_password=True).replace("%2A%2A%2A", "***")


_safe = safe_url


def _create_private(path: Path) -> None:
    """Create a missing store file readable by its owner only (SQLite gives -wal/-shm the same mode)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as err:
        raise StoreError(f"cannot create the store {path}: {err.strerror}") from None
    try:
        os.fchmod(fd, 0o600)  # whatever the umask (0o277 would leave SQLite a read-only file)
    finally:
        os.close(fd)


def _file_journal_mode(database: Optional[str]) -> Optional[str]:
    """'wal' or 'delete' for an existing SQLite file, else ``None``.

    Asked through SQLite itself, never by reading the file: closing a plain file descriptor of a
    database drops every POSIX lock this process holds on it, so another process could take its
    WAL for abandoned, checkpoint it and delete it under a running search.
    """
    if not database or not os.path.isfile(database) or os.path.getsize(database) < 100:
        return None
    try:
        conn = sqlite3.connect(Path(database).resolve().as_uri() + "?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error:
        return None
    try:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0].lower()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return "wal" if mode == "wal" else "delete"


def _sqlite_pragmas(dbapi_connection, _record, mode: str, where: str, busy_s: float = BUSY_TIMEOUT_S) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={int(busy_s * 1000)}")
        try:
            actual = cursor.execute(f"PRAGMA journal_mode={mode}").fetchone()[0].lower()
        except sqlite3.OperationalError as err:
            if "locked" not in str(err):
                raise
            actual = "wal"  # leaving WAL needs every other connection closed
        if actual in (mode, "memory"):
            # WAL with NORMAL loses no committed transaction when a process dies; the rollback journal
            # needs FULL for that.
            cursor.execute("PRAGMA synchronous=" + ("NORMAL" if mode == "wal" else "FULL"))
            cursor.execute("PRAGMA foreign_keys=ON")
            if mode == "delete":
                # Lock the file for writing when a write transaction begins, not at its commit: two
                # writers that each held a read lock while waiting for the other slept in turns (10x slower).
                dbapi_connection.isolation_level = "EXCLUSIVE"
    finally:
        cursor.close()
    if actual not in (mode, "memory"):
        dbapi_connection.close()
        if mode == "delete" and actual == "wal":
            raise StoreError(f"cannot open store {where} with journal mode 'delete': it is in WAL mode and "
                             f"another process has it open; close that first, or open it in WAL mode")
        raise StoreError(f"cannot open store {where} with journal mode {mode!r}: SQLite keeps {actual!r}")
