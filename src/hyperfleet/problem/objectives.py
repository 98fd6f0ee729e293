"""What a problem optimizes: its objectives (names, directions) and constraints, and the
:class:`Outcome` of one evaluation checked against them.

A run function (or a direct ``Search.tell``) may give:

* a number: the single objective (maximized unless declared ``minimize``);
* a tuple or list of numbers: one per objective, in declared order (nothing declared: ``k``
  maximized objectives named ``objective_0`` .. ``objective_{k-1}``);
* a dict ``{"objectives": [...] or {name: value}, "constraints": [...] or {name: value},
  "metadata": {...}}`` (``constraints`` and ``metadata`` optional), or the single-objective
  dict ``{"objective": value, ...metadata}`` of earlier versions.

A constraint is satisfied when its value is ``<= 0`` (as Optuna and Ax define them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

import numpy as np

DIRECTIONS = ("maximize", "minimize")


@dataclass(frozen=True)
class Objective:
    """One declared objective: its ``name`` and ``direction`` (``maximize`` or ``minimize``)."""

    name: str
    direction: str = "maximize"

    @property
    def sign(self) -> float:
        """``+1`` for a maximized objective, ``-1`` for a minimized one."""
        return 1.0 if self.direction == "maximize" else -1.0


@dataclass(frozen=True)
class Outcome:
    """The checked result of one evaluation: objective values as the run function returned
    them (its directions, declared order) and constraint values (feasible when all ``<= 0``)."""

    objectives: tuple[float, ...]
    constraints: tuple[float, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def feasible(self) -> bool:
        """Whether every constraint value is ``<= 0`` (no constraint: True)."""
        return all(c <= 0 for c in self.constraints)

    @property
    def violation(self) -> float:
        """Sum of the positive constraint values (0 when feasible)."""
        return float(sum(max(0.0, c) for c in self.constraints))


class OutcomeError(ValueError):
    """A result that does not fit the problem's objectives or constraints (one clear line)."""


def default_objective_names(k: int) -> list[str]:
    """Names of ``k`` undeclared objectives: ``objective`` for one, else ``objective_0`` ..."""
    return ["objective"] if k == 1 else [f"objective_{i}" for i in range(k)]


def check_direction(direction: Any) -> str:
    """``direction`` normalized (``max``/``min`` accepted), or an OutcomeError saying what fits."""
    text = str(direction).strip().lower()
    text = {"max": "maximize", "min": "minimize", "maximise": "maximize",
            "minimise": "minimize"}.get(text, text)
    if text not in DIRECTIONS:
        raise ValueError(f"objective direction must be 'maximize' or 'minimize', got {direction!r}")
    return text


def parse_outcome(value: Any, objectives: Sequence[Objective], constraints: Sequence[str],
                  ) -> Optional[Outcome]:
    """Check a result against declared ``objectives`` and ``constraints`` (either may be empty:
    nothing declared). ``None`` (a failed evaluation) stays None.

    Raises:
        OutcomeError: one line saying what is wrong (wrong count, non-finite value, missing or
            unknown name, wrong type) and what was expected.
    """
    if value is None:
        return None
    if isinstance(value, Outcome):
        return _checked(list(value.objectives), list(value.constraints), objectives, constraints,
                        dict(value.metadata))
    metadata: dict = {}
    raw_constraints: Any = None
    if isinstance(value, Mapping):
        if "objectives" in value:
            raw, raw_constraints = value["objectives"], value.get("constraints")
            metadata = value.get("metadata") or {}
            extra = sorted(set(value) - {"objectives", "constraints", "metadata"})
            if extra:
                raise OutcomeError(f"the result dict has unknown key(s) {extra}; use 'objectives', "
                                   f"'constraints' and 'metadata' (put anything else in 'metadata')")
            if not isinstance(metadata, Mapping):
                raise OutcomeError(f"the result's 'metadata' must be a dict, got "
                                   f"{type(metadata).__name__}")
        elif "objective" in value:
            raw = value["objective"]
            raw_constraints = value.get("constraints")
            metadata = {k: v for k, v in value.items() if k not in ("objective", "constraints")}
        else:
            raise OutcomeError(f"the result dict has neither 'objectives' nor 'objective' "
                               f"(keys: {sorted(map(str, value))}); return a number, a tuple of "
                               f"numbers or a dict with 'objectives'")
    else:
        raw = value
    names = [o.name for o in objectives]
    if isinstance(raw, Mapping):
        raw = _by_name(raw, names, "objective")
    elif isinstance(raw, (list, tuple, np.ndarray)):
        raw = list(raw)
    else:
        raw = [raw]
    if raw_constraints is None:
        raw_c: list = []
    elif isinstance(raw_constraints, Mapping):
        raw_c = _by_name(raw_constraints, list(constraints), "constraint")
    elif isinstance(raw_constraints, (list, tuple, np.ndarray)):
        raw_c = list(raw_constraints)
    else:
        raw_c = [raw_constraints]
    return _checked(raw, raw_c, objectives, constraints, dict(metadata))


def _by_name(values: Mapping, names: list[str], what: str) -> list:
    if not names:  # nothing declared: the dict's own order names them
        return list(values.values())
    missing = [n for n in names if n not in values]
    if missing:
        raise OutcomeError(f"the result is missing {what}(s) {missing}; the problem declares "
                           f"{what}s {names}")
    unknown = sorted(str(n) for n in values if n not in names)
    if unknown:
        raise OutcomeError(f"the result names unknown {what}(s) {unknown}; the problem declares "
                           f"{what}s {names}")
    return [values[n] for n in names]


def _checked(raw: list, raw_c: list, objectives: Sequence[Objective], constraints: Sequence[str],
             metadata: dict) -> Outcome:
    if not raw:
        raise OutcomeError("the result has no objective value; return at least one number")
    if objectives and len(raw) != len(objectives):
        names = [o.name for o in objectives]
        raise OutcomeError(f"the result has {len(raw)} objective value(s), the problem declares "
                           f"{len(objectives)} ({', '.join(names)}); return one number per objective")
    if constraints and len(raw_c) != len(constraints):
        raise OutcomeError(f"the result has {len(raw_c)} constraint value(s), the problem declares "
                           f"{len(constraints)} ({', '.join(constraints)}); return one value per "
                           f"constraint (feasible when <= 0)")
    names = [o.name for o in objectives] or default_objective_names(len(raw))
    values = tuple(_number(v, f"objective '{n}'") for v, n in zip(raw, names))
    c_names = list(constraints) or [f"constraint_{i}" for i in range(len(raw_c))]
    c_values = tuple(_number(v, f"constraint '{n}'") for v, n in zip(raw_c, c_names))
    return Outcome(values, c_values, metadata)


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise OutcomeError(f"{what} is {value!r:.60} ({type(value).__name__}), not a number")
    try:
        number = float(value)
    except OverflowError:
        raise OutcomeError(f"{what} is too large for a float ({value!r:.60})") from None
    if not math.isfinite(number):
        raise OutcomeError(f"{what} is not a finite number ({number})")
    return number


__all__ = ["DIRECTIONS", "Objective", "Outcome", "OutcomeError", "check_direction",
           "default_objective_names", "parse_outcome"]
