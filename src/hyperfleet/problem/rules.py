"""The conditions and forbidden clauses of one problem, and what follows from them.

:class:`SpaceRules` keeps at most one condition per child (combine several with
``AndConjunction`` / ``OrConjunction``, as in ConfigSpace), refuses unknown names and cycles,
orders the dimensions parents-first, and evaluates activity and forbidden clauses on columns of
codes (one entry per configuration), so that sampling and AMBS's candidate scoring test many
configurations at once.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np

from hyperfleet.problem.conditions import Condition, condition_from_dict
from hyperfleet.problem.configspace import native
from hyperfleet.problem.dimensions import Dimension
from hyperfleet.problem.forbidden import ForbiddenClause, forbidden_from_dict

#: random configurations drawn to look for a valid one before an exact check
SATISFIABLE_DRAWS = 4096
#: finite sub-spaces up to this size are enumerated to prove that no configuration is valid
EXACT_CHECK_MAX = 200_000


class SpaceRules:
    """Conditions (``child -> condition``) and forbidden clauses of a problem."""

    def __init__(self) -> None:
        self.conditions: dict[str, Condition] = {}
        self.forbidden: list[ForbiddenClause] = []

    def __bool__(self) -> bool:
        return bool(self.conditions or self.forbidden)

    # ----- declaring ---------------------------------------------------------------------
    def add_condition(self, condition: Condition, dims: Sequence[Dimension]) -> Condition:
        """Check and keep ``condition`` (a hyperfleet or a ConfigSpace condition)."""
        condition = native(condition)
        if not isinstance(condition, Condition):
            raise ValueError(f"add_condition takes a condition such as EqualsCondition('momentum', "
                             f"'optimizer', 'sgd'), got {condition!r}")
        space = {d.name: d for d in dims}
        bound = condition.bind(space)
        child = bound.child
        if child in self.conditions:
            raise ValueError(f"'{child}' already has a condition ({self.conditions[child]!r}); "
                             f"combine both in one AndConjunction(...) or OrConjunction(...)")
        path = self._path(set(bound.parents), child)
        if path is not None:
            cycle = " -> ".join([child, *path])
            raise ValueError(f"{condition!r} makes a cycle of conditions ({cycle}); a "
                             f"hyperparameter cannot depend on itself, directly or through others")
        self.conditions[child] = bound
        return bound

    def _path(self, starts: set, target: str) -> list | None:
        """A chain of parents from one of ``starts`` up to ``target`` (a cycle if added), or None."""
        stack = [(s, [s]) for s in starts]
        seen = set()
        while stack:
            name, path = stack.pop()
            if name == target:
                return path
            if name in seen:
                continue
            seen.add(name)
            cond = self.conditions.get(name)
            if cond is not None:
                stack.extend((p, [*path, p]) for p in cond.parents)
        return None

    def add_forbidden(self, clause: ForbiddenClause, dims: Sequence[Dimension]) -> ForbiddenClause:
        """Check and keep ``clause`` (a hyperfleet or a ConfigSpace forbidden clause)."""
        clause = native(clause)
        if not isinstance(clause, ForbiddenClause):
            raise ValueError(f"add_forbidden_clause takes a forbidden clause such as "
                             f"ForbiddenEqualsClause('kernel', 'linear'), got {clause!r}")
        bound = clause.bind({d.name: d for d in dims})
        self.forbidden.append(bound)
        return bound

    # ----- evaluating ---------------------------------------------------------------------
    def order(self, names: Sequence[str]) -> list[str]:
        """``names`` with every parent before its children (otherwise in the given order)."""
        done: list[str] = []
        placed: set = set()

        def place(name: str) -> None:
            if name in placed:
                return
            cond = self.conditions.get(name)
            for parent in cond.parents if cond is not None else ():
                place(parent)
            placed.add(name)
            done.append(name)

        for name in names:
            place(name)
        return done

    def active(self, codes: Mapping[str, np.ndarray], names: Sequence[str], n: int) -> dict:
        """``name -> boolean column``: where each dimension is active."""
        active: dict[str, np.ndarray] = {}
        for name in self.order(names):
            cond = self.conditions.get(name)
            active[name] = np.ones(n, dtype=bool) if cond is None else cond.holds(codes, active)
        return active

    def forbidden_mask(self, codes: Mapping[str, np.ndarray], active: Mapping[str, np.ndarray],
                       n: int) -> np.ndarray:
        """Boolean column: where a forbidden clause holds."""
        out = np.zeros(n, dtype=bool)
        for clause in self.forbidden:
            out |= clause.holds(codes, active)
        return out

    def violated_clause(self, codes, active) -> ForbiddenClause | None:
        """The first clause that forbids the (single) configuration of ``codes``, or None."""
        for clause in self.forbidden:
            if clause.holds(codes, active)[0]:
                return clause
        return None

    # ----- satisfiability -------------------------------------------------------------------
    def check_satisfiable(self, problem) -> None:
        """Raise when the clauses leave no valid configuration: an exact enumeration of the
        dimensions the clauses (and the conditions above them) involve when they are finite and
        few enough, else bounded random sampling."""
        if not self.forbidden:
            return
        involved = self._involved()
        dims = [d for d in problem.dims if d.name in involved]
        sizes = [getattr(d, "cardinality", math.inf) if d.kind != "float" else math.inf for d in dims]
        exact = math.prod(float(s) for s in sizes) <= EXACT_CHECK_MAX
        if not exact:
            rows = problem._draw(SATISFIABLE_DRAWS, np.random.default_rng(0))
            if not self._all_forbidden(problem, rows):
                return
            raise ValueError(
                f"no valid configuration found in {SATISFIABLE_DRAWS} random draws: the forbidden "
                f"clauses {self.forbidden!r} (nearly) cover the space; remove or narrow the last one")
        grids = [_codes_of_levels(d, s) for d, s in zip(dims, sizes)]
        mesh = np.meshgrid(*grids, indexing="ij") if grids else []
        codes = {d.name: g.ravel().astype(float) for d, g in zip(dims, mesh)}
        n = len(next(iter(codes.values()))) if codes else 1
        active = self.active(codes, [d.name for d in dims], n)
        if self.forbidden_mask(codes, active, n).all():
            raise ValueError(
                f"the forbidden clauses leave no valid configuration (checked all {n} combinations "
                f"of {[d.name for d in dims]}): {self.forbidden!r}; remove or narrow the last one")

    def _all_forbidden(self, problem, rows: list[dict]) -> bool:
        from hyperfleet.problem.conditions import codes_of

        codes = codes_of(problem.dims, rows)
        active = self.active(codes, problem.names, len(rows))
        return bool(self.forbidden_mask(codes, active, len(rows)).all())

    def _involved(self) -> set:
        names: set = set()
        for clause in self.forbidden:
            names.update(clause.names)
        frontier = list(names)
        while frontier:
            cond = self.conditions.get(frontier.pop())
            for parent in cond.parents if cond is not None else ():
                if parent not in names:
                    names.add(parent)
                    frontier.append(parent)
        return names

    # ----- serialization ----------------------------------------------------------------------
    def to_dict(self) -> dict:
        out: dict = {}
        if self.conditions:
            out["conditions"] = [c.to_dict() for c in self.conditions.values()]
        if self.forbidden:
            out["forbidden"] = [c.to_dict() for c in self.forbidden]
        return out

    @staticmethod
    def parse(data: dict) -> tuple[list[Condition], list[ForbiddenClause]]:
        """The conditions and clauses of a :meth:`to_dict` output (to add to a problem)."""
        return ([condition_from_dict(c) for c in data.get("conditions", [])],
                [forbidden_from_dict(c) for c in data.get("forbidden", [])])


def _codes_of_levels(dim, size) -> np.ndarray:
    """Every code of a finite dimension (as :func:`~hyperfleet.problem.conditions.code_of` gives)."""
    if dim.kind == "ord":
        return np.asarray(dim.values, dtype=float) if dim.numeric else np.arange(size, dtype=float)
    if dim.kind == "cat":
        return np.arange(size, dtype=float)
    return np.arange(int(dim.low), int(dim.high) + 1, dtype=float)
