"""hyperfleet: asynchronous hyperparameter search from a laptop to a supercomputer."""

from hyperfleet.problem import HpProblem
from hyperfleet.search import RandomSearch, Search

__version__ = "0.1.0"

__all__ = ["HpProblem", "Search", "RandomSearch", "AMBS", "__version__"]


def __getattr__(name):
    # AMBS pulls in scikit-learn: import it only when asked for.
    if name == "AMBS":
        from hyperfleet.search.ambs import AMBS

        return AMBS
    raise AttributeError(f"module 'hyperfleet' has no attribute {name!r}")
