"""The search space a user declares: ``HpProblem``, compatible with the DeepHyper tutorial."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any, Iterable, Sequence

import numpy as np

from hyperfleet.problem.dimensions import (
    CategoricalDimension,
    Dimension,
    FloatDimension,
    IntDimension,
    _is_float,
    _is_int,
    choice_key,
    dimension_from_dict,
)
from hyperfleet.problem.ordinal import OrdinalDimension, stepped_levels
from hyperfleet.problem.specs import unpack

#: names taken by the columns ``results.csv`` adds after the hyperparameters
RESERVED_NAMES = ("objective", "elapsed_sec")


class HpProblem:
    """A hyperparameter search space with optional starting points.

    Examples:
        >>> from hyperfleet import HpProblem
        >>> problem = HpProblem()
        >>> problem.add_dim('log2_batch_size', (5, 10))       # integer
        >>> problem.add_dim('dropout_1', (0.0, 1.0))          # continuous
        >>> problem.add_dim('lr', (1e-5, 1e-1), log=True)     # log-scaled
        >>> problem.add_dim('optimizer_type', ['RMSprop', 'Adam'])  # categorical
        >>> problem.add_dim('units', (16, 512), step=16)      # stepped range (ordered)
        >>> problem.add_starting_point(log2_batch_size=7, dropout_1=0.2, lr=1e-3,
        ...                            optimizer_type='RMSprop', units=64)
        >>> len(problem.sample(3, seed=0))
        3
    """

    def __init__(self) -> None:
        self.dims: list[Dimension] = []
        self.starting_points: list[dict] = []

    # ----- declaring -----------------------------------------------------------------
    def add_dim(self, name: str, range: Any, log: bool = False, default: Any = None,  # noqa: A002
                step: Any = None) -> Dimension:
        """Add a dimension; its type follows from ``range``.

        Args:
            name: unique name, the key of this hyperparameter in ``param_dict``.
            range: a pair of ints ``(low, high)`` (inclusive integer range), a pair of floats
                (continuous range), a list of numbers (ORDERED levels, e.g. ``[16, 32, 64]``:
                an ordinal, sorted by value), a list of other JSON-serializable values
                (categorical), or an explicit ``Categorical([...])``, ``Ordinal([...])``,
                ``Int(low, high, step=...)`` or ``Float(low, high, step=...)``.
            log: sample and model the range on a log scale (ranges and numeric ordinals;
                values > 0).
            default: an optional default value, validated against the range.
            step: for a range, only ``low, low + step, ..., high`` (an ordinal of those levels).

        Returns:
            The new dimension.

        Raises:
            ValueError: on an empty, inverted or mixed range, a duplicate or reserved name
                (``objective``, ``elapsed_sec``), a non-serializable or NaN choice or a default
                out of range.
        """
        if not isinstance(name, str) or not name or not name.isprintable():
            raise ValueError(f"dimension name must be a non-empty printable string, got {name!r}")
        if name in RESERVED_NAMES:
            raise ValueError(f"dimension name '{name}' is reserved (results.csv has columns "
                             f"{', '.join(RESERVED_NAMES)}); rename the dimension")
        if name in self.names:
            raise ValueError(f"dimension '{name}' is already defined; give each dimension a unique name")
        dim = _make_dimension(name, range, log, step)
        if default is not None:
            default = dim.validate(default)
            dim = dataclasses.replace(dim, default=default)
        self.dims.append(dim)
        return dim

    def add_starting_point(self, **values: Any) -> None:
        """Add a configuration to evaluate before anything is sampled (callable several times).

        Raises:
            ValueError: for an unknown or missing dimension or a value out of range.
        """
        self.starting_points.append(self.validate(values, what="starting point"))

    # ----- inspecting ------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [d.name for d in self.dims]

    @property
    def space(self) -> dict[str, Dimension]:
        return {d.name: d for d in self.dims}

    def __len__(self) -> int:
        return len(self.dims)

    def __repr__(self) -> str:
        lines = [f"HpProblem with {len(self.dims)} dimension(s)"]
        lines += [f"  {d}" for d in self.dims]
        lines += [f"  starting point: {p}" for p in self.starting_points]
        return "\n".join(lines)

    def validate(self, config: dict, what: str = "configuration") -> dict:
        """Return ``config`` with values converted to their dimension's type, in problem order.

        Raises:
            ValueError: naming the dimension that is unknown, missing or out of range.
        """
        if not isinstance(config, dict):
            raise ValueError(f"a {what} must be a dict of dimension values, got {type(config).__name__}")
        unknown = [k for k in config if k not in self.space]
        if unknown:
            raise ValueError(f"{what} names unknown dimension(s) {unknown}; "
                             f"the problem's dimensions are {self.names}")
        missing = [n for n in self.names if n not in config]
        if missing:
            raise ValueError(f"{what} is missing dimension(s) {missing}; give a value for each")
        try:
            return {d.name: d.validate(config[d.name]) for d in self.dims}
        except ValueError as err:
            raise ValueError(f"{what}: {err}") from None

    # ----- sampling and encoding ------------------------------------------------------
    def sample(self, n: int = 1, seed: int | np.random.Generator | None = None) -> list[dict]:
        """Draw ``n`` random configurations (log-uniform on log-scaled ranges)."""
        rng = np.random.default_rng(seed)
        columns = [d.sample(rng, n) for d in self.dims]
        return [{d.name: col[i] for d, col in zip(self.dims, columns)} for i in range(n)]

    def to_vector(self, config: dict) -> np.ndarray:
        """Encode a configuration as a vector in the unit cube, one entry per dimension.

        Ranges map linearly (or in log space) to [0, 1]; integers and categorical choices
        map to the centre of their equal-width bin.
        """
        return np.array([d.to_unit(config[d.name]) for d in self.dims], dtype=float)

    def to_array(self, configs: Sequence[dict]) -> np.ndarray:
        """Encode several configurations as a ``(n, len(problem))`` array."""
        if not configs:
            return np.empty((0, len(self.dims)))
        return np.vstack([self.to_vector(c) for c in configs])

    def from_vector(self, vector: Iterable[float]) -> dict:
        """Decode a unit-cube vector (values are clipped to [0, 1]) into a configuration."""
        vector = list(vector)
        if len(vector) != len(self.dims):
            raise ValueError(f"vector has {len(vector)} entries; the problem has {len(self.dims)} dimensions")
        return {d.name: d.from_unit(u) for d, u in zip(self.dims, vector)}

    def key(self, config: dict) -> tuple:
        """A hashable identity of a configuration (floats rounded to 12 significant digits)."""
        out = []
        for d in self.dims:
            v = config[d.name]
            if d.kind == "float":
                v = float(f"{float(v):.12g}")
            elif d.kind in ("cat", "ord"):
                v = d.index(v)
            out.append(v)
        return tuple(out)

    # ----- serialization ----------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"dims": [d.to_dict() for d in self.dims], "starting_points": list(self.starting_points)}

    @classmethod
    def from_dict(cls, data: dict) -> "HpProblem":
        problem = cls()
        problem.dims = [dimension_from_dict(d) for d in data["dims"]]
        for point in data.get("starting_points", []):
            problem.add_starting_point(**point)
        return problem

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> "HpProblem":
        return cls.from_dict(json.loads(text))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HpProblem) and self.to_dict() == other.to_dict()


def same_space(recorded: list[dict], current: list[dict]) -> bool:
    """Whether dimensions declared now (``to_dict`` form) are those recorded by a search.

    A list of numbers was an unordered categorical before ordinals existed; a search recorded
    then (kind ``cat``) still matches the same list declared today (now kind ``ord``), and
    continues with the recorded categorical.
    """
    if len(recorded) != len(current):
        return False
    for old, new in zip(recorded, current):
        if old == new:
            continue
        legacy = (old.get("kind") == "cat" and new.get("kind") == "ord" and "values" in new
                  and old.get("name") == new.get("name") and old.get("default") == new.get("default")
                  and not new.get("log")
                  and sorted(old.get("choices", []), key=repr) == sorted(new["values"], key=repr))
        if not legacy:
            return False
    return True


def _make_dimension(name: str, spec: Any, log: bool, step: Any = None) -> Dimension:
    spec, log, step, kind = unpack(spec, log, step)
    if isinstance(spec, list):
        if step is not None:
            raise ValueError(f"dimension '{name}': step applies to a range (low, high), not to a list")
        numbers = len(spec) > 1 and all(_is_int(v) or _is_float(v) for v in spec)
        if kind == "ord" or (kind is None and numbers):
            return _ordinal(name, spec, log, sort=kind is None)
        if log:
            raise ValueError(f"dimension '{name}': log=True applies to ranges and numeric levels, "
                             f"not to a categorical list")
        return _categorical(name, spec)
    if not isinstance(spec, tuple) or len(spec) != 2:
        raise ValueError(
            f"dimension '{name}': range must be a pair (low, high) of ints or of floats, "
            f"or a list of choices; got {spec!r}")
    low, high = spec
    if _is_int(low) and _is_int(high):
        dim: Dimension = IntDimension(name, int(low), int(high), bool(log))
    elif _is_float(low) and _is_float(high):
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ValueError(f"dimension '{name}': range bounds must be finite, got {spec!r}")
        dim = FloatDimension(name, float(low), float(high), bool(log))
    elif (_is_int(low) or _is_float(low)) and (_is_int(high) or _is_float(high)):
        raise ValueError(
            f"dimension '{name}': range {spec!r} mixes int and float; write both bounds as ints "
            f"for an integer dimension ({int(low)}, {int(high)}) or as floats for a continuous one "
            f"({float(low)}, {float(high)})")
    else:
        raise ValueError(
            f"dimension '{name}': range bounds must be numbers, got {spec!r}; "
            f"use a list for categorical choices")
    if dim.low > dim.high:
        raise ValueError(f"dimension '{name}': range {spec!r} is inverted; write it as ({high!r}, {low!r})")
    if dim.low == dim.high:
        raise ValueError(f"dimension '{name}': range {spec!r} is empty (low == high); "
                         f"widen it, or use a one-element list for a constant")
    if log and dim.low <= 0:
        raise ValueError(f"dimension '{name}': a log-scaled range needs low > 0, got {spec!r}")
    if step is not None and not (dim.kind == "int" and step == 1 and not isinstance(step, bool)):
        return OrdinalDimension(name, stepped_levels(name, low, high, step), bool(log), None, step)
    return dim


def _ordinal(name: str, values: list, log: bool, sort: bool) -> OrdinalDimension:
    if not values:
        raise ValueError(f"dimension '{name}': the list of levels is empty; give at least one value")
    _categorical(name, values)  # the same checks: serializable, no NaN, no duplicate
    numbers = all((_is_int(v) or _is_float(v)) and not isinstance(v, bool) for v in values)
    if numbers:
        if any(not math.isfinite(float(v)) for v in values):
            raise ValueError(f"dimension '{name}': levels must be finite numbers, got {values!r}")
        if len({float(v) for v in values}) < len(values):
            raise ValueError(f"dimension '{name}': levels {values!r} repeat a value (e.g. 1 and 1.0)")
        if sort:
            values = sorted(values)
    if log and not (numbers and all(float(v) > 0 for v in values)):
        raise ValueError(f"dimension '{name}': log=True needs levels that are numbers > 0, got {values!r}")
    return OrdinalDimension(name, tuple(values), bool(log))


def _categorical(name: str, choices: list) -> CategoricalDimension:
    if not choices:
        raise ValueError(f"dimension '{name}': the list of choices is empty; give at least one value")
    seen: set[str] = set()
    for choice in choices:
        if _has_nan(choice):
            raise ValueError(f"dimension '{name}': choice {choice!r} is or holds NaN, which equals "
                             f"nothing (not even itself); use a string such as 'nan' or None")
        try:
            key = choice_key(choice)
        except (TypeError, ValueError):
            raise ValueError(
                f"dimension '{name}': choice {choice!r} is not JSON-serializable; use strings, "
                f"numbers, booleans, None, or lists/dicts of them") from None
        if key in seen:  # a set of canonical JSON texts: O(n), 100,000 choices in well under 1 s
            raise ValueError(f"dimension '{name}': choice {choice!r} appears twice")
        seen.add(key)
    return CategoricalDimension(name, tuple(choices))


def _has_nan(value: Any) -> bool:
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, (list, tuple)):
        return any(_has_nan(v) for v in value)
    if isinstance(value, dict):
        return any(_has_nan(v) for v in value.values())
    return False
