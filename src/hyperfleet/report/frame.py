"""A search's evaluations as a pandas DataFrame (:func:`load_results`), read in one SQL query.

At 100,000 evaluations the cost is the query and one JSON parse of all configurations at once:
no per-row ORM object, columns built as arrays (see ``benchmarks/dashboard.py``).
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, Optional, Union

import numpy as np
import sqlalchemy as sa

from hyperfleet.store.base import Store
from hyperfleet.store.records import EvaluationState, SearchRecord
from hyperfleet.store.schema import evaluations_table

if TYPE_CHECKING:
    import pandas

PANDAS_INSTALL = "pip install 'hyperfleet[data]'"

#: the columns every frame has, in order; hyperparameters come after ``objective``
LEAD = ("number", "id", "state", "objective")
TRAIL = ("submit_time", "start_time", "end_time", "duration_s", "last_step", "worker", "host",
         "error", "folder")
_FIXED = set(LEAD) | set(TRAIL)


def pandas_module():
    """pandas, or an :class:`ImportError` that says how to install it."""
    try:
        import pandas
    except ImportError:
        raise ImportError(f"load_results needs pandas, which is not installed; install it with "
                          f"{PANDAS_INSTALL}") from None
    return pandas


def load_results(ref: str, store: Union[str, "os.PathLike[str]", Store, None] = None) -> "pandas.DataFrame":
    """The evaluations of search ``ref`` (label, the latest with it, or id prefix), one row each.

    Args:
        ref: the search's label or a unique prefix of its id.
        store: a store (path, URL or :class:`~hyperfleet.store.Store`); default: the one
            ``hyperfleet ls`` finds (``$HYPERFLEET_STORE``, else ``hyperfleet.db`` here or above).

    Returns:
        A DataFrame ordered by evaluation number with the columns ``number``, ``id``, ``state``,
        ``objective`` (maximized; NaN when there is none), one column per hyperparameter (named as
        in the problem; ``config.NAME`` when the name is one of these columns), ``submit_time``,
        ``start_time``, ``end_time`` (UTC datetimes), ``duration_s`` (seconds, end - start),
        ``last_step`` (the last step reported with ``hyperfleet.report``; for STOPPED evaluations
        the step they were stopped at), ``worker``, ``host``, ``error``, ``folder``, and one
        ``metadata.KEY`` column per key of the run function's metadata.

    Raises:
        ImportError: pandas is missing (``pip install 'hyperfleet[data]'``).
        StoreError: no store, or no such search.

    Examples:
        >>> import hyperfleet                                  # doctest: +SKIP
        >>> df = hyperfleet.load_results("mnist")              # doctest: +SKIP
        >>> df[df.state == "DONE"].nlargest(5, "objective")    # doctest: +SKIP
    """
    pandas_module()
    from hyperfleet.store import open_store

    db = store if isinstance(store, Store) else open_store(store, create=False)
    try:
        return results_frame(db, db.resolve_search(ref))
    finally:
        if db is not store:
            db.close()


def results_frame(db: Store, search: SearchRecord) -> "pandas.DataFrame":
    """The DataFrame of :func:`load_results` for a search already resolved."""
    pd = pandas_module()
    names = [d["name"] for d in search.problem.get("dims", [])]
    raw = _read_sql(db, search.id) if hasattr(db, "engine") else _read_records(db, search.id)
    (ids, numbers, states, objectives, created, started, ended, last_steps, workers, hosts, errors,
     folders, configs, metadata) = raw
    start = np.array(started, dtype=float)
    end = np.array(ended, dtype=float)
    columns: dict[str, Any] = {
        "number": np.array(numbers, dtype=np.int64),
        "id": np.array(ids, dtype=object),
        "state": np.array(states, dtype=object),
        "objective": np.array(objectives, dtype=float),
    }
    params = pd.DataFrame.from_records(configs, columns=names) if names else pd.DataFrame(index=range(len(ids)))
    for name in names:
        columns[f"config.{name}" if name in _FIXED else name] = params[name].to_numpy()
    columns.update({
        "submit_time": _datetimes(pd, created),
        "start_time": _datetimes(pd, start),
        "end_time": _datetimes(pd, end),
        "duration_s": end - start,
        "last_step": pd.array(last_steps, dtype="Int64"),
        "worker": np.array(workers, dtype=object),
        "host": np.array(hosts, dtype=object),
        "error": np.array(errors, dtype=object),
        "folder": np.array(folders, dtype=object),
    })
    frame = pd.DataFrame(columns)
    if any(metadata):
        extra = pd.DataFrame.from_records(metadata)
        extra.columns = [f"metadata.{c}" for c in extra.columns]
        frame = pd.concat([frame, extra], axis=1)
    return frame


def _datetimes(pd, seconds) -> Any:
    return pd.to_datetime(np.array(seconds, dtype=float), unit="s", utc=True)


def _read_sql(db: Store, search_id: str) -> tuple:
    """All columns of a search's evaluations, one query, configs and metadata parsed at once."""
    e = evaluations_table
    query = (sa.select(e.c.id, e.c.number, e.c.state, e.c.objective, e.c.created_time, e.c.start_time,
                       e.c.end_time, e.c.last_step, e.c.worker, e.c.host, e.c.error, e.c.folder,
                       sa.cast(e.c.config, sa.Text), sa.cast(e.c.metadata, sa.Text))
             .where(e.c.search_id == search_id).order_by(e.c.number))
    with db.engine.connect() as conn:
        rows = conn.execute(query).all()
    if not rows:
        return tuple([] for _ in range(14))
    columns = list(zip(*rows))
    columns[12] = _json_list(columns[12])
    columns[13] = _json_list(columns[13])
    return tuple(columns)


def _json_list(texts) -> list:
    """Parse many JSON texts with one call (a JSON array of them) instead of one call each."""
    return json.loads("[" + ",".join(t if t is not None else "null" for t in texts) + "]")


def _read_records(db: Store, search_id: str) -> tuple:
    """The same columns from a store without SQL (any :class:`Store`)."""
    records = db.list_evaluations(search_id)
    fields = ("id", "number", "state", "objective", "created_time", "start_time", "end_time",
              "last_step", "worker", "host", "error", "folder", "config", "metadata")
    out = []
    for name in fields:
        values = [getattr(r, name) for r in records]
        if name == "state":
            values = [EvaluationState(v).value for v in values]
        out.append(values)
    return tuple(out)


def top_rows(frame: "pandas.DataFrame", top: Optional[int]) -> "pandas.DataFrame":
    """The ``top`` evaluations with the best objective (all rows when ``top`` is None)."""
    if top is None:
        return frame
    return frame.dropna(subset=["objective"]).sort_values(["objective", "number"],
                                                            ascending=[False, True]).head(top)
