"""Multi-objective asynchronous successive halving (MO-ASHA, Schmucker et al. 2021; Syne Tune's
``MOASHA``), in its stopping form.

The rungs are ASHA's (``min_step * reduction_factor ** k`` below ``max_step``). An evaluation
reaching a rung records its objective vector there and goes on only if it ranks among the top
``max(1, n // reduction_factor)`` of the ``n`` vectors recorded at that rung so far (itself
included) -- it never waits for a rung to fill. The ranking:

1. feasible vectors (no constraint violated) before infeasible ones, the infeasible ordered
   by their total violation (the smaller the better);
2. among the feasible, by non-dominated sorting (front 0 first);
3. within a front, by crowding distance (NSGA-II; the front's extremes first), which keeps
   the spread of the front rather than one corner.

A vector goes on when fewer than ``top`` vectors rank strictly ahead of it (ties pass, as in
ASHA). With one objective this is ASHA exactly. Values are maximized (the driver negates
minimized objectives before they arrive). A report's value is a number (one objective), a
sequence of numbers (several objectives, all feasible) or a :class:`MOValue`
(objectives and constraint violation).
"""

from __future__ import annotations

import bisect
import math
import numbers
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from hyperfleet.pareto import non_dominated_sort, pareto_mask
from hyperfleet.stop.asha import ASHASettings, rung_steps
from hyperfleet.stop.base import Curve, Stopper


@dataclass(frozen=True)
class MOValue:
    """One multi-objective report as a stopper sees it.

    Attributes:
        objectives: the objective values, all to maximize.
        violation: the sum of the positive constraint values (0: feasible).
    """

    objectives: tuple[float, ...]
    violation: float = 0.0

    @property
    def feasible(self) -> bool:
        return self.violation <= 0.0


@dataclass(frozen=True)
class MOASHASettings(ASHASettings):
    """Settings of :class:`MOASHAStopper`: ASHA's (:class:`~hyperfleet.stop.asha.ASHASettings`),
    reported under the name ``moasha``."""

    stopper = "moasha"


