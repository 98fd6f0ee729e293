"""The job database on SQLAlchemy: a SQLite file by default, PostgreSQL (or any SQLAlchemy URL) otherwise."""

from __future__ import annotations

import functools
import os
import time
import uuid
from pathlib import Path
from typing import Iterable, Optional, Sequence

import sqlalchemy as sa

from hyperfleet.store.base import Store, StoreError
from hyperfleet.store.engines import (
    JOURNAL_ENV,
    JOURNAL_MODES,
    _safe,
    describe,
    journal_mode_for,
    parse_url,
    server_engine,
    sqlite_engine,
    store_url,
)
from hyperfleet.store.members import MemberStore
from hyperfleet.store.records import (
    EvaluationRecord,
    EvaluationState,
    ReportRecord,
    SearchRecord,
    SearchState,
    SearchSummary,
)
from hyperfleet.store.retry import guarded
from hyperfleet.store.schema import (
    MIGRATIONS,
    SCHEMA_VERSION,
    drivers_table,
    ensure_schema,
    evaluations_table,
    meta_table,
    reports_table,
    searches_table,
)

__all__ = ["SqlStore", "store_url", "SCHEMA_VERSION", "MIGRATIONS", "JOURNAL_MODES", "JOURNAL_ENV",
           "meta_table", "searches_table", "evaluations_table", "reports_table", "drivers_table"]

_SEARCH_FIELDS = {c.name for c in searches_table.columns} - {"id"}
_EVAL_FIELDS = {c.name for c in evaluations_table.columns} - {"id", "search_id"}


