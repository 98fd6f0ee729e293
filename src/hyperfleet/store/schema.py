"""The tables of a SQL store, their versions, and how a store is created or brought up to date."""

from __future__ import annotations

import json
import math
import time
from typing import Any, Optional

import sqlalchemy as sa

from hyperfleet.store.base import StoreError

SCHEMA_VERSION = 8
#: how long a read-only command waits for a store that has a file but no tables yet (being created)
CREATION_WAIT_S = 2.0


def _add_intermediate_values(conn: sa.Connection) -> None:
    """Version 4 (early stopping): each evaluation's last reported step and its place among the
    reports; the ``reports`` table itself is created with the other new tables."""
    if not sa.inspect(conn).has_table("evaluations"):
        return  # created whole, with these columns, after the migrations
    conn.execute(sa.text("ALTER TABLE evaluations ADD COLUMN last_step INTEGER"))
    conn.execute(sa.text("ALTER TABLE evaluations ADD COLUMN finish_seq INTEGER"))


def _add_driver_members(conn: sa.Connection) -> None:
    """Version 6 (several drivers on one search): which driver created each evaluation, the
    configuration's key (a duplicate check at insert), and the order evaluations finished in
    (``done_seq``, the cursor by which each driver reads the others' results); the ``drivers``
    table itself is created with the other new tables."""
    if not sa.inspect(conn).has_table("evaluations"):
        return  # created whole, with these columns, after the migrations
    for column in ("driver_id VARCHAR(36)", "config_key VARCHAR(40)", "done_seq INTEGER"):
        conn.execute(sa.text(f"ALTER TABLE evaluations ADD COLUMN {column}"))
    conn.execute(sa.text("CREATE INDEX ix_evaluations_search_key ON evaluations (search_id, config_key)"))
    conn.execute(sa.text("CREATE INDEX ix_evaluations_search_done ON evaluations (search_id, done_seq)"))


def _add_objective_vectors(conn: sa.Connection) -> None:
    """Version 5 (several objectives and constraints): each evaluation's objective values and
    constraint values (JSON lists) and whether it satisfied its constraints."""
    if not sa.inspect(conn).has_table("evaluations"):
        return  # created whole, with these columns, after the migrations
    conn.execute(sa.text("ALTER TABLE evaluations ADD COLUMN objectives JSON"))
    conn.execute(sa.text("ALTER TABLE evaluations ADD COLUMN constraints JSON"))
    conn.execute(sa.text("ALTER TABLE evaluations ADD COLUMN feasible BOOLEAN"))


def _add_report_vectors(conn: sa.Connection) -> None:
    """Version 7 (early stopping with several objectives): each intermediate value's objective
    values and constraint values (JSON lists; None for a one-number report)."""
    if not sa.inspect(conn).has_table("reports"):
        return  # created whole, with these columns, after the migrations
    conn.execute(sa.text("ALTER TABLE reports ADD COLUMN objectives JSON"))
    conn.execute(sa.text("ALTER TABLE reports ADD COLUMN constraints JSON"))


def _add_end_time_index(conn: sa.Connection) -> None:
    """Version 8: the dashboard's live queries read a search's evaluations by end time."""
    if not sa.inspect(conn).has_table("evaluations"):
        return  # created whole, with the index, after the migrations
    conn.execute(sa.text("CREATE INDEX IF NOT EXISTS ix_evaluations_search_end "
                         "ON evaluations (search_id, end_time, number)"))


# What each schema version added, applied in order to an older store when it is opened: SQL
# statements, or a function of the connection. (Version 3 is another change's.)
MIGRATIONS = {
    2: ["ALTER TABLE searches ADD COLUMN scheduler VARCHAR(16)",
        "ALTER TABLE searches ADD COLUMN job_id VARCHAR(64)",
        "ALTER TABLE searches ADD COLUMN driver_host VARCHAR(256)",
        "ALTER TABLE searches ADD COLUMN driver_pid INTEGER"],
    # 3: the driver's claim on a search (a token and a lease it renews) and who it is beyond its pid
    3: ["ALTER TABLE searches ADD COLUMN driver_started FLOAT",
        "ALTER TABLE searches ADD COLUMN driver_boot_id VARCHAR(64)",
        "ALTER TABLE searches ADD COLUMN driver_token VARCHAR(36)",
        "ALTER TABLE searches ADD COLUMN lease_expires FLOAT"],
    4: _add_intermediate_values,
    5: _add_objective_vectors,
    6: _add_driver_members,
    7: _add_report_vectors,
    8: _add_end_time_index,
}

