"""What the dashboard asks of the store, each answer in one or two SQL queries sized for the page
(counts and bests grouped in the database, a page of rows, the rows finished since a cursor)."""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, Optional

import sqlalchemy as sa

from hyperfleet.store.records import EvaluationState, SearchRecord
from hyperfleet.store.schema import evaluations_table, reports_table
from hyperfleet.store.sql_store import SqlStore

E = evaluations_table
STATES = [s.value for s in EvaluationState]
FINISHED = [s.value for s in EvaluationState if s.finished]
#: rows finished up to this many seconds before the newest one a client saw are sent again: a
#: worker's end time is its own clock, and results reach the store in any order within that window
LIVE_LAG_S = 30.0
#: the columns the evaluations table sorts by, besides the hyperparameters
SORTS = {"number": E.c.number, "objective": E.c.objective, "state": E.c.state, "start": E.c.start_time,
         "end": E.c.end_time, "duration": E.c.end_time - E.c.start_time, "worker": E.c.worker}


def dims_of(search: SearchRecord) -> list[dict]:
    """The search's dimensions as recorded: ``[{"name", "kind", ...}, ...]``."""
    return list(search.problem.get("dims", []))


class LiveMemo:
    """What the last polls found, keyed by a search's counts per state: a finished evaluation
    never stops being finished, so while the counts stay the same the best objective and the
    rows finished since a cursor stay the same too, and a poll costs one query on an index."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, counts: tuple) -> Any:
        with self._lock:
            item = self._items.get(key)
        return item[1] if item is not None and item[0] == counts else None

    def put(self, key: tuple, counts: tuple, value: Any) -> None:
        with self._lock:
            self._items[key] = (counts, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def overview(store: SqlStore, search: SearchRecord, now: Optional[float] = None,
             memo: Optional[LiveMemo] = None) -> dict[str, Any]:
    """State, batch job, counts per state, best objective and rate of one search (queries on
    the index of the search's states, not a count over the whole store)."""
    with store.engine.connect() as conn:
        counts = dict(conn.execute(sa.select(E.c.state, sa.func.count()).where(E.c.search_id == search.id)
                                   .group_by(E.c.state)).all())
        key = tuple(sorted(counts.items()))
        best = memo.get(("best", search.id), key) if memo else None
        if best is None:
            best = (conn.execute(sa.select(sa.func.max(E.c.objective))
                                 .where(E.c.search_id == search.id, E.c.state == "DONE")).scalar(),)
            if memo:
                memo.put(("best", search.id), key, best)
    fresh = store.get_search(search.id)  # its state changes while the page is open
    return _overview(fresh, counts, best[0], now)


def front_rows(store: SqlStore) -> list[dict[str, Any]]:
    """:func:`overview` of every search, oldest first."""
    now = time.time()
    return [_overview(s.search, s.counts, s.best, now) for s in store.summaries()]


def _overview(search: SearchRecord, counts: dict, best: Optional[float], now: Optional[float]) -> dict:
    from hyperfleet.driver_lifecycle import shown_state

    now = now or time.time()
    finished = sum(n for state, n in counts.items() if state in FINISHED)
    start = search.start_time or search.created_time
    end = search.end_time if search.end_time and search.state.value != "RUNNING" else now
    minutes = (end - start) / 60 if start and end and end > start else None
    return {"id": search.id, "label": search.label, "state": shown_state(search),
            "job": f"{search.scheduler} {search.job_id}" if search.job_id else None,
            "counts": {s: counts.get(s, 0) for s in STATES}, "total": sum(counts.values()),
            "finished": finished, "best": best,
            "rate_per_min": finished / minutes if minutes else None,
            "start_time": start, "end_time": search.end_time, "message": search.message}


def live(store: SqlStore, search: SearchRecord, since: Optional[float], limit: int = 2000,
         memo: Optional[LiveMemo] = None) -> dict:
    """Counts, best and the rows finished after ``since - LIVE_LAG_S`` (the client drops the ones
    it has, by number); ``cursor`` is the end time to send next time."""
    data = overview(store, search, memo=memo)
    key = tuple(sorted((s, n) for s, n in data["counts"].items() if n))
    rows: list = []
    cached = memo.get(("rows", search.id, since, limit), key) if memo and since is not None else None
    if cached is not None:
        rows = cached
    elif since is not None:
        query = (sa.select(E.c.number, E.c.end_time, E.c.objective, E.c.state)
                 .where(E.c.search_id == search.id, E.c.state.in_(FINISHED),
                        E.c.end_time > since - LIVE_LAG_S)
                 .order_by(E.c.end_time, E.c.number).limit(limit))
        with store.engine.connect() as conn:
            rows = [[n, t, obj, st] for n, t, obj, st in conn.execute(query)]
        if memo:
            memo.put(("rows", search.id, since, limit), key, rows)
    data["rows"] = rows
    data["more"] = len(rows) == limit
    data["cursor"] = max([since or 0.0] + [r[1] for r in rows if r[1] is not None])
    return data


def finished_columns(store: SqlStore, search_id: str) -> dict[str, list]:
    """End, start, objective, state, number and worker of every finished evaluation, by end time
    (a few numbers per row: the plots are built from these and downsampled)."""
    query = (sa.select(E.c.end_time, E.c.start_time, E.c.objective, E.c.state, E.c.number, E.c.worker)
             .where(E.c.search_id == search_id, E.c.state.in_(FINISHED))
             .order_by(E.c.end_time, E.c.number))
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    names = ("end", "start", "objective", "state", "number", "worker")
    columns = list(zip(*rows)) if rows else [()] * len(names)
    return {name: list(col) for name, col in zip(names, columns)}


def objective_vectors(store: SqlStore, search_id: str) -> tuple[list[int], list, list]:
    """Number, objective values and feasibility of every successful evaluation of a search with
    several objectives (parsed with one JSON call)."""
    query = (sa.select(E.c.number, sa.cast(E.c.objectives, sa.Text), E.c.feasible)
             .where(E.c.search_id == search_id, E.c.state == "DONE", E.c.objectives.isnot(None))
             .order_by(E.c.number))
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    rows = [r for r in rows if r[1] not in (None, "null")]
    values = json.loads("[" + ",".join(text for _, text, _ in rows) + "]")
    return [n for n, _, _ in rows], values, [f for _, _, f in rows]


def configs_of(store: SqlStore, search_id: str, numbers: list[int]) -> dict[int, dict]:
    """The configurations of some evaluations, by number (parsed with one JSON call)."""
    if not numbers:
        return {}
    out: dict[int, dict] = {}
    with store.engine.connect() as conn:
        for k in range(0, len(numbers), 900):  # SQLite's bound-parameter limit
            chunk = numbers[k:k + 900]
            rows = conn.execute(sa.select(E.c.number, sa.cast(E.c.config, sa.Text))
                                .where(E.c.search_id == search_id, E.c.number.in_(chunk))).all()
            parsed = json.loads("[" + ",".join(text for _, text in rows) + "]")
            out.update({n: config for (n, _), config in zip(rows, parsed)})
    return out


def page(store: SqlStore, search: SearchRecord, offset: int = 0, limit: int = 50, sort: str = "number",
         descending: bool = False, state: Optional[str] = None, text: Optional[str] = None) -> dict:
    """One page of the evaluations table: sorted, filtered by state, searched by value.

    ``sort`` is a column of :data:`SORTS` or ``param:NAME`` (a hyperparameter); ``text`` matches
    an id prefix, the number, or any part of the configuration, error or worker.

    Raises:
        ValueError: an unknown sort column or state.
    """
    where = [E.c.search_id == search.id]
    if state:
        if state not in STATES:
            raise ValueError(f"unknown state {state!r}; use one of {', '.join(STATES)}")
        where.append(E.c.state == state)
    if text:
        found = [E.c.id.startswith(text, autoescape=True), sa.cast(E.c.config, sa.Text).contains(text, autoescape=True),
                 E.c.error.contains(text, autoescape=True), E.c.worker.contains(text, autoescape=True)]
        if text.isdigit():
            found.append(E.c.number == int(text))
        where.append(sa.or_(*found))
    column = _sort_column(search, sort)
    # missing values (no objective yet) last in either direction
    order = [column.is_(None), column.desc() if descending else column.asc(), E.c.number]
    query = (sa.select(E.c.number, E.c.id, E.c.state, E.c.objective, E.c.start_time, E.c.end_time,
                       E.c.worker, E.c.last_step, E.c.error, E.c.config)
             .where(*where).order_by(*order).offset(offset).limit(limit))
    with store.engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(E).where(*where)).scalar_one()
        rows = conn.execute(query).all()
    names = [d["name"] for d in dims_of(search)]
    out = []
    for r in rows:
        out.append({"number": r.number, "id": r.id, "state": r.state, "objective": r.objective,
                    "start": r.start_time, "end": r.end_time, "worker": r.worker, "step": r.last_step,
                    "duration": (r.end_time - r.start_time) if r.start_time and r.end_time else None,
                    "error": (r.error or "").strip().splitlines()[-1][:200] if r.error else None,
                    "config": [r.config.get(n) for n in names]})
    return {"total": total, "offset": offset, "limit": limit, "params": names, "rows": out}


