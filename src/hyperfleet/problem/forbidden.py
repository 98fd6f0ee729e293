"""Forbidden clauses: combinations of values that are never proposed.

Names follow ConfigSpace::

    problem.add_forbidden_clause(ForbiddenEqualsClause("kernel", "linear"))
    problem.add_forbidden_clause(ForbiddenAndConjunction(
        ForbiddenEqualsClause("optimizer", "adam"), ForbiddenInClause("batch_size", [16, 32])))

A configuration is forbidden when *any* of the problem's clauses holds (several clauses are
or-ed; :class:`ForbiddenOrConjunction` says the same in one clause). A clause on a hyperparameter
that is inactive in a configuration (see :mod:`hyperfleet.problem.conditions`) does not hold,
as in ConfigSpace. Clauses evaluate on columns of codes, like conditions.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from hyperfleet.problem.conditions import _name, all_hold, any_holds, code_of
from hyperfleet.problem.dimensions import Dimension


class ForbiddenClause:
    """Base class: a configuration where :meth:`holds` is true is never proposed."""

    @property
    def names(self) -> tuple[str, ...]:  # pragma: no cover - abstract
        raise NotImplementedError

    def holds(self, codes: Mapping[str, np.ndarray], active: Mapping[str, np.ndarray]) -> np.ndarray:
        """Boolean column: where the clause forbids the configuration."""
        raise NotImplementedError  # pragma: no cover - abstract

    def bind(self, dims: Mapping[str, Dimension]) -> "ForbiddenClause":
        """Check names and values against the problem's dimensions (internal)."""
        raise NotImplementedError  # pragma: no cover - abstract

    def to_dict(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.to_dict() == other.to_dict()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(repr(self.to_dict()))


class ForbiddenEqualsClause(ForbiddenClause):
    """Forbids ``name == value``."""

    kind = "eq"

    def __init__(self, hyperparameter: Any, value: Any) -> None:
        self.name = _name(hyperparameter)
        self.value = value
        self._codes: Any = None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name,)

    def _values(self) -> list:
        return [self.value]

    def bind(self, dims):
        if self.name not in dims:
            raise ValueError(f"{self!r}: unknown hyperparameter '{self.name}'; the problem's "
                             f"dimensions are {list(dims)} (add the dimension before the clause)")
        try:
            codes = np.array([code_of(dims[self.name], v) for v in self._values()], dtype=float)
        except ValueError as err:
            raise ValueError(f"{self!r}: {err}") from None
        bound = type(self).__new__(type(self))
        bound.__dict__.update(self.__dict__)
        bound._codes = codes
        return bound

    def holds(self, codes, active):
        return np.asarray(active[self.name], dtype=bool) & np.isin(codes[self.name], self._codes)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "name": self.name, "value": self.value}

    def __repr__(self) -> str:
        return f"ForbiddenEqualsClause({self.name!r}, {self.value!r})"


class ForbiddenInClause(ForbiddenEqualsClause):
    """Forbids ``name in values``."""

    kind = "in"

    def __init__(self, hyperparameter: Any, values: Any) -> None:
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise ValueError(f"ForbiddenInClause({_name(hyperparameter)!r}, ...): values must be a "
                             f"list, got {values!r}")
        super().__init__(hyperparameter, list(values))

    @property
    def values(self) -> list:
        return self.value

    def _values(self) -> list:
        if not self.value:
            raise ValueError(f"{self!r}: the list of values is empty")
        return list(self.value)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "name": self.name, "values": self.value}

    def __repr__(self) -> str:
        return f"ForbiddenInClause({self.name!r}, {self.value!r})"


class _ForbiddenConjunction(ForbiddenClause):
    kind = "base"

    def __init__(self, *components: ForbiddenClause) -> None:
        if len(components) < 2:
            raise ValueError(f"{type(self).__name__} combines at least two clauses, got {len(components)}")
        for c in components:
            if not isinstance(c, ForbiddenClause):
                raise ValueError(f"{type(self).__name__} combines forbidden clauses, got {c!r}")
        self.components = tuple(components)

    @property
    def names(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for c in self.components:
            seen.update(dict.fromkeys(c.names))
        return tuple(seen)

    def bind(self, dims):
        bound = type(self).__new__(type(self))
        bound.components = tuple(c.bind(dims) for c in self.components)
        return bound

    def to_dict(self) -> dict:
        return {"kind": self.kind, "components": [c.to_dict() for c in self.components]}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(map(repr, self.components))})"


class ForbiddenAndConjunction(_ForbiddenConjunction):
    """Forbids the configurations where every combined clause holds."""

    kind = "and"

    def holds(self, codes, active):
        return all_hold(self.components, codes, active)


class ForbiddenOrConjunction(_ForbiddenConjunction):
    """Forbids the configurations where at least one combined clause holds (the same as adding
    each clause on its own; useful inside a :class:`ForbiddenAndConjunction`)."""

    kind = "or"

    def holds(self, codes, active):
        return any_holds(self.components, codes, active)


def forbidden_from_dict(data: dict) -> ForbiddenClause:
    """Rebuild a clause from :meth:`ForbiddenClause.to_dict` output."""
    kind = data.get("kind")
    if kind == "eq":
        return ForbiddenEqualsClause(data["name"], data["value"])
    if kind == "in":
        return ForbiddenInClause(data["name"], data["values"])
    if kind in ("and", "or"):
        cls = ForbiddenAndConjunction if kind == "and" else ForbiddenOrConjunction
        return cls(*[forbidden_from_dict(c) for c in data["components"]])
    raise ValueError(f"unknown forbidden clause kind {kind!r} in {data!r}")
