"""Typed dimensions of a search space: integer, continuous and categorical (ordinal: ordinal.py).

Every dimension maps its values to the unit interval and back, so that search
algorithms can work on a numeric vector without knowing the dimension types.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_float(value: Any) -> bool:
    return isinstance(value, (float, np.floating))


def choice_key(value: Any) -> str:
    """Canonical JSON text of a categorical choice (``1``, ``1.0`` and ``True`` differ).

    Raises:
        TypeError, ValueError: when ``value`` is not JSON-serializable.
    """
    return json.dumps(value, sort_keys=True)


def _frozen(value: Any) -> Any:
    """Lists as tuples, to any depth (a categorical choice as declared, and as read back from JSON)."""
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    return value


@dataclass(frozen=True)
class Dimension:
    """Base class of a named dimension."""

    name: str

    kind = "base"

    def sample(self, rng: np.random.Generator, n: int) -> list:
        """Draw ``n`` values uniformly (log-uniformly for log-scaled ranges)."""
        return [self.from_unit(u) for u in rng.random(n)]

    def to_unit(self, value: Any) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def from_unit(self, u: float) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def validate(self, value: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def to_dict(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class _RangeDimension(Dimension):
    low: float = 0.0
    high: float = 1.0
    log: bool = False
    default: Any = None

    def _forward(self, value: float) -> float:
        return math.log(value) if self.log else float(value)

    def to_unit(self, value: Any) -> float:
        lo, hi = self._forward(self.low), self._forward(self.high)
        # halves first: the width of a range like (-1e308, 1e308) overflows to inf
        return (self._forward(value) / 2 - lo / 2) / (hi / 2 - lo / 2)

    def _from_unit_float(self, u: float) -> float:
        u = min(max(float(u), 0.0), 1.0)
        lo, hi = self._forward(self.low), self._forward(self.high)
        x = lo * (1.0 - u) + hi * u  # never forms hi - lo, which may overflow
        return math.exp(x) if self.log else x

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "low": self.low, "high": self.high,
                "log": self.log, "default": self.default}

    def __str__(self) -> str:
        scale = ", log" if self.log else ""
        return f"{self.name}: {self.kind} [{self.low}, {self.high}{scale}]"


@dataclass(frozen=True)
class IntDimension(_RangeDimension):
    """Integers from ``low`` to ``high`` inclusive."""

    kind = "int"

    @property
    def cardinality(self) -> int:
        return int(self.high) - int(self.low) + 1

    def from_unit(self, u: float) -> int:
        if self.log:
            value = int(round(self._from_unit_float(u)))
        else:
            # Equal-width bins so every integer is equally likely under uniform u.
            value = int(self.low) + int(math.floor(min(max(float(u), 0.0), 1.0) * self.cardinality))
        return min(max(value, int(self.low)), int(self.high))

    def to_unit(self, value: Any) -> float:
        if self.log:
            return super().to_unit(value)
        return (int(value) - int(self.low) + 0.5) / self.cardinality

    def validate(self, value: Any) -> int:
        if _is_float(value) and float(value).is_integer():
            value = int(value)
        if not _is_int(value):
            raise ValueError(f"dimension '{self.name}': {value!r} is not an integer; "
                             f"give a whole number between {self.low} and {self.high}")
        if not self.low <= value <= self.high:
            raise ValueError(f"dimension '{self.name}': {value} is out of range "
                             f"[{self.low}, {self.high}]")
        return int(value)


@dataclass(frozen=True)
class FloatDimension(_RangeDimension):
    """Real numbers from ``low`` to ``high``."""

    kind = "float"

    def from_unit(self, u: float) -> float:
        return min(max(self._from_unit_float(u), self.low), self.high)

    def validate(self, value: Any) -> float:
        if isinstance(value, (bool, np.bool_)) or not (_is_int(value) or _is_float(value)):
            raise ValueError(f"dimension '{self.name}': {value!r} is not a number; "
                             f"give a value between {self.low} and {self.high}")
        value = float(value)
        if not self.low <= value <= self.high:
            raise ValueError(f"dimension '{self.name}': {value} is out of range "
                             f"[{self.low}, {self.high}]")
        return value


@dataclass(frozen=True)
class CategoricalDimension(Dimension):
    """One of a list of JSON-serializable choices."""

    choices: tuple = field(default_factory=tuple)
    default: Any = None

    kind = "cat"

    def __post_init__(self) -> None:
        # JSON has no tuples: a choice that is a list or a tuple is kept (and reaches ``run``) as a
        # tuple, so the problem read back from the store is the one declared, and choices stay hashable
        object.__setattr__(self, "choices", tuple(_frozen(c) for c in self.choices))
        if isinstance(self.default, (list, tuple)):
            object.__setattr__(self, "default", _frozen(self.default))

    @property
    def cardinality(self) -> int:
        return len(self.choices)

    @functools.cached_property
    def _positions(self) -> dict:
        # canonical JSON -> index, built once: a lookup is O(1) however many choices there are
        positions: dict = {}
        for i, choice in enumerate(self.choices):
            positions.setdefault(choice_key(choice), i)
        return positions

    def index(self, value: Any) -> int:
        try:
            i = self._positions.get(choice_key(value))
        except (TypeError, ValueError):
            i = None
        if i is not None:
            return i
        for i, choice in enumerate(self.choices):
            if type(choice) is type(value) and choice == value:
                return i
        for i, choice in enumerate(self.choices):
            if choice == value:
                return i
        raise ValueError(f"dimension '{self.name}': {value!r} is not one of the choices "
                         f"{list(self.choices)!r}")

    def to_unit(self, value: Any) -> float:
        return (self.index(value) + 0.5) / len(self.choices)

    def from_unit(self, u: float) -> Any:
        i = int(math.floor(min(max(float(u), 0.0), 1.0) * len(self.choices)))
        return self.choices[min(i, len(self.choices) - 1)]

    def validate(self, value: Any) -> Any:
        return self.choices[self.index(value)]

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "choices": list(self.choices),
                "default": self.default}

    def __str__(self) -> str:
        return f"{self.name}: categorical {json.dumps(list(self.choices))}"


def dimension_from_dict(data: dict) -> Dimension:
    """Rebuild a dimension from :meth:`Dimension.to_dict` output."""
    kind = data.get("kind")
    if kind == "int":
        return IntDimension(data["name"], int(data["low"]), int(data["high"]),
                            bool(data.get("log", False)), data.get("default"))
    if kind == "float":
        return FloatDimension(data["name"], float(data["low"]), float(data["high"]),
                              bool(data.get("log", False)), data.get("default"))
    if kind == "cat":
        return CategoricalDimension(data["name"], tuple(data["choices"]), data.get("default"))
    if kind == "ord":
        from hyperfleet.problem.ordinal import ordinal_from_dict

        return ordinal_from_dict(data)
    raise ValueError(f"unknown dimension kind {kind!r} in {data!r}; expected int, float, cat or ord")