# Any 64-bit number no other program on the server is likely to lock; "hyprflet" in ASCII.
_POSTGRES_SCHEMA_LOCK = 0x6879707266_6c6574


class _NulSafe(sa.types.TypeDecorator):
    """Text PostgreSQL accepts: its text type cannot hold NUL, so NUL becomes U+FFFD there only."""

    cache_ok = True

    def process_bind_param(self, value, dialect):
        if isinstance(value, str) and "\x00" in value and dialect.name == "postgresql":
            return value.replace("\x00", "\ufffd")
        return value


class Text(_NulSafe):
    impl = sa.Text
    cache_ok = True


class String(_NulSafe):
    impl = sa.String
    cache_ok = True


_metadata = sa.MetaData()

meta_table = sa.Table(
    "hyperfleet_meta", _metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),
)

searches_table = sa.Table(
    "searches", _metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("label", String(256), nullable=False, index=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("folder", Text, nullable=False),
    sa.Column("problem_path", Text),
    sa.Column("run_path", Text),
    sa.Column("problem", sa.JSON, nullable=False),
    sa.Column("settings", sa.JSON, nullable=False),
    sa.Column("created_time", sa.Float),
    sa.Column("start_time", sa.Float),
    sa.Column("end_time", sa.Float),
    sa.Column("message", Text),
    sa.Column("scheduler", sa.String(16)),
    sa.Column("job_id", String(64)),
    sa.Column("driver_host", String(256)),
    sa.Column("driver_pid", sa.Integer),
    sa.Column("driver_started", sa.Float),
    sa.Column("driver_boot_id", sa.String(64)),
    sa.Column("driver_token", sa.String(36)),
    sa.Column("lease_expires", sa.Float),
)

evaluations_table = sa.Table(
    "evaluations", _metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("search_id", sa.String(36), sa.ForeignKey("searches.id"), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("config", sa.JSON, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("objective", sa.Float),
    sa.Column("metadata", sa.JSON, nullable=False),
    sa.Column("error", Text),
    sa.Column("created_time", sa.Float),
    sa.Column("start_time", sa.Float),
    sa.Column("end_time", sa.Float),
    sa.Column("worker", String(256)),
    sa.Column("host", String(256)),
    sa.Column("folder", Text),
    sa.Column("last_step", sa.Integer),
    sa.Column("finish_seq", sa.Integer),
    sa.Column("driver_id", sa.String(36)),
    sa.Column("config_key", sa.String(40)),
    sa.Column("done_seq", sa.Integer),
    # several objectives / constraints (version 5): the values in declared order; None otherwise
    sa.Column("objectives", sa.JSON),
    sa.Column("constraints", sa.JSON),
    sa.Column("feasible", sa.Boolean),
    sa.UniqueConstraint("search_id", "number", name="uq_evaluation_number"),
    sa.Index("ix_evaluations_search_state", "search_id", "state"),
    sa.Index("ix_evaluations_search_key", "search_id", "config_key"),
    sa.Index("ix_evaluations_search_done", "search_id", "done_seq"),
    sa.Index("ix_evaluations_search_end", "search_id", "end_time", "number"),  # version 8
)

# The drivers of a search (version 6): the first one claims the search (``searches.driver_token``),
# each one, the first included, has a row here with its own lease, renewed by its heartbeat.
drivers_table = sa.Table(
    "drivers", _metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("search_id", sa.String(36), sa.ForeignKey("searches.id"), nullable=False, index=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("host", String(256)),
    sa.Column("pid", sa.Integer),
    sa.Column("started", sa.Float),
    sa.Column("boot_id", sa.String(64)),
    sa.Column("workers", sa.Integer),
    sa.Column("joined_time", sa.Float),
    sa.Column("left_time", sa.Float),
    sa.Column("lease_expires", sa.Float),
)

# The intermediate values evaluations reported (``hyperfleet.report``), in the order received.
reports_table = sa.Table(
    "reports", _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("search_id", sa.String(36), sa.ForeignKey("searches.id"), nullable=False),
    sa.Column("evaluation_id", sa.String(36), sa.ForeignKey("evaluations.id"), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("step", sa.Integer, nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("time", sa.Float, nullable=False),
    # several objectives (version 7): the values in declared order, ``value`` the first; None otherwise
    sa.Column("objectives", sa.JSON),
    sa.Column("constraints", sa.JSON),
    sa.UniqueConstraint("evaluation_id", "step", name="uq_report_step"),
    sa.Index("ix_reports_search_seq", "search_id", "seq"),
)


def ensure_schema(engine: sa.Engine, where: str, create: bool = True) -> None:
    """Create the tables of a new store, or migrate an older one to :data:`SCHEMA_VERSION`.

    Several processes may open a new store at once (a driver and ``hyperfleet ls``, two
    drivers): the work happens under a lock, and a store already up to date is only read,
    so a reader without write access opens it too.

    With ``create=False`` (read-only commands) a database without hyperfleet's tables is refused
    instead of given them.

    Raises:
        StoreError: the store was written by a newer hyperfleet, or (``create=False``) it has no
            hyperfleet tables.
    """
    with engine.connect() as conn:
        version = _version(conn, where)
    if version is None and not create:
        # another process may be creating this store right now (its file exists a few
        # milliseconds before its tables): give it a moment before calling it foreign
        deadline = time.monotonic() + CREATION_WAIT_S
        while version is None and time.monotonic() < deadline:
            time.sleep(0.05)
            with engine.connect() as conn:
                version = _version(conn, where)
    _refuse_newer(version, where)
    if version is None and not create:
        raise StoreError(f"{where} is not a hyperfleet store (it has no hyperfleet tables); run "
                         f"`hyperfleet search --store ...` first or give another --store")
    if version == SCHEMA_VERSION:
        return
    with engine.begin() as conn:
        _lock(conn)
        version = _version(conn, where)
        _refuse_newer(version, where)
        if version == SCHEMA_VERSION:
            return  # another process finished it while we waited for the lock
        for target in range((version or SCHEMA_VERSION) + 1, SCHEMA_VERSION + 1):
            migration = MIGRATIONS.get(target, [])
            if callable(migration):
                migration(conn)
                continue
            for statement in migration:
                conn.execute(sa.text(statement))
        _metadata.create_all(conn)
        if conn.execute(sa.select(meta_table.c.key).where(meta_table.c.key == "schema_version")).first():
            conn.execute(meta_table.update().where(meta_table.c.key == "schema_version")
                         .values(value=str(SCHEMA_VERSION)))
        else:
            conn.execute(meta_table.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))


def _version(conn: sa.Connection, where: str) -> Optional[int]:
    """The schema version of the store; ``None`` when it has no tables yet."""
    inspector = sa.inspect(conn)
    if not inspector.has_table("searches"):
        return None
    if not inspector.has_table("hyperfleet_meta"):
        return 1
    row = conn.execute(sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")).first()
    if not row:
        return 1
    try:
        return int(row[0])
    except (TypeError, ValueError):
        raise StoreError(f"store {where}: its schema version {row[0]!r} (table hyperfleet_meta) is not a number: "
                         f"the database was not written by hyperfleet or is damaged; use another store") from None


def _refuse_newer(version: Optional[int], where: str) -> None:
    if version is not None and version > SCHEMA_VERSION:
        raise StoreError(f"store {where} has schema version {version}; this hyperfleet reads "
                         f"version {SCHEMA_VERSION}. Use a matching hyperfleet version or a new store.")


def _lock(conn: sa.Connection) -> None:
    """Hold the store's schema lock until the transaction ends."""
    name = conn.dialect.name
    if name == "sqlite":
        # pysqlite has not begun a transaction yet (it does so only before DML); take the write lock now.
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _POSTGRES_SCHEMA_LOCK})


def dumps_json(value: Any) -> str:
    """JSON for a JSON column: strict JSON, as PostgreSQL demands.

    NaN and infinities have no JSON spelling: they are stored as ``null`` (as JavaScript does).
    NumPy arrays and scalars are stored as lists and numbers.
    """
    try:
        return json.dumps(value, allow_nan=False, default=_plain)
    except ValueError as err:
        if "Out of range float" not in str(err):
            raise
        return json.dumps(_finite(value), allow_nan=False, default=_plain)


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if hasattr(value, "tolist"):
        return _finite(value.tolist())
    return value