def _sort_column(search: SearchRecord, sort: str):
    if sort in SORTS:
        return SORTS[sort]
    if sort.startswith("param:"):
        name = sort[len("param:"):]
        for dim in dims_of(search):
            if dim["name"] == name:
                value = E.c.config[name]
                return value.as_string() if dim.get("kind") == "cat" else value.as_float()
        raise ValueError(f"no hyperparameter {name!r} in this search")
    raise ValueError(f"cannot sort by {sort!r}; use one of {', '.join(SORTS)} or param:NAME")


def evaluation(store: SqlStore, search: SearchRecord, number: int) -> Optional[dict]:
    """One evaluation in full, with the tails of its stdout/stderr (only from inside the search's
    folder), or ``None``."""
    from hyperfleet.dashboard.security import inside

    with store.engine.connect() as conn:
        row = conn.execute(sa.select(E).where(E.c.search_id == search.id, E.c.number == number)).first()
    if row is None:
        return None
    files = {}
    folder = inside(search.folder, row.folder) if row.folder else None
    if folder is not None:
        for name in ("stdout.txt", "stderr.txt"):
            path = inside(search.folder, str(Path(folder) / name))
            if path is not None and path.is_file():
                files[name] = {"tail": tail(path), "href": str(path.relative_to(Path(search.folder).resolve()))}
    return {"number": row.number, "id": row.id, "state": row.state, "objective": row.objective,
            "config": row.config, "metadata": row.metadata, "error": row.error,
            "created": row.created_time, "start": row.start_time, "end": row.end_time,
            "worker": row.worker, "host": row.host, "step": row.last_step, "files": files}