class SqlStore(MemberStore, Store):
    """A store in a SQLite file or on a database server (PostgreSQL), through SQLAlchemy.

    Args:
        location: a path to a SQLite file (created, readable by its owner only, if missing) or a
            SQLAlchemy URL: ``sqlite:////abs/path.db``, ``sqlite:////abs/path.db?journal_mode=delete``,
            ``postgresql+psycopg://user:password@host:port/database`` (``postgresql://`` means the same;
            the driver comes with ``pip install 'hyperfleet[postgres]'``).
        journal_mode: SQLite only. ``"wal"`` (the default for a new file): readers never block the
            driver. ``"delete"``: the rollback journal, for network file systems without WAL support
            (NFS, Lustre, GPFS mounts where shared memory between hosts does not work). Also
            ``?journal_mode=`` in the URL or ``$HYPERFLEET_SQLITE_JOURNAL``; without any of them an
            existing file keeps the mode it has.
        create: ``False`` opens an existing store only (read-only commands): a missing SQLite file
            or a database without hyperfleet's tables raises :class:`StoreError`, nothing is created.

    Raises:
        StoreError: the location cannot be used (no such folder, no driver, server unreachable,
            bad credentials, not a store, a store of a newer hyperfleet), in one line without the password.

    Attributes:
        url: the URL that reopens this store the same way (it includes the password).
        where: the store named for messages: the SQLite file's path, or the URL without password.
    """

    def __init__(self, location: str | os.PathLike = "hyperfleet.db",
                 journal_mode: Optional[str] = None, create: bool = True) -> None:
        text = store_url(location)
        url = parse_url(text)
        self.where = _safe(url)
        self.password = str(url.password) if url.password else url.query.get("password")
        self.is_sqlite = url.get_backend_name() == "sqlite"
        self.journal_mode: Optional[str] = None
        if self.is_sqlite:
            self.journal_mode = journal_mode_for(url, journal_mode)
            bare = url.difference_update_query(["journal_mode"])  # a setting of ours, not of SQLite's URL
            if url.query.get("journal_mode", "wal") == self.journal_mode:
                self.url = text
            else:  # the mode came from elsewhere: say it in the URL, which batch jobs are given
                named = self.journal_mode if self.journal_mode != "wal" else None
                self.url = _with_query(bare, journal_mode=named)
            self.where = bare.database or _safe(url)
            self.engine = sqlite_engine(bare, self.journal_mode, create=create)
            self.root = Path(bare.database or ".").parent
        else:
            if journal_mode is not None:
                raise StoreError(f"journal_mode applies to SQLite stores only, not to {_safe(url)}")
            self.url = text if url.drivername == sa.engine.make_url(text).drivername \
                else url.render_as_string(hide_password=False)
            self.where = _safe(url)
            self.engine = server_engine(url)
            self.root = Path.cwd()
        try:
            ensure_schema(self.engine, self.where, create=create)
        except sa.exc.DBAPIError as err:
            self.engine.dispose()
            verb = "connect to" if isinstance(err, sa.exc.OperationalError) and not self.is_sqlite else "open"
            raise StoreError(f"cannot {verb} store {_safe(url)}: {describe(err, url)}") from None
        except BaseException:
            self.engine.dispose()
            raise

    def close(self) -> None:
        self.engine.dispose()

    # ----- searches ----------------------------------------------------------------------
    @guarded
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

    @guarded
    def update_search(self, search_id: str, **fields) -> None:
        _check_fields(fields, _SEARCH_FIELDS)
        if "state" in fields:
            fields["state"] = SearchState(fields["state"]).value
        with self.engine.begin() as conn:
            conn.execute(searches_table.update().where(searches_table.c.id == search_id).values(**fields))

    @guarded
    def get_search(self, search_id: str) -> SearchRecord:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(searches_table).where(searches_table.c.id == search_id)).first()
        if row is None:
            raise StoreError(f"no search with id {search_id} in store {self.where}")
        return _search_record(row)

    @guarded
    def list_searches(self) -> list[SearchRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(searches_table).order_by(searches_table.c.created_time)).all()
        return [_search_record(r) for r in rows]

    @guarded
    def find_searches(self, ref: str) -> list[SearchRecord]:
        s = searches_table
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(s).where(sa.or_(s.c.label == ref, _starts_with(s.c.id, ref)))
                                .order_by(s.c.created_time)).all()
        return [_search_record(r) for r in rows]

    def summary(self, search_id: str) -> SearchSummary:
        return self.summaries([search_id])[0]

    @guarded
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
            # infeasible results are never best (feasible is NULL without constraints)
            bests = conn.execute(sa.select(e.c.search_id, sa.func.max(e.c.objective),
                                           sa.func.min(e.c.objective))
                                 .where(e.c.state == EvaluationState.DONE.value)
                                 .where(sa.or_(e.c.feasible.is_(None), e.c.feasible.is_(True)))
                                 .group_by(e.c.search_id)).all()
        count_map: dict[str, dict[str, int]] = {}
        for sid, state, n in counts:
            count_map.setdefault(sid, {})[state] = n
        best_map = {sid: (high, low) for sid, high, low in bests}
        return [SearchSummary(s, count_map.get(s.id, {}), _best(s, best_map.get(s.id)))
                for s in searches]

    # ----- evaluations ---------------------------------------------------------------------
    @guarded
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

    @guarded
    def update_evaluations(self, updates: Sequence[tuple[str, dict]]) -> None:
        """Apply several updates in one transaction (``[(eval_id, {field: value}), ...]``)."""
        with self.engine.begin() as conn:
            for eval_id, fields in updates:
                _check_fields(fields, _EVAL_FIELDS)
                if "state" in fields:
                    fields = {**fields, "state": EvaluationState(fields["state"]).value}
                conn.execute(_update_statement(tuple(sorted(fields))), {"_id": eval_id, **fields})

    @guarded
    # ----- the driver's claim (see store/base.py) -------------------------------------------------
    @guarded
    def claim_search(self, search_id: str, token: str, lease_s: float, take_from: Optional[str] = None,
                     **fields) -> bool:
        _check_fields(fields, _SEARCH_FIELDS)
        s = searches_table
        now = time.time()
        free = [s.c.driver_token.is_(None), s.c.driver_token == token, s.c.lease_expires < now]
        if take_from is not None:
            free.append(s.c.driver_token == take_from)
        if "state" in fields:
            fields["state"] = SearchState(fields["state"]).value
        with self.engine.begin() as conn:
            result = conn.execute(s.update().where(s.c.id == search_id, sa.or_(*free))
                                  .values(driver_token=token, lease_expires=now + lease_s, **fields))
        return result.rowcount == 1

    @guarded
    def renew_lease(self, search_id: str, token: str, lease_s: float) -> bool:
        s = searches_table
        with self.engine.begin() as conn:
            result = conn.execute(s.update().where(s.c.id == search_id, s.c.driver_token == token)
                                  .values(lease_expires=time.time() + lease_s))
        return result.rowcount == 1

    @guarded
    def release_search(self, search_id: str, token: str, **fields) -> bool:
        _check_fields(fields, _SEARCH_FIELDS)
        if "state" in fields:
            fields["state"] = SearchState(fields["state"]).value
        s = searches_table
        with self.engine.begin() as conn:
            result = conn.execute(s.update().where(s.c.id == search_id, s.c.driver_token == token)
                                  .values(driver_token=None, lease_expires=None, **fields))
        return result.rowcount == 1

    @guarded
    def list_evaluations(self, search_id: str, states: Optional[Iterable[EvaluationState]] = None
                         ) -> list[EvaluationRecord]:
        e = evaluations_table
        query = sa.select(e).where(e.c.search_id == search_id).order_by(e.c.number)
        if states is not None:
            query = query.where(e.c.state.in_([EvaluationState(s).value for s in states]))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [_evaluation_record(r) for r in rows]

    @guarded
    def find_evaluations(self, prefix: str) -> list[EvaluationRecord]:
        e = evaluations_table
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(e).where(_starts_with(e.c.id, prefix))
                                .order_by(e.c.created_time).limit(20)).all()
        return [_evaluation_record(r) for r in rows]

    # ----- intermediate values -------------------------------------------------------------
    @guarded
    def add_reports(self, search_id: str, reports: Sequence[ReportRecord]) -> None:
        if not reports:
            return
        rows = [{"search_id": search_id, "evaluation_id": r.evaluation_id, "seq": r.seq, "step": r.step,
                 "value": r.value, "time": r.time, "objectives": r.objectives,
                 "constraints": r.constraints} for r in reports]
        with self.engine.begin() as conn:
            conn.execute(reports_table.insert(), rows)

    @guarded
    def list_reports(self, search_id: str, eval_ids: Optional[Iterable[str]] = None) -> list[ReportRecord]:
        r = reports_table
        query = sa.select(r.c.evaluation_id, r.c.seq, r.c.step, r.c.value, r.c.time,
                          r.c.objectives, r.c.constraints) \
            .where(r.c.search_id == search_id).order_by(r.c.seq, r.c.id)
        if eval_ids is not None:
            query = query.where(r.c.evaluation_id.in_(list(eval_ids)))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [ReportRecord(*row) for row in rows]


