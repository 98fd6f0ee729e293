"""Exact hypervolume (2 and 3 objectives) and non-dominated filtering, all MINIMIZED, in numpy.

The benchmark computes its metric with its own code, independent of the engines under test
(hyperfleet's ``pareto`` module included); ``tests/benchmarks/test_mo_metrics.py`` checks it
on hand-made points, on fronts with known areas and against Optuna's WFG hypervolume and
moocore in the anchor venv.

- ``nondominated(points)``: the rows no other row dominates (duplicates kept once).
- ``hypervolume(points, ref)``: the volume dominated by ``points`` and bounded by ``ref``;
  points not strictly better than ``ref`` in every objective add nothing. 2-D: one sort and a
  sweep, O(n log n). 3-D: slices along the third objective, each a 2-D sweep, O(n^2 log n) —
  fine for the few thousand points of a reference front.
"""
from __future__ import annotations

import numpy as np


def nondominated(points: np.ndarray) -> np.ndarray:
    """The non-dominated rows of ``points`` (minimization), unique, sorted lexicographically."""
    points = np.unique(np.asarray(points, dtype=float).reshape(len(points), -1), axis=0)
    if len(points) <= 1:
        return points
    if points.shape[1] == 2:
        # sorted by f1 then f2: a row is kept when its f2 is below every earlier row's f2
        best_before = np.minimum.accumulate(np.concatenate([[np.inf], points[:-1, 1]]))
        return points[points[:, 1] < best_before]
    keep = np.ones(len(points), dtype=bool)
    for i in range(len(points)):
        if keep[i]:
            dominated = np.all(points[i] <= points, axis=1) & np.any(points[i] < points, axis=1)
            keep &= ~dominated
    return points[keep]


def _hv2(points: np.ndarray, ref: np.ndarray) -> float:
    if len(points) == 0:
        return 0.0
    order = np.lexsort((points[:, 1], points[:, 0]))
    x, y = points[order, 0], points[order, 1]
    best_y = np.minimum.accumulate(y)
    widths = np.diff(np.append(x, ref[0]))
    return float(np.sum(widths * (ref[1] - best_y)))


def _hv3(points: np.ndarray, ref: np.ndarray) -> float:
    order = np.argsort(points[:, 2], kind="stable")
    points = points[order]
    z_next = np.append(points[1:, 2], ref[2])
    volume = 0.0
    for i in range(len(points)):
        depth = z_next[i] - points[i, 2]
        if depth > 0:
            volume += depth * _hv2(nondominated(points[: i + 1, :2]), ref[:2])
    return volume


def hypervolume(points, ref) -> float:
    """Hypervolume of ``points`` (rows, minimized) with reference point ``ref`` (2 or 3 objectives)."""
    ref = np.asarray(ref, dtype=float)
    points = np.asarray(points, dtype=float).reshape(-1, len(ref))
    points = points[np.all(points < ref, axis=1)]
    if len(points) == 0:
        return 0.0
    points = nondominated(points)
    if len(ref) == 2:
        return _hv2(points, ref)
    if len(ref) == 3:
        return _hv3(points, ref)
    raise ValueError(f"hypervolume: {len(ref)} objectives; only 2 or 3 are supported here")