def crowding_distance(Y: np.ndarray) -> np.ndarray:
    """NSGA-II's crowding distance of each row of one front ``Y`` (``(n, k)``): the extremes of
    every objective get infinity, the others the sum over objectives of the normalized gap
    between their neighbours. Duplicated rows share their value."""
    n, k = Y.shape
    out = np.zeros(n)
    if n <= 2:
        out[:] = math.inf
        return out
    for j in range(k):
        order = np.argsort(Y[:, j], kind="stable")
        col = Y[order, j]
        span = col[-1] - col[0]
        out[order[0]] = out[order[-1]] = math.inf
        if span > 0:
            out[order[1:-1]] += (col[2:] - col[:-2]) / span
    # equal rows get the same distance (the largest of them), so a duplicate is no worse
    _, inverse = np.unique(Y, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    best = np.full(inverse.max() + 1, -math.inf)
    np.maximum.at(best, inverse, out)
    return best[inverse]


def ranked_ahead(Y: np.ndarray, violation: np.ndarray, i: int) -> int:
    """How many rows rank strictly ahead of row ``i`` (see the module docstring): ``Y`` the
    objective vectors (maximized), ``violation`` each row's constraint violation."""
    v = violation[i]
    if v > 0:  # infeasible: behind every feasible row and every less infeasible one
        return int(np.count_nonzero(violation <= 0) + np.count_nonzero((violation > 0) & (violation < v)))
    feasible = np.flatnonzero(violation <= 0)
    F = Y[feasible]
    me = int(np.searchsorted(feasible, i))
    if F.shape[1] == 1:
        return int(np.count_nonzero(F[:, 0] > F[me, 0]))
    fronts = _fronts_2d(F) if F.shape[1] == 2 else non_dominated_sort(F)
    mine = fronts[me]
    ahead = int(np.count_nonzero(fronts < mine))
    same = np.flatnonzero(fronts == mine)
    dist = crowding_distance(F[same])
    my_dist = dist[int(np.searchsorted(same, me))]
    return ahead + int(np.count_nonzero(dist > my_dist))


def _fronts_2d(F: np.ndarray) -> np.ndarray:
    """Front numbers of 2-objective rows (maximized) in ``O(n log n)``: visited by decreasing
    first objective (ties: decreasing second), a row joins the first front whose best second
    value so far is below its own (or which holds an equal row); the fronts' best second values
    decrease with the front number, so a binary search finds it."""
    order = np.lexsort((-F[:, 1], -F[:, 0]))
    out = np.empty(len(F), dtype=np.int64)
    tops: list[float] = []  # negated best second value of each front (increasing)
    last: list[tuple[float, float]] = []  # each front's latest row, for duplicates
    for i, a, b in zip(order.tolist(), F[order, 0].tolist(), F[order, 1].tolist()):
        level = bisect.bisect_right(tops, -b)  # first front whose best second value < b
        if level > 0 and last[level - 1] == (a, b):
            level -= 1  # a duplicate of a row of that front: not dominated by it
        if level == len(tops):
            tops.append(-b)
            last.append((a, b))
        else:
            tops[level] = min(tops[level], -b)
            last[level] = (a, b)
        out[i] = level
    return out


def goes_on(Y: np.ndarray, violation: np.ndarray, i: int, top: int) -> bool:
    """Whether row ``i`` ranks among the ``top`` best (fewer than ``top`` rows strictly ahead),
    with :func:`ranked_ahead`'s ranking. Cheap shortcuts first: a feasible row dominated by
    ``top`` rows or more is out (they are all on earlier fronts), and a non-dominated one only
    needs the first front's crowding distances."""
    if violation[i] > 0 or Y.shape[1] == 1:
        return ranked_ahead(Y, violation, i) < top
    feasible = violation <= 0
    me = Y[i]
    dominators = feasible & (Y >= me).all(axis=1) & (Y > me).any(axis=1)
    n_dom = int(np.count_nonzero(dominators))
    if n_dom >= top:
        return False
    if n_dom == 0:
        idx = np.flatnonzero(feasible)
        first = idx[pareto_mask(Y[idx])]
        dist = crowding_distance(Y[first])
        return int(np.count_nonzero(dist > dist[int(np.searchsorted(first, i))])) < top
    return ranked_ahead(Y, violation, i) < top


class MORungs:
    """The vectors recorded at each rung (and their violations)."""

    def __init__(self, steps: list[int], reduction_factor: float) -> None:
        self.steps = steps
        self.eta = reduction_factor
        self.values: list[list[tuple[float, ...]]] = [[] for _ in steps]
        self.violations: list[list[float]] = [[] for _ in steps]
        # the same as arrays, grown by doubling (a decision must not rebuild them)
        self._Y: list[Optional[np.ndarray]] = [None for _ in steps]
        self._v: list[np.ndarray] = [np.zeros(16) for _ in steps]

    def _record(self, k: int, value: MOValue) -> int:
        self.values[k].append(value.objectives)
        self.violations[k].append(value.violation)
        n = len(self.values[k])
        Y = self._Y[k]
        if Y is None:
            Y = self._Y[k] = np.zeros((16, len(value.objectives)))
        if n > len(Y):
            self._Y[k] = Y = np.vstack([Y, np.zeros_like(Y)])
            self._v[k] = np.concatenate([self._v[k], np.zeros_like(self._v[k])])
        Y[n - 1] = value.objectives
        self._v[k][n - 1] = value.violation
        return n

    def advance(self, k: int, step: int, value: MOValue) -> tuple[int, bool]:
        """Record ``value`` at every rung from index ``k`` up to ``step``; returns the next rung
        index and whether the evaluation goes on (False at the first rung it does not pass)."""
        while k < len(self.steps) and step >= self.steps[k]:
            n = self._record(k, value)
            top = max(1, int(n // self.eta))
            go = goes_on(self._Y[k][:n], self._v[k][:n], n - 1, top)
            k += 1
            if not go:
                return k, False
        return k, True


class MOASHAStopper(Stopper):
    """Successive halving by non-dominated sorting; see the module docstring.

    Examples:
        >>> s = MOASHAStopper(min_step=1, max_step=9, reduction_factor=2)
        >>> s.report("a", 1, (0.5, 0.5)), s.report("b", 1, (0.4, 0.4)), s.report("c", 1, (0.9, 0.1))
        (True, False, True)
    """

    name = "moasha"
    Settings = MOASHASettings
    multi_objective = True

    def __init__(self, *, seed: Optional[int] = None, **settings) -> None:
        super().__init__(seed=seed, **settings)
        s = self.settings
        self.rungs = MORungs(rung_steps(s.min_step, s.reduction_factor, s.max_step),
                             s.reduction_factor)
        self.n_objectives: Optional[int] = None

    def check_value(self, eval_id: str, value: Any) -> MOValue:
        """A number, a sequence of numbers or an :class:`MOValue`, as an MOValue of finite
        numbers with as many objectives as earlier reports (ValueError in one line otherwise)."""
        if isinstance(value, MOValue):
            objectives, violation = value.objectives, value.violation
        elif isinstance(value, (list, tuple, np.ndarray)):
            objectives, violation = tuple(value), 0.0
        else:
            objectives, violation = (value,), 0.0
        if not objectives:
            raise ValueError(f"evaluation {eval_id}: the reported value has no objective value")
        checked = tuple(_finite(eval_id, v) for v in objectives)
        violation = _finite(eval_id, violation)
        if self.n_objectives is not None and len(checked) != self.n_objectives:
            raise ValueError(f"evaluation {eval_id}: the report has {len(checked)} objective "
                             f"value(s), earlier ones had {self.n_objectives}; report one value "
                             f"per objective every time")
        self.n_objectives = len(checked)
        return MOValue(checked, max(0.0, violation))

    def _on_new(self, curve: Curve) -> None:
        curve.data = 0  # the next rung to reach

    def _decide(self, curve: Curve, step: int, value: MOValue) -> bool:
        curve.data, go = self.rungs.advance(curve.data, step, value)
        return go


def _finite(eval_id: str, value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating)):
        raise ValueError(f"evaluation {eval_id}: the reported value must be a number or a "
                         f"sequence of numbers, got {value!r:.60}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"evaluation {eval_id}: the reported value must be finite, got {number}")
    return number
