"""Conditions: a hyperparameter that exists only when its parents take given values.

The names follow ConfigSpace (which DeepHyper 0.13 and SMAC3 use), so that a DeepHyper user
recognises them::

    problem.add_condition(EqualsCondition("momentum", "optimizer", "sgd"))
    problem.add_condition(InCondition("units_3", "n_layers", [3, 4]))
    problem.add_condition(RangeCondition("warmup", "epochs", 10, 100))     # 10 <= epochs <= 100
    problem.add_condition(AndConjunction(EqualsCondition("nesterov", "optimizer", "sgd"),
                                         GreaterThanCondition("nesterov", "momentum", 0.0)))

A child is *active* when its condition holds and every parent it names is active itself (a
condition on an inactive parent is false, as in ConfigSpace), so conditions nest to any depth.
Inactive hyperparameters are absent from the configuration (``param_dict``).

Child and parent are given by name or by the dimension ``add_dim``/``add_hyperparameter``
returned. Every condition evaluates on *codes*, column arrays with one entry per
configuration: the value of an int or float dimension, the choice index of a categorical one
(see :func:`codes_of`), so that AMBS can evaluate thousands of candidates at once.
"""

from __future__ import annotations

import functools
from typing import Any, Mapping

import numpy as np

from hyperfleet.problem.dimensions import Dimension


def _name(item: Any) -> str:
    name = getattr(item, "name", item)
    if not isinstance(name, str):
        raise ValueError(f"a condition names its hyperparameters by name (str) or by the dimension "
                         f"add_dim()/add_hyperparameter() returned, got {item!r}")
    return name


def code_of(dim: Dimension, value: Any) -> float:
    """The code of one value of ``dim`` (choice index for a categorical; the number otherwise).

    Raises:
        ValueError: when ``value`` is not a value of ``dim``.
    """
    if dim.kind == "cat" or (dim.kind == "ord" and not dim.numeric):  # type: ignore[attr-defined]
        return float(dim.index(value))  # type: ignore[attr-defined]
    return float(dim.validate(value))  # numbers, numeric ordinal levels included


def codes_of(dims: list[Dimension], configs: list[dict]) -> dict[str, np.ndarray]:
    """Columns of codes of configurations; NaN where a configuration lacks the dimension."""
    out = {}
    for dim in dims:
        out[dim.name] = np.array([code_of(dim, c[dim.name]) if dim.name in c else np.nan
                                  for c in configs], dtype=float)
    return out


