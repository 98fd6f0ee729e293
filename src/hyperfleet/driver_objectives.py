"""How the driver turns a finished evaluation's values into what the store keeps and the search
is told, for one objective or several and for constraints (``HpProblem.add_objective`` /
``add_constraint``)."""

from __future__ import annotations

import dataclasses
from typing import Optional

from hyperfleet.execute import EvalOutcome
from hyperfleet.problem import HpProblem
from hyperfleet.problem.objectives import OutcomeError
from hyperfleet.store import EvaluationRecord, EvaluationState


def uses_vectors(problem: HpProblem) -> bool:
    """Whether evaluations of ``problem`` keep objective vectors / constraints in the store."""
    return bool(problem.objectives) or bool(problem.constraints)


def check_outcome(problem: HpProblem, outcome: EvalOutcome, n_objectives: Optional[int]
                  ) -> tuple[EvalOutcome, Optional[dict]]:
    """A DONE outcome checked against the problem: ``(outcome, fields)`` — the fields to store
    (``objective`` the first objective, ``objectives``, ``constraints``, ``feasible``), or the
    outcome turned FAILED with one line saying what is wrong (wrong count, missing name ...).

    ``n_objectives``: how many objectives earlier results had (undeclared vectors), or None.
    """
    if outcome.state != "DONE" or (outcome.values is None and not uses_vectors(problem)):
        return outcome, None
    raw = outcome.values if outcome.values is not None else outcome.objective
    try:
        checked = problem.outcome(raw)
        k = len(checked.objectives)
        if not problem.objectives and n_objectives is not None and k != n_objectives:
            raise OutcomeError(f"the result has {k} objective value(s), earlier ones had "
                               f"{n_objectives}; return the same number every time (or declare "
                               f"them with HpProblem.add_objective)")
    except OutcomeError as err:
        failed = dataclasses.replace(outcome, state="FAILED", objective=None,
                                     error=f"bad result: {err}")
        return failed, None
    fields = {"objective": checked.objectives[0], "objectives": list(checked.objectives),
              "constraints": list(checked.constraints) if problem.constraints or checked.constraints
              else None,
              "feasible": checked.feasible if (problem.constraints or checked.constraints) else None}
    return dataclasses.replace(outcome, objective=checked.objectives[0]), fields


def told(record: EvaluationRecord, problem: Optional[HpProblem] = None) -> tuple:
    """What the search is told of a finished evaluation: ``(config, value)`` — a number, the
    objectives and constraints, or None for a failure — or ``(config, last value, step)`` for one
    stopped early (stopped is not failed): with several objectives its last reported vector
    (``moasha``), or None when it reported one number only (a one-number stopper on a
    multi-objective ``problem``: nothing to place it with)."""
    if record.state == EvaluationState.STOPPED:
        if record.objectives is not None:
            return record.config, {"objectives": list(record.objectives),
                                   "constraints": list(record.constraints or [])}, record.last_step
        if record.constraints is not None or (problem is not None and (
                problem.is_multi_objective or problem.constraints)):
            return record.config, None
        return record.config, record.objective, record.last_step
    if record.state != EvaluationState.DONE:
        return record.config, None
    if record.objectives is not None:
        return record.config, {"objectives": list(record.objectives),
                               "constraints": list(record.constraints or [])}
    return record.config, record.objective


def is_better(problem: HpProblem, record: EvaluationRecord, best: Optional[float]) -> bool:
    """Whether a DONE ``record`` beats the best single objective so far (``best``), in the
    objective's direction; infeasible results and several objectives never do (no single best)."""
    if record.feasible is False or problem.is_multi_objective or record.objective is None:
        return False
    if record.objectives is not None and len(record.objectives) > 1:
        return False
    if best is None:
        return True
    if problem.directions[0] == "minimize":
        return record.objective < best
    return record.objective > best


__all__ = ["check_outcome", "is_better", "told", "uses_vectors"]
