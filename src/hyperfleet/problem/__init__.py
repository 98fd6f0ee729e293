"""Search spaces: typed dimensions and the tutorial-compatible ``HpProblem``."""

from hyperfleet.problem.dimensions import (
    CategoricalDimension,
    Dimension,
    FloatDimension,
    IntDimension,
)
from hyperfleet.problem.hp_problem import HpProblem

__all__ = ["HpProblem", "Dimension", "IntDimension", "FloatDimension", "CategoricalDimension"]