def tail(path: Path, lines: int = 40, limit: int = 64 * 1024) -> str:
    """The last ``lines`` lines of a text file (read from its last ``limit`` bytes)."""
    with open(path, "rb") as f:
        f.seek(0, 2)
        size = f.tell()
        f.seek(max(0, size - limit))
        data = f.read().decode(errors="replace")
    return "\n".join(data.splitlines()[-lines:])


def curves(store: SqlStore, search_id: str, numbers: list[int], points: int = 200) -> list[dict]:
    """The learning curves (``reports`` rows) of some evaluations, each at most ``points`` long."""
    if not numbers:
        return []
    r = reports_table
    query = (sa.select(E.c.number, r.c.step, r.c.value).join(E, E.c.id == r.c.evaluation_id)
             .where(r.c.search_id == search_id, E.c.number.in_(numbers[:500]))
             .order_by(E.c.number, r.c.step))
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    by_number: dict[int, list] = {}
    for number, step, value in rows:
        by_number.setdefault(number, []).append((step, value))
    out = []
    for number, series in by_number.items():
        every = max(1, len(series) // points)
        kept = series[::every] + ([series[-1]] if (len(series) - 1) % every else [])
        out.append({"number": number, "steps": [s for s, _ in kept], "values": [v for _, v in kept]})
    return out


def curve_candidates(store: SqlStore, search_id: str, count: int) -> list[int]:
    """Numbers of up to ``count`` evaluations that reported values: the best half and the latest."""
    r = reports_table
    reported = sa.exists().where(r.c.evaluation_id == E.c.id)
    base = sa.select(E.c.number).where(E.c.search_id == search_id, reported)
    with store.engine.connect() as conn:
        best = conn.execute(base.where(E.c.objective.is_not(None))
                            .order_by(E.c.objective.desc()).limit(count // 2)).scalars().all()
        latest = conn.execute(base.order_by(E.c.number.desc()).limit(count - len(best))).scalars().all()
    return sorted(set(best) | set(latest))


def has_reports(store: SqlStore, search_id: str) -> bool:
    r = reports_table
    with store.engine.connect() as conn:
        return conn.execute(sa.select(r.c.id).where(r.c.search_id == search_id).limit(1)).first() is not None
