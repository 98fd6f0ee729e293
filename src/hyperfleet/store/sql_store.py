"""The job database on SQLAlchemy: one SQLite file by default, any SQLAlchemy URL otherwise."""

from __future__ import annotations

import functools
import os
import time
import uuid
from pathlib import Path
from typing import Iterable, Optional, Sequence

import sqlalchemy as sa

from hyperfleet.store.base import Store, StoreError
from hyperfleet.store.records import (
    EvaluationRecord,
    EvaluationState,
    SearchRecord,
    SearchState,
    SearchSummary,
)

SCHEMA_VERSION = 2

# What each schema version added, applied in order to an older store when it is opened.
MIGRATIONS = {
    2: ["ALTER TABLE searches ADD COLUMN scheduler VARCHAR(16)",
        "ALTER TABLE searches ADD COLUMN job_id VARCHAR(64)",
        "ALTER TABLE searches ADD COLUMN driver_host VARCHAR(256)",
        "ALTER TABLE searches ADD COLUMN driver_pid INTEGER"],
}

_metadata = sa.MetaData()

meta_table = sa.Table(
    "hyperfleet_meta", _metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),
)

searches_table = sa.Table(
    "searches", _metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("label", sa.String(256), nullable=False, index=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("folder", sa.Text, nullable=False),
    sa.Column("problem_path", sa.Text),
    sa.Column("run_path", sa.Text),
    sa.Column("problem", sa.JSON, nullable=False),
    sa.Column("settings", sa.JSON, nullable=False),
    sa.Column("created_time", sa.Float),
    sa.Column("start_time", sa.Float),
    sa.Column("end_time", sa.Float),
    sa.Column("message", sa.Text),
    sa.Column("scheduler", sa.String(16)),
    sa.Column("job_id", sa.String(64)),
    sa.Column("driver_host", sa.String(256)),
    sa.Column("driver_pid", sa.Integer),
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
    sa.Column("error", sa.Text),
    sa.Column("created_time", sa.Float),
    sa.Column("start_time", sa.Float),
    sa.Column("end_time", sa.Float),
    sa.Column("worker", sa.String(256)),
    sa.Column("host", sa.String(256)),
    sa.Column("folder", sa.Text),
    sa.UniqueConstraint("search_id", "number", name="uq_evaluation_number"),
    sa.Index("ix_evaluations_search_state", "search_id", "state"),
)

_SEARCH_FIELDS = {c.name for c in searches_table.columns} - {"id"}
_EVAL_FIELDS = {c.name for c in evaluations_table.columns} - {"id", "search_id"}


def store_url(location: str | os.PathLike) -> str:
    """Turn a file path or a SQLAlchemy URL into a URL (a bare path means a SQLite file)."""
    text = os.fspath(location)
    if "://" in text:
        return text
    return "sqlite:///" + str(Path(text).expanduser().resolve())


class SqlStore(Store):
    """A store in any SQL database SQLAlchemy reaches; SQLite in WAL mode for files.

    Args:
        location: a path to a SQLite file (created if missing) or a SQLAlchemy URL.
    """

    def __init__(self, location: str | os.PathLike = "hyperfleet.db") -> None:
        self.url = store_url(location)
        self.is_sqlite = self.url.startswith("sqlite")
        if self.is_sqlite:
            path = Path(sa.engine.make_url(self.url).database or "")
            if not path.parent.is_dir():
                raise StoreError(f"cannot create the store {path}: folder {path.parent} does not exist; "
                                 f"create it or pass another --store")
            self.root = path.parent
        else:
            self.root = Path.cwd()
        try:
            self.engine = sa.create_engine(self.url, future=True, **self._engine_options())
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as err:
            raise StoreError(f"cannot use store URL {_safe(self.url)}: {err}") from None
        if self.is_sqlite:
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self._create_schema()

    def _engine_options(self) -> dict:
        if self.is_sqlite:
            return {"connect_args": {"timeout": 30, "check_same_thread": False}}
        return {"pool_pre_ping": True}

    def _create_schema(self) -> None:
        try:
            with self.engine.begin() as conn:
                fresh = not sa.inspect(conn).has_table("searches")
            if not fresh:
                self._migrate()
            _metadata.create_all(self.engine)
            with self.engine.begin() as conn:
                row = conn.execute(sa.select(meta_table.c.value)
                                   .where(meta_table.c.key == "schema_version")).first()
                if row is None:
                    conn.execute(meta_table.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
                elif int(row[0]) != SCHEMA_VERSION:
                    raise StoreError(
                        f"store {_safe(self.url)} has schema version {row[0]}; this hyperfleet reads "
                        f"version {SCHEMA_VERSION}. Use a matching hyperfleet version or a new store.")
        except sa.exc.DatabaseError as err:
            raise StoreError(f"cannot open store {_safe(self.url)}: {err.orig}") from None
        except sa.exc.OperationalError as err:  # pragma: no cover - server unreachable
            raise StoreError(f"cannot reach store {_safe(self.url)}: {err.orig}") from None

    def _migrate(self) -> None:
        """Bring a store written by an older hyperfleet up to :data:`SCHEMA_VERSION`."""
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")).first()
            version = int(row[0]) if row else 1
            if version >= SCHEMA_VERSION:
                return
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS.get(target, []):
                    conn.execute(sa.text(statement))
            conn.execute(meta_table.update().where(meta_table.c.key == "schema_version")
                         .values(value=str(SCHEMA_VERSION)))

    def close(self) -> None:
        self.engine.dispose()

    # ----- searches ----------------------------------------------------------------------
    def create_search(self, label: str, folder: str, problem: dict, settings: dict,
                      problem_path: Optional[str] = None, run_path: Optional[str] = None,
                      search_id: Optional[str] = None) -> SearchRecord:
        record = SearchRecord(id=search_id or str(uuid.uuid4()), label=label, state=SearchState.CREATED,
                              folder=str(folder), problem_path=problem_path, run_path=run_path,
                              problem=problem, settings=settings, created_time=time.time())
        values = {**record.__dict__, "state": record.state.value}
        with self.engine.begin() as conn:
            conn.execute(searches_table.insert().values(**values))
        return record

    def update_search(self, search_id: str, **fields) -> None:
        _check_fields(fields, _SEARCH_FIELDS)
        if "state" in fields:
            fields["state"] = SearchState(fields["state"]).value
        with self.engine.begin() as conn:
            conn.execute(searches_table.update().where(searches_table.c.id == search_id).values(**fields))

    def get_search(self, search_id: str) -> SearchRecord:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(searches_table).where(searches_table.c.id == search_id)).first()
        if row is None:
            raise StoreError(f"no search with id {search_id}")
        return _search_record(row)

    def list_searches(self) -> list[SearchRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(searches_table).order_by(searches_table.c.created_time)).all()
        return [_search_record(r) for r in rows]

    def find_searches(self, ref: str) -> list[SearchRecord]:
        s = searches_table
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(s).where(sa.or_(s.c.label == ref, s.c.id.startswith(ref, autoescape=True)))
                                .order_by(s.c.created_time)).all()
        return [_search_record(r) for r in rows]

    def summary(self, search_id: str) -> SearchSummary:
        return self.summaries([search_id])[0]

    def summaries(self, search_ids: Optional[Iterable[str]] = None) -> list[SearchSummary]:
        e = evaluations_table
        searches = self.list_searches()
        if search_ids is not None:
            wanted = list(search_ids)
            by_id = {s.id: s for s in searches}
            searches = [by_id[i] if i in by_id else self.get_search(i) for i in wanted]
        with self.engine.connect() as conn:
            counts = conn.execute(sa.select(e.c.search_id, e.c.state, sa.func.count())
                                  .group_by(e.c.search_id, e.c.state)).all()
            bests = conn.execute(sa.select(e.c.search_id, sa.func.max(e.c.objective))
                                 .where(e.c.state == EvaluationState.DONE.value)
                                 .group_by(e.c.search_id)).all()
        count_map: dict[str, dict[str, int]] = {}
        for sid, state, n in counts:
            count_map.setdefault(sid, {})[state] = n
        best_map = dict(bests)
        return [SearchSummary(s, count_map.get(s.id, {}), best_map.get(s.id)) for s in searches]

    # ----- evaluations ---------------------------------------------------------------------
    def create_evaluation(self, search_id: str, number: int, config: dict, folder: Optional[str] = None,
                          state: EvaluationState = EvaluationState.CREATED,
                          eval_id: Optional[str] = None, **fields) -> EvaluationRecord:
        _check_fields(fields, _EVAL_FIELDS)
        record = EvaluationRecord(id=eval_id or str(uuid.uuid4()), search_id=search_id, number=number,
                                  config=config, state=EvaluationState(state), folder=folder,
                                  created_time=time.time(), **fields)
        values = {**record.__dict__, "state": record.state.value}
        with self.engine.begin() as conn:
            conn.execute(evaluations_table.insert(), values)
        return record

    def update_evaluation(self, eval_id: str, **fields) -> None:
        self.update_evaluations([(eval_id, fields)])

    def update_evaluations(self, updates: Sequence[tuple[str, dict]]) -> None:
        """Apply several updates in one transaction (``[(eval_id, {field: value}), ...]``)."""
        with self.engine.begin() as conn:
            for eval_id, fields in updates:
                _check_fields(fields, _EVAL_FIELDS)
                if "state" in fields:
                    fields = {**fields, "state": EvaluationState(fields["state"]).value}
                conn.execute(_update_statement(tuple(sorted(fields))), {"_id": eval_id, **fields})

    def list_evaluations(self, search_id: str, states: Optional[Iterable[EvaluationState]] = None
                         ) -> list[EvaluationRecord]:
        e = evaluations_table
        query = sa.select(e).where(e.c.search_id == search_id).order_by(e.c.number)
        if states is not None:
            query = query.where(e.c.state.in_([EvaluationState(s).value for s in states]))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [_evaluation_record(r) for r in rows]

    def find_evaluations(self, prefix: str) -> list[EvaluationRecord]:
        e = evaluations_table
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(e).where(e.c.id.startswith(prefix, autoescape=True))
                                .limit(20)).all()
        return [_evaluation_record(r) for r in rows]


@functools.lru_cache(maxsize=64)
def _update_statement(names: tuple[str, ...]):
    """One compiled UPDATE per set of fields, so SQLAlchemy's statement cache is hit."""
    e = evaluations_table
    return e.update().where(e.c.id == sa.bindparam("_id")).values({n: sa.bindparam(n) for n in names})


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _check_fields(fields: dict, allowed: set) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"unknown field(s) {sorted(unknown)}; allowed: {sorted(allowed)}")


def _search_record(row) -> SearchRecord:
    data = dict(row._mapping)
    data["state"] = SearchState(data["state"])
    return SearchRecord(**data)


def _evaluation_record(row) -> EvaluationRecord:
    data = dict(row._mapping)
    data["state"] = EvaluationState(data["state"])
    return EvaluationRecord(**data)


def _safe(url: str) -> str:
    """The URL with any password hidden."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<invalid URL>"
