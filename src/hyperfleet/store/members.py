"""Several drivers on one search, in SQL: members and their leases, evaluation slots reserved
atomically, and the cursor by which each driver reads what the others did.

Every write that must not race another driver's runs under the search's lock: ``BEGIN
IMMEDIATE`` on SQLite (one writer at a time for the whole file), ``SELECT ... FOR UPDATE`` of the
search's row on PostgreSQL (writers of other searches go on). Under that lock a reservation
counts the search's evaluations against its budget, checks the configuration is not already
running or evaluated, and takes the next number; an end takes the next ``done_seq``. Since both
are assigned under the lock, they are committed in their order: a reader that has seen
``done_seq`` *n* has seen every smaller one, so ``number > a AND done_seq > b`` is a complete cursor.
"""

from __future__ import annotations

import functools
import time
import uuid
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence

import sqlalchemy as sa

from hyperfleet.store import direct
from hyperfleet.store.records import EvaluationRecord, EvaluationState, MemberRecord, MemberState
from hyperfleet.store.retry import guarded
from hyperfleet.store.schema import drivers_table, evaluations_table, searches_table

_FINISHED = frozenset(s.value for s in EvaluationState if s.finished)
_MEMBER_FIELDS = {c.name for c in drivers_table.columns} - {"id", "search_id"}
#: evaluations whose configuration is taken (a second one with the same key is a duplicate):
#: all but these
_NOT_TAKEN = [EvaluationState.FAILED.value, EvaluationState.TIMEOUT.value, EvaluationState.CANCELLED.value]


def _reserve_query():
    e = evaluations_table
    sid = sa.bindparam("sid")
    # plain comparisons, not IN lists: an IN list is re-rendered on every execution.
    # Numbers are unique in a search, so it holds at most last - first + 1 evaluations: the
    # exact count of the slots used (a scan of the search's rows) is needed only near the budget.
    # The states are excluded by inequalities, which no index serves: an equality (or an OR of
    # them) on the state made SQLite read the search's rows by (search_id, state), all the
    # running and evaluated ones, instead of the few with this key by (search_id, config_key).
    taken = sa.select(sa.func.count()).select_from(
        sa.select(e.c.id).where(e.c.search_id == sid, e.c.config_key == sa.bindparam("key"),
                                *(e.c.state != v for v in _NOT_TAKEN)).limit(1).subquery())
    last = sa.select(sa.func.coalesce(sa.func.max(e.c.number), -1)).where(e.c.search_id == sid)
    first = sa.select(sa.func.coalesce(sa.func.min(e.c.number), 0)).where(e.c.search_id == sid)
    return sa.select(taken.scalar_subquery(), last.scalar_subquery(), first.scalar_subquery())


def _used_query():
    """The slots of the budget a search uses: every evaluation but the cancelled (those are re-run)."""
    e = evaluations_table
    return sa.select(sa.func.count()).select_from(e).where(
        e.c.search_id == sa.bindparam("sid"), e.c.state != EvaluationState.CANCELLED.value)


_RESERVE_QUERY = _reserve_query()
_USED_QUERY = _used_query()
#: statements built once, so that each call only looks up its compiled form
_INSERT_EVALUATION = evaluations_table.insert()
_LAST_DONE_SEQ = (sa.select(sa.func.coalesce(sa.func.max(evaluations_table.c.done_seq), 0))
                  .where(evaluations_table.c.search_id == sa.bindparam("sid")))


@functools.lru_cache(maxsize=64)
def _finish_statement(names: tuple[str, ...], only_running: bool):
    """One compiled UPDATE per set of fields, so SQLAlchemy's statement cache is hit."""
    e = evaluations_table
    query = e.update().where(e.c.id == sa.bindparam("_id"))
    if only_running:
        query = query.where(e.c.state.in_([EvaluationState.CREATED.value, EvaluationState.RUNNING.value]))
    return query.values({n: sa.bindparam(n) for n in names})


@dataclass(frozen=True)
class Reservation:
    """One evaluation to reserve (see :meth:`MemberStore.reserve_evaluations`): its configuration,
    the configuration's key, whether a taken key refuses it, and the row's other fields."""

    config: dict
    key: str
    unique: bool = True
    fields: dict = field(default_factory=dict)