class Condition:
    """Base class: ``child`` is active where :meth:`holds` is true (and its parents are active)."""

    child: str

    @property
    def parents(self) -> tuple[str, ...]:  # pragma: no cover - abstract
        raise NotImplementedError

    def holds(self, codes: Mapping[str, np.ndarray], active: Mapping[str, np.ndarray]) -> np.ndarray:
        """Boolean column: where the condition is true (false where a parent is inactive)."""
        raise NotImplementedError  # pragma: no cover - abstract

    def bind(self, dims: Mapping[str, Dimension]) -> "Condition":
        """Check names and values against the problem's dimensions; return the condition with its
        values encoded (internal: :meth:`HpProblem.add_condition` calls it)."""
        raise NotImplementedError  # pragma: no cover - abstract

    def to_dict(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError


class _SimpleCondition(Condition):
    kind = "base"

    def __init__(self, child: Any, parent: Any, value: Any) -> None:
        object.__setattr__(self, "child", _name(child))
        object.__setattr__(self, "parent", _name(parent))
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "_code", None)

    @property
    def parents(self) -> tuple[str, ...]:
        return (self.parent,)

    def _encode(self, dim: Dimension) -> Any:
        return code_of(dim, self.value)

    def bind(self, dims: Mapping[str, Dimension]) -> "Condition":
        for role, name in (("child", self.child), ("parent", self.parent)):
            if name not in dims:
                raise ValueError(f"{self}: unknown {role} '{name}'; the problem's dimensions are "
                                 f"{list(dims)} (add the dimension before the condition)")
        if self.child == self.parent:
            raise ValueError(f"{self}: a hyperparameter cannot be conditioned on itself")
        try:
            code = self._encode(dims[self.parent])
        except ValueError as err:
            raise ValueError(f"{self}: {err}") from None
        bound = type(self).__new__(type(self))
        for key, val in vars(self).items():
            object.__setattr__(bound, key, val)
        object.__setattr__(bound, "_code", code)
        return bound

    def holds(self, codes, active):
        x = codes[self.parent]
        with np.errstate(invalid="ignore"):
            return np.asarray(active[self.parent], dtype=bool) & self._test(x)

    def _test(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def to_dict(self) -> dict:
        return {"kind": self.kind, "child": self.child, "parent": self.parent, "value": self.value}

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.to_dict() == other.to_dict()  # type: ignore[union-attr]

    def __hash__(self) -> int:
        return hash(repr(self.to_dict()))


def _numeric_only(cond: _SimpleCondition, dim: Dimension, value: Any) -> float:
    if dim.kind == "cat" or (dim.kind == "ord" and not dim.numeric):  # type: ignore[attr-defined]
        raise ValueError(f"parent '{dim.name}' is categorical or has no numeric levels; compare it with "
                         f"EqualsCondition or InCondition instead")
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{value!r} is not a number")
    return float(value)


class EqualsCondition(_SimpleCondition):
    """``child`` is active when ``parent == value``."""

    kind = "eq"

    def _test(self, x):
        return x == self._code

    def __repr__(self) -> str:
        return f"EqualsCondition({self.child!r}, {self.parent!r}, {self.value!r})"


class NotEqualsCondition(_SimpleCondition):
    """``child`` is active when ``parent != value``."""

    kind = "ne"

    def _test(self, x):
        return x != self._code

    def __repr__(self) -> str:
        return f"NotEqualsCondition({self.child!r}, {self.parent!r}, {self.value!r})"


class InCondition(_SimpleCondition):
    """``child`` is active when ``parent`` is one of ``values``."""

    kind = "in"

    def __init__(self, child: Any, parent: Any, values: Any) -> None:
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise ValueError(f"InCondition({_name(child)!r}, {_name(parent)!r}, ...): values must be a "
                             f"list of the parent's values, got {values!r}")
        super().__init__(child, parent, list(values))

    @property
    def values(self) -> list:
        return self.value

    def _encode(self, dim):
        if not self.value:
            raise ValueError("the list of values is empty")
        return np.array([code_of(dim, v) for v in self.value], dtype=float)

    def _test(self, x):
        return np.isin(x, self._code)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "child": self.child, "parent": self.parent, "values": self.value}

    def __repr__(self) -> str:
        return f"InCondition({self.child!r}, {self.parent!r}, {self.value!r})"


class GreaterThanCondition(_SimpleCondition):
    """``child`` is active when ``parent > value`` (numeric parents)."""

    kind = "gt"

    def _encode(self, dim):
        return _numeric_only(self, dim, self.value)

    def _test(self, x):
        return x > self._code

    def __repr__(self) -> str:
        return f"GreaterThanCondition({self.child!r}, {self.parent!r}, {self.value!r})"


class LessThanCondition(_SimpleCondition):
    """``child`` is active when ``parent < value`` (numeric parents)."""

    kind = "lt"

    def _encode(self, dim):
        return _numeric_only(self, dim, self.value)

    def _test(self, x):
        return x < self._code

    def __repr__(self) -> str:
        return f"LessThanCondition({self.child!r}, {self.parent!r}, {self.value!r})"


