"""Search spaces: typed dimensions and the tutorial-compatible ``HpProblem``."""

from hyperfleet.problem.dimensions import (
    CategoricalDimension,
    Dimension,
    FloatDimension,
    IntDimension,
)
from hyperfleet.problem.hp_problem import HpProblem
from hyperfleet.problem.ordinal import OrdinalDimension
from hyperfleet.problem.specs import Categorical, Float, Int, Ordinal

__all__ = ["HpProblem", "Dimension", "IntDimension", "FloatDimension", "CategoricalDimension",
           "OrdinalDimension", "Categorical", "Ordinal", "Int", "Float"]
