"""What the driver makes of one reported value: what the store keeps and what the stopper is told.

A report is a number, or -- with several objectives or constraints -- the forms a run function
may return (a tuple/list of numbers, a dict with ``objectives`` / ``constraints``), checked
against the problem like a final result. A multi-objective stopper (``moasha``) is told an
:class:`~hyperfleet.stop.MOValue` (objectives to maximize, constraint violation); a
one-number stopper gets the number (a vector of one objective counts as one number).
A report that does not fit raises :class:`BadReport`, one line saying what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from hyperfleet.problem import HpProblem
from hyperfleet.problem.objectives import OutcomeError
from hyperfleet.stop import MOValue


class BadReport(ValueError):
    """A reported value that does not fit the problem or the stopper (one line)."""


@dataclass(frozen=True)
class CheckedReport:
    """One report as the driver keeps it.

    Attributes:
        value: the number stored (the first objective, in its own direction).
        objectives, constraints: the values in declared order (None: a one-number report).
        feasible: whether every constraint holds (None without constraints).
        for_stopper: what the stopper is told.
    """

    value: float
    objectives: Optional[list] = None
    constraints: Optional[list] = None
    feasible: Optional[bool] = None
    for_stopper: Any = None


class ReportValues:
    """Checks reports against ``problem`` for ``stopper`` (None: record only).

    Undeclared objectives take their count from the first vector reported (or the problem's
    objectives once the driver has learned them from a result).
    """

    def __init__(self, problem: Optional[HpProblem], stopper=None) -> None:
        self.problem = problem if problem is not None else HpProblem()
        self.stopper = stopper
        self.multi_stopper = bool(getattr(stopper, "multi_objective", False))
        self.n_objectives: Optional[int] = None

    def check(self, value: Any) -> CheckedReport:
        """The report ``value`` checked; raises :class:`BadReport`."""
        if not isinstance(value, (list, tuple, dict)):
            return self._number(float(value))
        try:
            outcome = self.problem.outcome(value)
        except OutcomeError as err:
            raise BadReport(str(err).replace("the result", "the report")) from None
        k = len(outcome.objectives)
        known = len(self.problem.objectives) or self.n_objectives
        if known is not None and k != known:
            raise BadReport(f"the report has {k} objective value(s), earlier values had {known}; "
                            f"report the same number every time")
        self.n_objectives = k
        constraints = list(outcome.constraints) if (outcome.constraints or self.problem.constraints) \
            else None
        return self.checked(list(outcome.objectives), constraints)

    def checked(self, objectives: list, constraints: Optional[list]) -> CheckedReport:
        """A report of objective (and constraint) values already checked (as stored)."""
        k = len(objectives)
        feasible = None if constraints is None else all(c <= 0 for c in constraints)
        if self.multi_stopper:
            maximized = np.asarray(objectives, dtype=float) * self.problem.signs(k)
            violation = float(sum(max(0.0, c) for c in constraints or ()))
            told: Any = MOValue(tuple(float(v) for v in maximized), violation)
        elif self.stopper is not None and (k > 1 or constraints):
            raise BadReport(f"stopper '{self.stopper.name}' ranks one number, the report has {k} "
                            f"objective value(s){' and constraints' if constraints else ''}; use "
                            f"--stopper moasha to stop by several objectives, or report one number")
        else:
            told = float(objectives[0])
        return CheckedReport(float(objectives[0]), list(objectives), constraints, feasible, told)

    def _number(self, value: float) -> CheckedReport:
        if not self.multi_stopper:
            return CheckedReport(value, for_stopper=value)
        k = len(self.problem.objectives) or self.n_objectives or 1
        if k > 1 or self.problem.constraints:
            names = ", ".join(self.problem.names_for(k))
            what = f"{k} objectives ({names})" if k > 1 else "constraints"
            raise BadReport(f"the report is one number, the problem has {what}; report them all, "
                            f"as the run function returns them: hyperfleet.report((v1, v2, ...), "
                            f"step=k) or a dict with 'objectives'")
        sign = float(self.problem.signs(1)[0])
        return CheckedReport(value, for_stopper=MOValue((sign * value,)))


__all__ = ["BadReport", "CheckedReport", "ReportValues"]
