"""Pareto fronts: non-dominated filtering, non-dominated sorting and hypervolume (numpy).

Every function takes an ``(n, k)`` array of objective values and their directions
(``"maximize"`` / ``"minimize"`` per column; default: all maximized, the project's convention).
A point dominates another when it is at least as good in every objective and better in one;
equal points do not dominate each other, so duplicates of a front point are all on the front.

Speed: the front of 100,000 points takes a sort sweep in 2-D, a sweep over a staircase in 3-D
(O(n log n), whatever the front's size), divide and conquer over such sweeps in 4-D
(O(n log^2 n)) and a vectorized cull by the front found so far, a block at a time, in more
dimensions (``benchmarks/pareto_speed.py``).
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np


def _as_minimized(Y, directions: Optional[Sequence[str]]) -> np.ndarray:
    Y = np.asarray(Y, dtype=float)
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.ndim != 2:
        raise ValueError(f"objective values must be an (n, k) array, got shape {Y.shape}")
    if directions is None:
        return -Y
    if len(directions) != Y.shape[1]:
        raise ValueError(f"{len(directions)} direction(s) for {Y.shape[1]} objective(s)")
    signs = np.array([-1.0 if d == "maximize" else 1.0 for d in directions])
    bad = [d for d in directions if d not in ("maximize", "minimize")]
    if bad:
        raise ValueError(f"directions must be 'maximize' or 'minimize', got {bad[0]!r}")
    return Y * signs


def pareto_mask(Y, directions: Optional[Sequence[str]] = None) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``Y`` (NaN rows are never on the front)."""
    C = _as_minimized(Y, directions)
    n = len(C)
    mask = np.zeros(n, dtype=bool)
    ok = np.flatnonzero(~np.isnan(C).any(axis=1))
    if len(ok) == 0:
        return mask
    mask[ok[_front_min(C[ok])]] = True
    return mask


