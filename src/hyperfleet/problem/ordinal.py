"""Ordered dimensions: a list of levels (``[16, 32, 64, 128]``) or a stepped range (16 to 512 by 16).

An :class:`OrdinalDimension` is a finite, ORDERED set of levels. Searches see it as a numeric
dimension: each level has a position in [0, 1] (its unit value) and neighbouring levels are
neighbours there, so AMBS models "64 is between 32 and 128" instead of treating the levels as
unrelated labels (as it does for a :class:`~hyperfleet.problem.dimensions.CategoricalDimension`).

Positions: without ``log``, level ``i`` of ``n`` is at ``(i + 0.5) / n`` (equal-width bins, so a
uniform draw picks every level equally often); with ``log`` (positive numbers only) a level is at
its log value scaled to [0, 1], and a uniform draw picks the level nearest in log space (so small
levels of a stepped range like 16..512 by 16 are drawn more often, as on a log-scaled range).
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hyperfleet.problem.dimensions import Dimension, _is_float, _is_int, choice_key

#: stepped ranges with more levels than this are refused (use an int/float range instead)
MAX_LEVELS = 1_000_000


def _is_number(value: Any) -> bool:
    return _is_int(value) or _is_float(value)


def _level_key(value: Any) -> str:
    """Lookup key of a level: numbers by value (``32`` and ``32.0`` are the same level)."""
    if _is_number(value):
        return f"n:{float(value):.12g}"
    return "j:" + choice_key(value)


@dataclass(frozen=True)
class OrdinalDimension(Dimension):
    """One of an ordered tuple of levels (numbers, or any JSON values in a given order).

    ``step`` is set when the levels come from a stepped range ``low, low + step, ..., high``;
    it only changes how the dimension is written out (``to_dict`` keeps the range, not the list).
    """

    values: tuple = field(default_factory=tuple)
    log: bool = False
    default: Any = None
    step: Any = None

    kind = "ord"

    @property
    def cardinality(self) -> int:
        return len(self.values)

    @property
    def choices(self) -> tuple:
        """The levels (the name categoricals use, for code that lists a dimension's values)."""
        return self.values

    @property
    def numeric(self) -> bool:
        return all(_is_number(v) for v in self.values)

    @functools.cached_property
    def positions(self) -> np.ndarray:
        """Unit value of each level, increasing."""
        n = len(self.values)
        if self.log and n > 1:
            logs = np.log(np.asarray(self.values, dtype=float))
            return (logs - logs[0]) / (logs[-1] - logs[0])
        return (np.arange(n) + 0.5) / n

    @functools.cached_property
    def _bounds(self) -> np.ndarray:
        p = self.positions
        return (p[1:] + p[:-1]) / 2.0

    @functools.cached_property
    def _lookup(self) -> dict:
        return {_level_key(v): i for i, v in enumerate(self.values)}

    def index(self, value: Any) -> int:
        """Position of ``value`` among the levels."""
        try:
            i = self._lookup.get(_level_key(value))
        except (TypeError, ValueError):
            i = None
        if i is None or isinstance(value, (bool, np.bool_)) != isinstance(self.values[i], bool):
            raise ValueError(f"dimension '{self.name}': {value!r} is not one of the levels "
                             f"{self._describe_levels()}")
        return i

    def indices(self, u: np.ndarray) -> np.ndarray:
        """Level index of each unit value (vectorised :meth:`from_unit`)."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        return np.searchsorted(self._bounds, u, side="right").astype(np.int64)

    def to_unit(self, value: Any) -> float:
        return float(self.positions[self.index(value)])

    def from_unit(self, u: float) -> Any:
        return self.values[int(self.indices(np.array([u]))[0])]

    def validate(self, value: Any) -> Any:
        return self.values[self.index(value)]

    def to_dict(self) -> dict:
        data: dict = {"name": self.name, "kind": self.kind}
        if self.step is not None:
            data.update(low=self.values[0], high=self.values[-1], step=self.step)
        else:
            data["values"] = list(self.values)
        data.update(log=self.log, default=self.default)
        return data

    def _describe_levels(self) -> str:
        if self.step is not None:
            return f"{self.values[0]}, {self.values[0] + self.step}, ... {self.values[-1]} (step {self.step})"
        shown = [json.dumps(v) for v in self.values[:12]]
        return "[" + ", ".join(shown) + (", ...]" if len(self.values) > 12 else "]")

    def __str__(self) -> str:
        scale = ", log" if self.log else ""
        if self.step is not None:
            return f"{self.name}: {self._kind_word()} [{self.values[0]}, {self.values[-1]}] step {self.step}{scale}"
        return f"{self.name}: ordinal {self._describe_levels()}{scale}"

    def _kind_word(self) -> str:
        return "int" if all(_is_int(v) for v in self.values) else "float"


def stepped_levels(name: str, low: Any, high: Any, step: Any) -> tuple:
    """The levels ``low, low + step, ..., high`` of a stepped range (ints stay ints).

    Raises:
        ValueError: for a step that is not positive, does not divide ``high - low``, mixes
            types with the bounds or gives more than :data:`MAX_LEVELS` levels.
    """
    if isinstance(step, (bool, np.bool_)) or not _is_number(step) or not step > 0 \
            or not math.isfinite(float(step)):
        raise ValueError(f"dimension '{name}': step must be a positive number, got {step!r}")
    integer = _is_int(low) and _is_int(high)
    if integer and not (_is_int(step) or float(step).is_integer()):
        raise ValueError(f"dimension '{name}': an integer range needs an integer step, got {step!r}; "
                         f"write the bounds as floats for a stepped continuous range")
    count = (float(high) - float(low)) / float(step)
    n = int(round(count))
    if abs(count - n) > 1e-9 * max(1.0, abs(count)):
        fit = low + int(count) * step
        raise ValueError(f"dimension '{name}': step {step!r} does not divide the range ({low!r}, {high!r}); "
                         f"make high = low + k * step, e.g. ({low!r}, {fit!r})")
    if n + 1 > MAX_LEVELS:
        raise ValueError(f"dimension '{name}': step {step!r} gives {n + 1} levels (at most {MAX_LEVELS}); "
                         f"use a larger step, or a plain range")
    if integer:
        return tuple(int(low) + k * int(step) for k in range(n + 1))
    return tuple(float(f"{float(low) + k * float(step):.12g}") for k in range(n)) + (float(high),)


def ordinal_from_dict(data: dict) -> OrdinalDimension:
    """Rebuild an :class:`OrdinalDimension` from its ``to_dict`` output."""
    log = bool(data.get("log", False))
    if "step" in data and data["step"] is not None:
        values = stepped_levels(data["name"], data["low"], data["high"], data["step"])
        return OrdinalDimension(data["name"], values, log, data.get("default"), data["step"])
    return OrdinalDimension(data["name"], tuple(data["values"]), log, data.get("default"))