class RangeCondition(_SimpleCondition):
    """``child`` is active when ``low <= parent <= high`` (numeric parents; either bound may be
    ``None``). ConfigSpace has no such class: ``to_configspace`` writes it as an
    ``AndConjunction`` of ``GreaterThanCondition`` and ``LessThanCondition``."""

    kind = "range"

    def __init__(self, child: Any, parent: Any, low: Any = None, high: Any = None) -> None:
        super().__init__(child, parent, (low, high))

    @property
    def low(self) -> Any:
        return self.value[0]

    @property
    def high(self) -> Any:
        return self.value[1]

    def _encode(self, dim):
        low, high = self.value
        if low is None and high is None:
            raise ValueError("give at least one of low and high")
        lo = -np.inf if low is None else _numeric_only(self, dim, low)
        hi = np.inf if high is None else _numeric_only(self, dim, high)
        if lo > hi:
            raise ValueError(f"the range [{low}, {high}] is inverted; write it as [{high}, {low}]")
        return (lo, hi)

    def _test(self, x):
        lo, hi = self._code
        return (x >= lo) & (x <= hi)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "child": self.child, "parent": self.parent,
                "low": self.low, "high": self.high}

    def __repr__(self) -> str:
        return f"RangeCondition({self.child!r}, {self.parent!r}, {self.low!r}, {self.high!r})"


class _Conjunction(Condition):
    kind = "base"

    def __init__(self, *components: Condition) -> None:
        if len(components) < 2:
            raise ValueError(f"{type(self).__name__} combines at least two conditions, "
                             f"got {len(components)}")
        for c in components:
            if not isinstance(c, Condition):
                raise ValueError(f"{type(self).__name__} combines conditions, got {c!r}")
        children = {c.child for c in components}
        if len(children) != 1:
            raise ValueError(f"{type(self).__name__}: every condition it combines must be on the "
                             f"same child, got {sorted(children)}")
        self.components = tuple(components)
        self.child = components[0].child

    @property
    def parents(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for c in self.components:
            seen.update(dict.fromkeys(c.parents))
        return tuple(seen)

    def bind(self, dims):
        bound = type(self).__new__(type(self))
        bound.components = tuple(c.bind(dims) for c in self.components)
        bound.child = self.child
        return bound

    def to_dict(self) -> dict:
        return {"kind": self.kind, "components": [c.to_dict() for c in self.components]}

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.to_dict() == other.to_dict()  # type: ignore[union-attr]

    def __hash__(self) -> int:
        return hash(repr(self.to_dict()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(map(repr, self.components))})"


def all_hold(components, codes, active) -> np.ndarray:
    """Where every one of ``components`` (conditions or clauses) holds."""
    return functools.reduce(np.logical_and, (c.holds(codes, active) for c in components))


def any_holds(components, codes, active) -> np.ndarray:
    """Where at least one of ``components`` holds."""
    return functools.reduce(np.logical_or, (c.holds(codes, active) for c in components))


class AndConjunction(_Conjunction):
    """Active when every combined condition holds."""

    kind = "and"

    def holds(self, codes, active):
        return all_hold(self.components, codes, active)


class OrConjunction(_Conjunction):
    """Active when at least one combined condition holds."""

    kind = "or"

    def holds(self, codes, active):
        return any_holds(self.components, codes, active)


_SIMPLE = {"eq": EqualsCondition, "ne": NotEqualsCondition, "gt": GreaterThanCondition,
           "lt": LessThanCondition}


def condition_from_dict(data: dict) -> Condition:
    """Rebuild a condition from :meth:`Condition.to_dict` output."""
    kind = data.get("kind")
    if kind in _SIMPLE:
        return _SIMPLE[kind](data["child"], data["parent"], data["value"])
    if kind == "in":
        return InCondition(data["child"], data["parent"], data["values"])
    if kind == "range":
        return RangeCondition(data["child"], data["parent"], data.get("low"), data.get("high"))
    if kind in ("and", "or"):
        cls = AndConjunction if kind == "and" else OrConjunction
        return cls(*[condition_from_dict(c) for c in data["components"]])
    raise ValueError(f"unknown condition kind {kind!r} in {data!r}")