def _front_min(C: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated rows of ``C`` (minimized, no NaN)."""
    n, k = C.shape
    if k == 1:
        return np.flatnonzero(C[:, 0] == C[:, 0].min())
    order = np.lexsort(C.T[::-1])  # by the first column, ties by the next ...
    S = C[order]
    if k == 2:
        # sweep by increasing first objective: a point is on the front when its second value is
        # below every earlier one, or equal to the best earlier one with an equal first value
        second = S[:, 1]
        best_before = np.minimum.accumulate(np.concatenate([[np.inf], second[:-1]]))
        strict = second < best_before
        keep = strict.copy()
        # duplicates of a front point (same first and second value) stay on the front
        same_prev = np.concatenate([[False], (S[1:] == S[:-1]).all(axis=1)])
        for i in np.flatnonzero(same_prev):
            keep[i] = keep[i - 1]
        return np.sort(order[keep])
    if k == 3:
        return np.sort(order[_front_sweep3(S)])
    if k == 4:
        return np.sort(order[_front_split4(S)])
    return np.sort(order[_front_blocks(S)])


def _front_sweep3(S: np.ndarray) -> np.ndarray:
    """Front of ``S`` (3 minimized objectives, sorted lexicographically), O(n log n) but for list moves.

    Every earlier point is at least as good in the first objective, so a point is dominated when
    one earlier point is at least as good in the other two (and not equal in all three): kept is
    the staircase of the earlier points' (second, third) values, second ascending, third strictly
    descending, with the first value of each step."""
    import bisect

    keep = []
    ys: list[float] = []
    zs: list[float] = []  # strictly descending
    xs: list[float] = []
    for i, (x, y, z) in enumerate(S.tolist()):
        j = bisect.bisect_right(ys, y) - 1  # the step with the largest second value <= y: lowest third
        if j >= 0 and zs[j] <= z:
            if zs[j] < z or ys[j] < y or xs[j] < x:
                continue  # dominated
            keep.append(i)  # a duplicate of a front point
            continue
        keep.append(i)
        pos = bisect.bisect_left(ys, y)
        end = pos
        while end < len(zs) and zs[end] >= z:  # steps this point is at least as good as
            end += 1
        ys[pos:end], zs[pos:end], xs[pos:end] = [y], [z], [x]
    return np.asarray(keep, dtype=np.int64)


def _front_split4(S: np.ndarray, small: int = 64, cells: int = 1 << 20) -> np.ndarray:
    """Front of ``S`` (4 minimized objectives, sorted lexicographically) by divide and conquer
    (Kung, Luccio and Preparata): the front of the first half, the front of the second half, and
    the second's points no point of the first dominates. Every first-half point is at least as
    good in the first objective, so that last step is a 3-D question, answered by a sweep over the
    second objective with a staircase of the third and fourth (O(m log m) but for list moves), or
    vectorized when the two fronts are small. Duplicate rows are settled once: all copies of a
    front point stay. Costs O(n log^2 n) whatever the front's size, where the cull by blocks costs
    O(n x front)."""
    new = np.concatenate([[True], (S[1:] != S[:-1]).any(axis=1)])  # S is sorted: copies are adjacent
    group = np.cumsum(new) - 1
    U = S[new]
    front = _split4(U, np.arange(len(U)), small, cells)
    on = np.zeros(len(U), dtype=bool)
    on[front] = True
    return np.flatnonzero(on[group])


def _split4(U: np.ndarray, idx: np.ndarray, small: int, cells: int) -> np.ndarray:
    """Front (indices into ``U``, ascending) of the distinct rows ``U[idx]``, ``idx`` ascending."""
    if len(idx) <= small:
        return idx[~_dominated_by(U[idx], U[idx])]
    half = len(idx) // 2
    a = _split4(U, idx[:half], small, cells)
    b = _split4(U, idx[half:], small, cells)
    if len(a) * len(b) <= cells:
        dominated = _dominated_by(U[b], U[a])
    else:
        dominated = _dominated3(U[a][:, 1:], U[b][:, 1:])
    return np.concatenate([a, b[~dominated]])


def _dominated3(F: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """Whether each row of ``Q`` is weakly dominated (<= in all 3 columns) by a row of ``F``: a
    sweep by the first column (``F`` rows before ``Q`` rows at ties) keeping the staircase of the
    ``F`` rows seen -- second column ascending, third strictly descending."""
    import bisect

    rows = np.concatenate([F, Q])
    is_q = np.concatenate([np.zeros(len(F), dtype=bool), np.ones(len(Q), dtype=bool)])
    order = np.lexsort((is_q, rows[:, 0]))
    out = np.zeros(len(Q), dtype=bool)
    ys: list[float] = []
    zs: list[float] = []
    nf = len(F)
    for i, (_, y, z) in zip(order.tolist(), rows[order].tolist()):
        j = bisect.bisect_right(ys, y) - 1  # the step with the largest second value <= y
        covered = j >= 0 and zs[j] <= z
        if i >= nf:
            out[i - nf] = covered
            continue
        if covered:
            continue
        pos = bisect.bisect_left(ys, y)
        end = pos
        while end < len(zs) and zs[end] >= z:
            end += 1
        ys[pos:end], zs[pos:end] = [y], [z]
    return out


def _front_blocks(S: np.ndarray) -> np.ndarray:
    """Front of ``S`` (5+ minimized objectives). By increasing coordinate sum (a point can only be
    dominated by one of smaller sum), a block of the next live points is settled among itself --
    its survivors are on the front -- and they cull every later point they dominate, vectorized.
    Small fronts go fast (the first survivors cull most points); a front of f points costs
    O(n x f) comparisons. Blocks grow while they survive whole."""
    n = len(S)
    order = np.argsort(S.sum(axis=1), kind="stable")
    T = S[order]
    alive = np.ones(n, dtype=bool)
    kept: list[np.ndarray] = []
    pos, block = 0, 32
    while pos < n:
        idx = np.flatnonzero(alive[pos:])[:block] + pos
        if not len(idx):
            break
        B = T[idx]
        le = (B[None, :, :] <= B[:, None, :]).all(axis=2)  # [i, j]: B[j] at least as good as B[i]
        lt = (B[None, :, :] < B[:, None, :]).any(axis=2)
        surv = idx[~(le & lt).any(axis=1)]
        kept.append(surv)
        pos = idx[-1] + 1
        rest = np.flatnonzero(alive[pos:]) + pos
        if len(rest):
            alive[rest[_dominated_by(T[rest], T[surv])]] = False
        block = min(2048, block * 2) if len(surv) == len(idx) else max(32, block // 2)
    return order[np.concatenate(kept)] if kept else np.zeros(0, dtype=np.int64)


def _dominated_by(B: np.ndarray, F: np.ndarray, cells: int = 1 << 22) -> np.ndarray:
    """Whether each row of ``B`` is dominated by a row of ``F`` (chunked: ~``cells`` comparisons at once)."""
    out = np.zeros(len(B), dtype=bool)
    rows = max(1, cells // max(1, len(F) * F.shape[1]))
    for s in range(0, len(B), rows):
        b = B[s:s + rows]
        le = (F[None, :, :] <= b[:, None, :]).all(axis=2)
        lt = (F[None, :, :] < b[:, None, :]).any(axis=2)
        out[s:s + rows] = (le & lt).any(axis=1)
    return out


def non_dominated_sort(Y, directions: Optional[Sequence[str]] = None) -> np.ndarray:
    """Front number of each row: 0 for the non-dominated ones, 1 for those non-dominated once
    front 0 is removed, ...; NaN rows get the largest number plus one."""
    C = _as_minimized(Y, directions)
    rank = np.full(len(C), -1, dtype=np.int64)
    remaining = np.flatnonzero(~np.isnan(C).any(axis=1))
    level = 0
    while len(remaining):
        front = remaining[_front_min(C[remaining])]
        rank[front] = level
        remaining = np.setdiff1d(remaining, front, assume_unique=True)
        level += 1
    rank[rank < 0] = level
    return rank


def hypervolume(Y, reference: Sequence[float], directions: Optional[Sequence[str]] = None) -> float:
    """Volume of objective space dominated by the rows of ``Y`` and bounded by ``reference``
    (a point worse than every interesting one in each objective). Points not better than the
    reference in every objective add nothing. Exact: sweeps in 2-D and 3-D, recursive slicing
    beyond (fine for fronts of a few hundred points)."""
    C = _as_minimized(Y, directions)
    ref = _as_minimized(np.asarray(reference, dtype=float)[None, :], directions)[0]
    if len(ref) != C.shape[1]:
        raise ValueError(f"the reference point has {len(ref)} values for {C.shape[1]} objectives")
    C = C[~np.isnan(C).any(axis=1)]
    C = C[(C < ref).all(axis=1)]
    if len(C) == 0:
        return 0.0
    C = C[_front_min(C)]
    return float(_hv(C, ref))


def _hv(C: np.ndarray, ref: np.ndarray) -> float:
    k = C.shape[1]
    if k == 1:
        return float(ref[0] - C[:, 0].min())
    if k == 2:
        S = C[np.lexsort((C[:, 1], C[:, 0]))]
        second = np.minimum.accumulate(S[:, 1])
        widths = np.diff(np.concatenate([S[:, 0], [ref[0]]]))
        return float(np.sum(widths * (ref[1] - second)))
    # slice along the last objective: between consecutive values, the (k-1)-D volume of the
    # points at or below the slice
    order = np.argsort(C[:, -1], kind="stable")
    S = C[order]
    levels = np.concatenate([S[:, -1], [ref[-1]]])
    total = 0.0
    for i in range(len(S)):
        height = levels[i + 1] - levels[i]
        if height <= 0:
            continue
        part = S[: i + 1, :-1]
        part = part[_front_min(part)]
        total += height * _hv(part, ref[:-1])
    return total


def normalized(Y, lower: Sequence[float], upper: Sequence[float]) -> np.ndarray:
    """``Y`` scaled column by column so that ``lower`` maps to 0 and ``upper`` to 1."""
    Y = np.asarray(Y, dtype=float)
    lo, hi = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    span = np.where(hi > lo, hi - lo, 1.0)
    return (Y - lo) / span


__all__ = ["hypervolume", "non_dominated_sort", "normalized", "pareto_mask"]
