"""AMBS — asynchronous model-based search (Bayesian optimisation) for mixed spaces.

``from hyperfleet.search.ambs import AMBS``. The parts live in small modules and can each be
replaced by name or by instance: :mod:`.initial_design`, :mod:`.surrogates`, :mod:`.acquisition`,
:mod:`.optimizer` (acquisition maximisation), :mod:`.pending` (pending evaluations); the settings
are one frozen dataclass, :class:`AMBSSettings`.
"""

from hyperfleet.search.ambs.acquisition import (
    Acquisition,
    ExpectedImprovement,
    ProbabilityOfImprovement,
    UpperConfidenceBound,
)
from hyperfleet.search.ambs.initial_design import (
    InitialDesign,
    LatinHypercubeDesign,
    RandomDesign,
    SobolDesign,
)
from hyperfleet.search.ambs.pending import QUCB, ConstantLiar, PendingStrategy
from hyperfleet.search.ambs.search import AMBS, default_n_initial
from hyperfleet.search.ambs.settings import AMBSSettings
from hyperfleet.search.ambs.surrogates import GaussianProcess, Surrogate
from hyperfleet.search.ambs.trees import SklearnSurrogate, TreeEnsemble

__all__ = [
    "AMBS",
    "QUCB",
    "AMBSSettings",
    "Acquisition",
    "ConstantLiar",
    "ExpectedImprovement",
    "GaussianProcess",
    "InitialDesign",
    "LatinHypercubeDesign",
    "PendingStrategy",
    "ProbabilityOfImprovement",
    "RandomDesign",
    "SklearnSurrogate",
    "SobolDesign",
    "Surrogate",
    "TreeEnsemble",
    "UpperConfidenceBound",
    "default_n_initial",
]