class MemberStore:
    """The shared-search methods of :class:`~hyperfleet.store.SqlStore` (a mixin; see the module)."""

    engine: sa.Engine
    is_sqlite: bool

    def _lock_search(self, conn: sa.Connection, search_id: str) -> None:
        """Hold the search's write lock until the transaction ends."""
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # through SQLAlchemy: its events see it
        else:
            s = searches_table
            conn.execute(sa.select(s.c.id).where(s.c.id == search_id).with_for_update())

    # ----- evaluations -----------------------------------------------------------------------
    def reserve_evaluation(self, search_id: str, config: dict, config_key: str, driver_id: str,
                           limit: Optional[int] = None, unique: bool = True,
                           folder_template: Optional[str] = None, **fields
                           ) -> tuple[Optional[EvaluationRecord], str]:
        """Create the search's next evaluation for ``config`` unless the budget is used up or the
        configuration is taken, in one transaction under the search's lock.

        ``limit``: evaluations (all but the cancelled) the search may hold (None: no limit).
        ``unique``: refuse a configuration whose key is already created, running or evaluated.
        ``folder_template``: the evaluation's folder, ``{number}`` replaced by its number.
        Returns ``(record, "ok")``, or ``(None, "full")`` / ``(None, "duplicate")`` having written nothing.
        """
        return self.reserve_evaluations(search_id, [Reservation(config, config_key, unique, fields)], driver_id,
                                        limit=limit, folder_template=folder_template)[0]

    @guarded
    def reserve_evaluations(self, search_id: str, reservations: Sequence["Reservation"], driver_id: str,
                            limit: Optional[int] = None, folder_template: Optional[str] = None,
                            ends: Sequence[tuple[str, dict]] = ()) -> list[tuple[Optional[EvaluationRecord], str]]:
        """Record ``ends`` (as :meth:`finish_evaluations`) and then reserve each of
        ``reservations`` in turn (as :meth:`reserve_evaluation`), all in one transaction under the
        search's lock: a driver whose evaluations are short pays one commit per cycle, not one per
        evaluation started and one per evaluation ended. Once the budget is full the later
        reservations are ``"full"`` too. Returns ``(record, outcome)`` per reservation, in order."""
        out: list[tuple[Optional[EvaluationRecord], str]] = []
        with self.engine.begin() as conn:
            self._lock_search(conn, search_id)
            if ends:
                self._apply_ends(conn, search_id, ends, only_running=False)
            used = None
            for wanted in reservations:
                # one round trip: whether the configuration is taken, the first and last numbers
                taken, last, first = direct.one(conn, _RESERVE_QUERY, {"sid": search_id, "key": wanted.key})
                if limit is not None and last - first + 1 >= limit:
                    if used is None:
                        used = conn.execute(_USED_QUERY, {"sid": search_id}).scalar_one()
                    if used >= limit:
                        out.append((None, "full"))
                        continue
                if wanted.unique and taken:
                    out.append((None, "duplicate"))
                    continue
                number = last + 1
                fields = dict(wanted.fields)
                state = EvaluationState(fields.pop("state", EvaluationState.RUNNING))
                record = EvaluationRecord(id=str(uuid.uuid4()), search_id=search_id, number=number,
                                          config=wanted.config, state=state, created_time=time.time(),
                                          driver_id=driver_id, config_key=wanted.key,
                                          folder=folder_template.format(number=number) if folder_template else None,
                                          **fields)
                direct.write(conn, _INSERT_EVALUATION, {**record.__dict__, "state": state.value})
                if used is not None:
                    used += 1
                out.append((record, "ok"))
        return out

    @guarded
    def finish_evaluations(self, search_id: str, updates: Sequence[tuple[str, dict]],
                           only_running: bool = False) -> list[str]:
        """Apply ``[(eval_id, fields), ...]`` in one transaction, giving each evaluation that ends
        (a finished ``state``) the search's next ``done_seq``. ``only_running``: update only
        evaluations still CREATED or RUNNING (a recovery that another driver may race).
        Returns the ids updated."""
        if not updates:
            return []
        with self.engine.begin() as conn:
            self._lock_search(conn, search_id)
            return self._apply_ends(conn, search_id, updates, only_running)

    def _apply_ends(self, conn: sa.Connection, search_id: str, updates: Sequence[tuple[str, dict]],
                    only_running: bool) -> list[str]:
        """:meth:`finish_evaluations` inside a transaction that holds the search's lock."""
        done = []
        seq = direct.scalar(conn, _LAST_DONE_SEQ, {"sid": search_id})
        for eval_id, fields in updates:
            values = dict(fields)
            if "state" in values:
                values["state"] = EvaluationState(values["state"]).value
                if values["state"] in _FINISHED:
                    seq += 1
                    values["done_seq"] = seq
            query = _finish_statement(tuple(sorted(values)), only_running)
            if direct.write(conn, query, {"_id": eval_id, **values}) == 1:
                done.append(eval_id)
            elif "done_seq" in values:
                seq -= 1
        return done

    @guarded
    def evaluations_since(self, search_id: str, number_after: int, seq_after: int,
                          exclude_driver: Optional[str] = None) -> list[EvaluationRecord]:
        """Evaluations of the search created after number ``number_after`` or ended after
        ``done_seq`` ``seq_after`` (by other drivers than ``exclude_driver``), by number."""
        e = evaluations_table
        query = sa.select(e).where(e.c.search_id == search_id,
                                   sa.or_(e.c.number > number_after, e.c.done_seq > seq_after))
        if exclude_driver is not None:
            query = query.where(sa.or_(e.c.driver_id.is_(None), e.c.driver_id != exclude_driver))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(e.c.number)).all()
        from hyperfleet.store.sql_store import _evaluation_record

        return [_evaluation_record(r) for r in rows]

    # ----- members -----------------------------------------------------------------------------
    @guarded
    def add_member(self, search_id: str, role: str, lease_s: float, **fields) -> MemberRecord:
        """Register a driver of the search (state RUNNING, a lease of ``lease_s`` seconds)."""
        _check(fields)
        now = time.time()
        record = MemberRecord(id=str(uuid.uuid4()), search_id=search_id, role=role, state=MemberState.RUNNING,
                              joined_time=now, lease_expires=now + lease_s, **fields)
        with self.engine.begin() as conn:
            conn.execute(drivers_table.insert().values(**{**record.__dict__, "state": record.state.value}))
        return record

    @guarded
    def renew_member(self, member_id: str, lease_s: float) -> bool:
        """Extend a member's lease; ``False`` when it is no longer RUNNING (another driver found it
        dead and recovered its evaluations: it must stop)."""
        d = drivers_table
        with self.engine.begin() as conn:
            result = conn.execute(d.update().where(d.c.id == member_id, d.c.state == MemberState.RUNNING.value)
                                  .values(lease_expires=time.time() + lease_s))
        return result.rowcount == 1

    @guarded
    def end_member(self, member_id: str, state: MemberState = MemberState.LEFT,
                   only_running: bool = True) -> bool:
        """Mark a member LEFT (it ended) or LOST (it died); with ``only_running``, only if still
        RUNNING, so that of two drivers finding a third dead only one recovers it."""
        d = drivers_table
        query = d.update().where(d.c.id == member_id)
        if only_running:
            query = query.where(d.c.state == MemberState.RUNNING.value)
        with self.engine.begin() as conn:
            result = conn.execute(query.values(state=MemberState(state).value, left_time=time.time(),
                                               lease_expires=None))
        return result.rowcount == 1

    @guarded
    def list_members(self, search_id: str, states: Optional[Iterable[MemberState]] = None) -> list[MemberRecord]:
        """The drivers of a search, in the order they joined."""
        d = drivers_table
        query = sa.select(d).where(d.c.search_id == search_id).order_by(d.c.joined_time)
        if states is not None:
            query = query.where(d.c.state.in_([MemberState(s).value for s in states]))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        out = []
        for row in rows:
            data = dict(row._mapping)
            data["state"] = MemberState(data["state"])
            out.append(MemberRecord(**data))
        return out


def _check(fields: dict) -> None:
    unknown = set(fields) - _MEMBER_FIELDS
    if unknown:
        raise TypeError(f"unknown field(s) {sorted(unknown)}; allowed: {sorted(_MEMBER_FIELDS)}")