@functools.lru_cache(maxsize=64)
def _update_statement(names: tuple[str, ...]):
    """One compiled UPDATE per set of fields, so SQLAlchemy's statement cache is hit."""
    e = evaluations_table
    return e.update().where(e.c.id == sa.bindparam("_id")).values({n: sa.bindparam(n) for n in names})


def _starts_with(column, prefix: str):
    """``column`` starts with ``prefix``, ignoring ASCII case, the same on every database (LIKE is not)."""
    return sa.func.lower(sa.func.substr(column, 1, len(prefix))) == prefix.lower()


def _check_fields(fields: dict, allowed: set) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"unknown field(s) {sorted(unknown)}; allowed: {sorted(allowed)}")


def _search_record(row) -> SearchRecord:
    data = dict(row._mapping)
    data["state"] = SearchState(data["state"])
    return SearchRecord(**data)


def _best(search: SearchRecord, high_low: Optional[tuple]) -> Optional[float]:
    """The best objective in the search's direction; None with several objectives (no single best)."""
    if high_low is None:
        return None
    objectives = (search.problem or {}).get("objectives") or []
    if len(objectives) > 1:
        return None
    minimize = bool(objectives) and objectives[0].get("direction") == "minimize"
    return high_low[1] if minimize else high_low[0]


def _evaluation_record(row) -> EvaluationRecord:
    data = dict(row._mapping)
    data["state"] = EvaluationState(data["state"])
    return EvaluationRecord(**data)


def _with_query(url: sa.URL, **query) -> str:
    """``url`` as text with ``query`` added (``None`` values left out)."""
    extra = {k: v for k, v in query.items() if v is not None}
    return (url.update_query_dict(extra) if extra else url).render_as_string(hide_password=False)
