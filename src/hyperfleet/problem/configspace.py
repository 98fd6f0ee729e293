"""ConfigSpace interop: ``HpProblem.from_configspace(cs)`` and ``problem.to_configspace()``.

ConfigSpace (the ``hyperfleet[configspace]`` extra) is imported only here and only when used.

=============================================  ============================================
ConfigSpace                                    hyperfleet
=============================================  ============================================
``UniformIntegerHyperparameter`` (``log``)     int dimension ``(low, high)``
``UniformFloatHyperparameter`` (``log``)       float dimension ``(low, high)``
``CategoricalHyperparameter``                  categorical (weights are not kept)
``OrdinalHyperparameter``                      ordinal dimension (its levels in order)
``Constant``                                   categorical with one choice
``EqualsCondition`` … ``OrConjunction``        the classes of the same name
``ForbiddenEqualsClause``, ``ForbiddenInClause``,
``ForbiddenAndConjunction``                    the classes of the same name
=============================================  ============================================

hyperfleet's ``RangeCondition`` (``low <= parent <= high``) becomes an ``InCondition`` over the
values for an integer parent, else ``GreaterThanCondition``/``LessThanCondition`` (strict:
they differ only at the bounds, a set of measure zero for a float); a
``ForbiddenOrConjunction`` becomes one ConfigSpace clause per component.
"""

from __future__ import annotations

from typing import Any

from hyperfleet.problem import conditions as hc
from hyperfleet.problem import forbidden as hf

#: the smallest integer ``RangeCondition`` written as ConfigSpace ``InCondition`` values at most
RANGE_AS_IN_MAX = 1000


def _cs():
    try:
        import ConfigSpace
    except ImportError:
        raise ImportError("ConfigSpace interop needs the ConfigSpace package: "
                          "pip install 'hyperfleet[configspace]'") from None
    return ConfigSpace


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") and type(value).__module__ == "numpy" else value


def _is_configspace(obj: Any) -> bool:
    return type(obj).__module__.startswith("ConfigSpace")


# ----- ConfigSpace -> hyperfleet ---------------------------------------------------------------
def native(obj: Any) -> Any:
    """A hyperfleet condition or clause for a ConfigSpace one (others are returned unchanged)."""
    if not _is_configspace(obj):
        return obj
    CS = _cs()
    simple = {CS.EqualsCondition: hc.EqualsCondition, CS.NotEqualsCondition: hc.NotEqualsCondition,
              CS.GreaterThanCondition: hc.GreaterThanCondition,
              CS.LessThanCondition: hc.LessThanCondition}
    kind = type(obj)
    if kind in simple:
        return simple[kind](obj.child.name, obj.parent.name, _plain(obj.value))
    if kind is CS.InCondition:
        return hc.InCondition(obj.child.name, obj.parent.name, [_plain(v) for v in obj.values])
    if kind in (CS.AndConjunction, CS.OrConjunction):
        cls = hc.AndConjunction if kind is CS.AndConjunction else hc.OrConjunction
        return cls(*[native(c) for c in obj.components])
    if kind is CS.ForbiddenEqualsClause:
        return hf.ForbiddenEqualsClause(obj.hyperparameter.name, _plain(obj.value))
    if kind is CS.ForbiddenInClause:
        return hf.ForbiddenInClause(obj.hyperparameter.name, [_plain(v) for v in obj.values])
    if kind is CS.ForbiddenAndConjunction:
        return hf.ForbiddenAndConjunction(*[native(c) for c in obj.components])
    raise ValueError(f"ConfigSpace {kind.__name__} is not supported by hyperfleet: {obj}; use equals/"
                     f"not-equals/in/greater/less conditions, And/Or conjunctions and forbidden "
                     f"equals/in/and clauses")


def add_configspace_hyperparameter(problem, hp: Any):
    """Add one ConfigSpace hyperparameter to ``problem``; return the new dimension."""
    CS = _cs()
    name = hp.name
    if isinstance(hp, (CS.UniformIntegerHyperparameter, CS.UniformFloatHyperparameter)):
        cast = int if isinstance(hp, CS.UniformIntegerHyperparameter) else float
        return problem.add_dim(name, (cast(hp.lower), cast(hp.upper)), log=bool(hp.log),
                               default=cast(hp.default_value))
    if isinstance(hp, CS.CategoricalHyperparameter):  # unordered, even when its choices are numbers
        from hyperfleet.problem.specs import Categorical

        choices = [_plain(c) for c in hp.choices]
        spec = Categorical(choices) if len(choices) > 1 else choices
        return problem.add_dim(name, spec, default=_plain(hp.default_value))
    if isinstance(hp, CS.OrdinalHyperparameter):
        from hyperfleet.problem.specs import Ordinal

        return problem.add_dim(name, Ordinal([_plain(c) for c in hp.sequence]), default=_plain(hp.default_value))
    if isinstance(hp, CS.Constant):
        return problem.add_dim(name, [_plain(hp.value)], default=_plain(hp.value))
    raise ValueError(f"ConfigSpace hyperparameter '{name}' ({type(hp).__name__}) is not supported; "
                     f"use uniform integer/float, categorical, ordinal or constant hyperparameters")


