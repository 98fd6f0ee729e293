"""The data behind a search page's plots, downsampled on the server: whatever the search's size,
each plot gets at most a few thousand points (a best-so-far curve keeps every improvement)."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from typing import Any, Optional

import numpy as np

from hyperfleet.dashboard import queries
from hyperfleet.store.records import SearchRecord
from hyperfleet.store.sql_store import SqlStore

#: points of a curve or a scatter sent to the browser
MAX_POINTS = 1000
#: configurations sampled for objective-vs-hyperparameter, parallel coordinates and importance
SAMPLE = 1500
UTILIZATION_BINS = 200
CURVES = 30
IMPORTANCE_SAMPLE = 800


def plot_data(store: SqlStore, search: SearchRecord) -> dict[str, Any]:
    """Every plot of the search page, downsampled, with the ``cursor`` of the live updates."""
    cols = queries.finished_columns(store, search.id)
    end = _floats(cols["end"])
    start = _floats(cols["start"])
    objective = _floats(cols["objective"])
    state = np.array(cols["state"], dtype=object)
    number = np.array(cols["number"], dtype=np.int64)
    done = (state == "DONE") & ~np.isnan(objective)
    n = len(end)
    best = np.maximum.accumulate(np.where(done, objective, -np.inf)) if n else np.empty(0)
    keep = downsample(best)
    sample = _sample(np.flatnonzero(done), objective, SAMPLE)
    configs = queries.configs_of(store, search.id, [int(number[i]) for i in sample])
    dims = queries.dims_of(search)
    return {
        "finished": n,
        # where the live updates start: the newest end time drawn here (0: nothing yet)
        "cursor": float(np.nanmax(end)) if n and not np.all(np.isnan(end)) else 0.0,
        "history": {"x": (keep + 1).tolist(), "t": _list(end[keep]), "best": _list(best[keep])},
        "points": _points(done, objective, end, MAX_POINTS),
        "params": {"names": [d["name"] for d in dims], "kinds": [d.get("kind") for d in dims],
                   "log": [bool(d.get("log")) for d in dims],
                   "objective": _list(objective[sample]),
                   "values": [[configs.get(int(number[i]), {}).get(d["name"]) for i in sample] for d in dims]},
        "utilization": utilization(start, end, len({w for w in cols["worker"] if w})),
        "curves": _curves(store, search),
        "pareto": pareto(store, search),  # None with one objective
    }


def pareto(store: SqlStore, search: SearchRecord, points: int = MAX_POINTS) -> Optional[dict[str, Any]]:
    """The feasible non-dominated evaluations of a search with several objectives (each
    objective in its own direction), and a sample of the other successful and the infeasible ones."""
    declared = search.problem.get("objectives") or []
    if len(declared) < 2:
        return None
    from hyperfleet.pareto import pareto_mask

    names = [o["name"] for o in declared]
    directions = [o.get("direction", "maximize") for o in declared]
    numbers, values, feasible = queries.objective_vectors(store, search.id)
    k = len(names)
    ok = [i for i, v in enumerate(values) if isinstance(v, list) and len(v) == k]
    Y = np.array([values[i] for i in ok], dtype=float).reshape(-1, k)
    number = np.array([numbers[i] for i in ok], dtype=np.int64)
    fits = np.array([feasible[i] is not False for i in ok], dtype=bool)
    on_front = np.zeros(len(Y), dtype=bool)
    if fits.any():
        on_front[np.flatnonzero(fits)] = pareto_mask(Y[fits], directions)
    front = np.flatnonzero(on_front)
    front = front[np.argsort(Y[front, 0], kind="stable")]
    if len(front) > points:
        front = front[np.linspace(0, len(front) - 1, points).astype(np.int64)]
    rng = np.random.default_rng(0)

    def sample(idx: np.ndarray) -> np.ndarray:
        return np.sort(rng.choice(idx, points, replace=False)) if len(idx) > points else idx

    others = sample(np.flatnonzero(fits & ~on_front))
    infeasible = sample(np.flatnonzero(~fits))

    def cols(idx: np.ndarray) -> dict:
        return {"numbers": number[idx].tolist(), "values": [_list(Y[idx, j]) for j in range(k)]}

    return {"names": names, "directions": directions, "size": int(on_front.sum()),
            "front": cols(front), "others": cols(others), "infeasible": cols(infeasible)}


def importance_data(store: SqlStore, search: SearchRecord, size: int = IMPORTANCE_SAMPLE) -> dict[str, Any]:
    """Hyperparameter importance on a sample of the successful evaluations (its own request: the
    forest takes a second, the other plots should not wait for it)."""
    cols = queries.finished_columns(store, search.id)
    objective = _floats(cols["objective"])
    number = np.array(cols["number"], dtype=np.int64)
    done = (np.array(cols["state"], dtype=object) == "DONE") & ~np.isnan(objective)
    sample = _sample(np.flatnonzero(done), objective, size)
    configs = queries.configs_of(store, search.id, [int(number[i]) for i in sample])
    return {"finished": len(number),
            "importance": importance(search, [configs.get(int(number[i])) for i in sample], objective[sample])}


def downsample(best: np.ndarray, points: int = MAX_POINTS) -> np.ndarray:
    """Indices of a best-so-far curve to draw: evenly spaced ones, every improvement, the last."""
    n = len(best)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    even = np.linspace(0, n - 1, min(n, points)).astype(np.int64)
    changes = np.flatnonzero(np.concatenate([[True], best[1:] != best[:-1]]))  # exact with -inf
    if len(changes) > points:
        changes = changes[np.linspace(0, len(changes) - 1, points).astype(np.int64)]
    return np.unique(np.concatenate([even, changes, [n - 1]]))


def utilization(start: np.ndarray, end: np.ndarray, workers: int, bins: int = UTILIZATION_BINS) -> dict:
    """Mean busy workers per time bin (from the finished evaluations' start and end times)."""
    ok = ~np.isnan(start) & ~np.isnan(end)
    start, end = start[ok], np.maximum(end[ok], start[ok])
    if not len(start):
        return {"t": [], "busy": [], "workers": workers}
    t0, t1 = float(start.min()), float(end.max())
    edges = np.linspace(t0, t1 if t1 > t0 else t0 + 1.0, bins + 1)
    # busy time of each bin = sum over evaluations of their overlap with it: integrate the count
    # of running evaluations, a step function, exactly through cumulative busy time at the edges
    s, e = np.sort(start), np.sort(end)

    def busy_until(t: np.ndarray) -> np.ndarray:
        i, j = np.searchsorted(s, t), np.searchsorted(e, t)
        cs, ce = np.concatenate([[0], np.cumsum(s)]), np.concatenate([[0], np.cumsum(e)])
        return (t * i - cs[i]) - (t * j - ce[j])

    cumulative = busy_until(edges)
    busy = np.diff(cumulative) / np.diff(edges)
    return {"t": _list((edges[:-1] + edges[1:]) / 2), "busy": _list(busy), "workers": workers}


def importance(search: SearchRecord, configs: list, objective: np.ndarray) -> list[dict]:
    """Each hyperparameter's share of a random forest's impurity decrease, fitted on a sample of
    the successful evaluations (empty below 10 of them)."""
    rows = [(c, y) for c, y in zip(configs, objective) if c is not None and math.isfinite(y)]
    if len(rows) < 10:
        return []
    from sklearn.ensemble import RandomForestRegressor

    from hyperfleet.problem import HpProblem

    try:
        problem = HpProblem.from_dict(search.problem)
        X = problem.to_array([c for c, _ in rows])
    except (KeyError, ValueError, TypeError):
        return []  # configurations that no longer fit the recorded space
    model = RandomForestRegressor(n_estimators=30, max_depth=8, random_state=0, n_jobs=1)
    model.fit(X, np.array([y for _, y in rows]))
    shares = model.feature_importances_
    return sorted(({"name": name, "importance": float(v)} for name, v in zip(problem.names, shares)),
                  key=lambda r: -r["importance"])


def _curves(store, search) -> list[dict]:
    if not queries.has_reports(store, search.id):
        return []
    return queries.curves(store, search.id, queries.curve_candidates(store, search.id, CURVES))


def _sample(indices: np.ndarray, objective: np.ndarray, size: int) -> np.ndarray:
    """Evenly spaced indices plus the best 50 (so the best regions always show)."""
    if len(indices) <= size:
        return indices
    even = indices[np.linspace(0, len(indices) - 1, size - 50).astype(np.int64)]
    top = indices[np.argsort(-objective[indices])[:50]]
    return np.unique(np.concatenate([even, top]))


def _points(done, objective, end, size) -> dict:
    idx = _sample(np.flatnonzero(done), objective, size)
    return {"x": (idx + 1).tolist(), "t": _list(end[idx]), "y": _list(objective[idx])}


def _floats(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _list(a: np.ndarray) -> list:
    """JSON-ready floats (NaN and infinities become null)."""
    return [float(v) if math.isfinite(v) else None for v in np.asarray(a, dtype=float)]


def warm_up() -> None:
    """Import scikit-learn's forests ahead of the first importance request (seconds on a busy machine)."""
    try:
        import sklearn.ensemble  # noqa: F401
    except Exception:  # noqa: BLE001 - e.g. the interpreter shutting down meanwhile: the request imports it
        pass


class PlotCache:
    """The last answers of ``build(store, search)`` for a few searches, rebuilt when a search has
    new finished evaluations and the previous build is older than ``min_age_s`` (bounds the work
    many open pages cause)."""

    def __init__(self, build=plot_data, size: int = 8, min_age_s: float = 3.0) -> None:
        self.build = build
        self.size = size
        self.min_age_s = min_age_s
        self._items: OrderedDict[str, tuple[float, int, dict]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, store: SqlStore, search: SearchRecord, finished: Optional[int] = None) -> dict:
        with self._lock:
            item = self._items.get(search.id)
        if item is not None:
            built, count, data = item
            if count == finished or time.monotonic() - built < self.min_age_s:
                return data
        data = self.build(store, search)
        with self._lock:
            self._items[search.id] = (time.monotonic(), data["finished"], data)
            self._items.move_to_end(search.id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return data
