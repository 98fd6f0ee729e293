"""Explicit dimension specifications for ``HpProblem.add_dim``, when the plain forms are ambiguous.

    >>> from hyperfleet import HpProblem, Categorical, Ordinal, Int, Float
    >>> p = HpProblem()
    >>> p.add_dim("batch", [16, 32, 64, 128])             # numbers: ordered levels (ordinal)
    >>> p.add_dim("seed", Categorical([0, 1, 2]))         # numbers as unordered labels
    >>> p.add_dim("size", Ordinal(["small", "medium", "large"]))  # ordered labels
    >>> p.add_dim("units", Int(16, 512, step=16))         # same as add_dim("units", (16, 512), step=16)
    >>> p.add_dim("dropout", Float(0.0, 0.6, step=0.1))   # 0.0, 0.1, ..., 0.6
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional


@dataclass(frozen=True)
class Categorical:
    """Unordered choices (any JSON-serializable values), also when they are numbers."""

    choices: list


@dataclass(frozen=True)
class Ordinal:
    """Ordered levels, kept in the order given (numbers may use ``log=True``)."""

    values: list
    log: bool = False


@dataclass(frozen=True)
class Int:
    """Integers from ``low`` to ``high`` inclusive, every ``step`` (``step > 1``: an ordered grid)."""

    low: int
    high: int
    step: Optional[int] = None
    log: bool = False


@dataclass(frozen=True)
class Float:
    """Real numbers from ``low`` to ``high``; with ``step``, only ``low + k * step``."""

    low: float
    high: float
    step: Optional[float] = None
    log: bool = False


def unpack(spec: Any, log: bool, step: Any) -> tuple[Any, bool, Any, Optional[str]]:
    """``(range, log, step, kind)`` of an ``add_dim`` range: kind ``"cat"``/``"ord"`` for an
    explicit list, else ``None`` (the plain rules decide)."""
    if isinstance(spec, Categorical):
        return list(spec.choices), log, step, "cat"
    if isinstance(spec, Ordinal):
        return list(spec.values), log or spec.log, step, "ord"
    if isinstance(spec, Int):
        return (spec.low, spec.high), log or spec.log, spec.step if step is None else step, None
    if isinstance(spec, Float):
        return (float(spec.low), float(spec.high)), log or spec.log, \
            spec.step if step is None else step, None
    return spec, log, step, None