def from_configspace(cls, cs: Any):
    """A new problem (of class ``cls``) with the hyperparameters, conditions and forbidden
    clauses of ConfigSpace's ``cs``."""
    CS = _cs()
    if not isinstance(cs, CS.ConfigurationSpace):
        raise ValueError(f"from_configspace takes a ConfigSpace.ConfigurationSpace, got {type(cs).__name__}")
    problem = cls()
    for hp in cs.values():
        add_configspace_hyperparameter(problem, hp)
    for cond in cs.conditions:
        problem.add_condition(native(cond))
    for clause in cs.forbidden_clauses:
        problem.add_forbidden_clause(native(clause))
    return problem


# ----- hyperfleet -> ConfigSpace ---------------------------------------------------------------
def to_configspace(problem, seed: int | None = None):
    """A ConfigSpace ``ConfigurationSpace`` equivalent to ``problem`` (starting points are not kept)."""
    CS = _cs()
    cs = CS.ConfigurationSpace(seed=seed)
    hps = {}
    for dim in problem.dims:
        hps[dim.name] = _hyperparameter(CS, dim)
    cs.add(*hps.values())
    conditions = [_condition(CS, c, hps, problem.space) for c in problem.conditions]
    if conditions:
        cs.add(*conditions)
    clauses = [c for clause in problem.forbidden_clauses for c in _clauses(CS, clause, hps)]
    if clauses:
        try:
            cs.add(*clauses)
        except Exception as err:  # ConfigSpace insists that its default configuration is allowed
            raise ValueError(f"ConfigSpace refuses the forbidden clauses: {err}; its default "
                             f"configuration (each dimension's default, else ConfigSpace's) must "
                             f"be allowed: give the dimensions allowed defaults (add_dim(..., "
                             f"default=...))") from None
    return cs


def _hyperparameter(CS, dim):
    if dim.kind == "int":
        kw = {} if dim.default is None else {"default_value": int(dim.default)}
        return CS.UniformIntegerHyperparameter(dim.name, int(dim.low), int(dim.high), log=dim.log, **kw)
    if dim.kind == "float":
        kw = {} if dim.default is None else {"default_value": float(dim.default)}
        return CS.UniformFloatHyperparameter(dim.name, float(dim.low), float(dim.high), log=dim.log, **kw)
    if dim.kind == "ord":
        kw = {} if dim.default is None else {"default_value": _plain(dim.default)}
        return CS.OrdinalHyperparameter(dim.name, [_plain(v) for v in dim.values], **kw)
    choices = list(dim.choices)
    if not all(isinstance(c, (str, int, float, bool)) or c is None for c in choices):
        raise ValueError(f"dimension '{dim.name}': ConfigSpace choices must be hashable scalars, "
                         f"got {choices!r}")
    if len(choices) == 1 and isinstance(choices[0], (str, int, float)) and not isinstance(choices[0], bool):
        return CS.Constant(dim.name, choices[0])
    kw = {} if dim.default is None else {"default_value": dim.default}
    return CS.CategoricalHyperparameter(dim.name, choices, **kw)


def _condition(CS, cond, hps, space):
    if isinstance(cond, (hc.AndConjunction, hc.OrConjunction)):
        cls = CS.AndConjunction if isinstance(cond, hc.AndConjunction) else CS.OrConjunction
        return cls(*[_condition(CS, c, hps, space) for c in cond.components])
    child, parent = hps[cond.child], hps[cond.parent]
    if isinstance(cond, hc.RangeCondition):
        return _range_condition(CS, cond, child, parent, space[cond.parent])
    simple = {hc.EqualsCondition: CS.EqualsCondition, hc.NotEqualsCondition: CS.NotEqualsCondition,
              hc.GreaterThanCondition: CS.GreaterThanCondition, hc.LessThanCondition: CS.LessThanCondition,
              hc.InCondition: CS.InCondition}
    return simple[type(cond)](child, parent, cond.value)


def _range_condition(CS, cond, child, parent, dim):
    low = dim.low if cond.low is None else max(cond.low, dim.low)
    high = dim.high if cond.high is None else min(cond.high, dim.high)
    if dim.kind == "int" and int(high) - int(low) + 1 <= RANGE_AS_IN_MAX:
        import math

        values = list(range(math.ceil(low), math.floor(high) + 1))
        return CS.InCondition(child, parent, values) if len(values) != 1 else \
            CS.EqualsCondition(child, parent, values[0])
    parts = []
    if low > dim.low:
        parts.append(CS.GreaterThanCondition(child, parent, low))
    if high < dim.high:
        parts.append(CS.LessThanCondition(child, parent, high))
    if not parts:
        raise ValueError(f"{cond!r} covers the whole range of '{dim.name}'; ConfigSpace cannot "
                         f"express it: drop the condition")
    return parts[0] if len(parts) == 1 else CS.AndConjunction(*parts)


def _clauses(CS, clause, hps) -> list:
    if isinstance(clause, hf.ForbiddenOrConjunction):
        return [c for part in clause.components for c in _clauses(CS, part, hps)]
    if isinstance(clause, hf.ForbiddenAndConjunction):
        parts = [_clauses(CS, c, hps) for c in clause.components]
        if any(len(p) != 1 for p in parts):
            raise ValueError(f"{clause!r}: ConfigSpace cannot nest an or inside a forbidden and; "
                             f"write it as several clauses")
        return [CS.ForbiddenAndConjunction(*[p[0] for p in parts])]
    if isinstance(clause, hf.ForbiddenInClause):
        return [CS.ForbiddenInClause(hps[clause.name], list(clause.values))]
    return [CS.ForbiddenEqualsClause(hps[clause.name], clause.value)]
