"""Search spaces: typed dimensions, conditions, forbidden clauses and ``HpProblem``."""

from hyperfleet.problem.conditions import (
    AndConjunction,
    Condition,
    EqualsCondition,
    GreaterThanCondition,
    InCondition,
    LessThanCondition,
    NotEqualsCondition,
    OrConjunction,
    RangeCondition,
)
from hyperfleet.problem.dimensions import (
    CategoricalDimension,
    Dimension,
    FloatDimension,
    IntDimension,
)
from hyperfleet.problem.forbidden import (
    ForbiddenAndConjunction,
    ForbiddenClause,
    ForbiddenEqualsClause,
    ForbiddenInClause,
    ForbiddenOrConjunction,
)
from hyperfleet.problem.hp_problem import HpProblem
from hyperfleet.problem.ordinal import OrdinalDimension
from hyperfleet.problem.specs import Categorical, Float, Int, Ordinal

#: the condition and forbidden-clause classes (ConfigSpace's names), also exported by ``hyperfleet``
SPACE_RULES = [
    "Condition", "EqualsCondition", "NotEqualsCondition", "InCondition", "GreaterThanCondition",
    "LessThanCondition", "RangeCondition", "AndConjunction", "OrConjunction",
    "ForbiddenClause", "ForbiddenEqualsClause", "ForbiddenInClause", "ForbiddenAndConjunction",
    "ForbiddenOrConjunction",
]

__all__ = [
    "HpProblem", "Dimension", "IntDimension", "FloatDimension", "CategoricalDimension",
    "OrdinalDimension", "Categorical", "Ordinal", "Int", "Float",
    "Condition", "EqualsCondition", "NotEqualsCondition", "InCondition", "GreaterThanCondition",
    "LessThanCondition", "RangeCondition", "AndConjunction", "OrConjunction",
    "ForbiddenClause", "ForbiddenEqualsClause", "ForbiddenInClause", "ForbiddenAndConjunction",
    "ForbiddenOrConjunction",
]
