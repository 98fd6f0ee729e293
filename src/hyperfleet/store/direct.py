"""The driver's hot statements on SQLite, run on the DBAPI cursor of SQLAlchemy's connection.

A driver whose evaluations are short runs a handful of statements per evaluation (reserve,
insert, end) inside one transaction. SQLAlchemy's ``Connection.execute`` spends about twice as
long as SQLite itself on such a statement (its execution context, parameter processing and result
object: 27 µs against 10 µs for the reservation's query on the 2-core development machine).
Here each statement is compiled once per set of parameter names, by SQLAlchemy and for the
connection's dialect, and then executed on the same DBAPI connection (so inside the same
transaction), its parameters processed by the compiled statement's own bind processors (JSON
columns serialized exactly as SQLAlchemy would). Other dialects, and statements
SQLAlchemy renders anew for each execution (``IN`` lists), go through ``Connection.execute``.
"""

from __future__ import annotations

import functools
from typing import Any, Optional

import sqlalchemy as sa


@functools.lru_cache(maxsize=128)
def _compiled(statement: sa.ClauseElement, keys: tuple[str, ...], dialect: Any):
    """``(sql, [(bind name, processor or None)] in order, {bind name: default value})`` of
    ``statement`` with the parameters ``keys``, or None when its SQL cannot be reused."""
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    positions = getattr(compiled, "positiontup", None)
    sql = str(compiled)
    if positions is None or "POSTCOMPILE" in sql:
        return None
    processors = compiled._bind_processors  # noqa: SLF001 - the processors execute() would apply
    binds = compiled.binds
    defaults = {name: bind.effective_value for name, bind in binds.items() if not bind.required}
    return sql, [(name, processors.get(name)) for name in positions], defaults


def _prepared(conn: sa.Connection, statement: sa.ClauseElement, params: dict):
    if conn.dialect.name != "sqlite":
        return None
    entry = _compiled(statement, tuple(sorted(params)), conn.dialect)
    if entry is None:
        return None
    sql, binds, defaults = entry
    values = []
    for name, processor in binds:
        value = params[name] if name in params else defaults[name]
        values.append(processor(value) if processor is not None else value)
    return sql, values


def one(conn: sa.Connection, statement: sa.ClauseElement, params: dict) -> tuple:
    """The one row ``statement`` returns."""
    prepared = _prepared(conn, statement, params)
    if prepared is None:
        return tuple(conn.execute(statement, params).one())
    row = _run(conn, prepared, lambda cursor: cursor.fetchone())
    if row is None:
        raise sa.exc.NoResultFound("no row where one was expected")
    return tuple(row)


def scalar(conn: sa.Connection, statement: sa.ClauseElement, params: dict) -> Any:
    """The one value ``statement`` returns."""
    return one(conn, statement, params)[0]


def write(conn: sa.Connection, statement: sa.ClauseElement, params: dict) -> Optional[int]:
    """Run an INSERT or UPDATE; the number of rows it changed."""
    prepared = _prepared(conn, statement, params)
    if prepared is None:
        return conn.execute(statement, params).rowcount
    return _run(conn, prepared, lambda cursor: cursor.rowcount)


def _run(conn: sa.Connection, prepared: tuple[str, list], take):
    """Execute on the DBAPI cursor; its errors become SQLAlchemy's (``database is locked`` an
    ``OperationalError``, retried by :func:`~hyperfleet.store.retry.guarded` as any other)."""
    sql, values = prepared
    dbapi = conn.dialect.loaded_dbapi
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql, values)
        return take(cursor)
    except dbapi.Error as err:
        raise sa.exc.DBAPIError.instance(sql, values, err, dbapi.Error, dialect=conn.dialect) from err
    finally:
        cursor.close()
