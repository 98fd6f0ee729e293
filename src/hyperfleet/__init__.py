"""hyperfleet: asynchronous hyperparameter search from a laptop to a supercomputer."""

from hyperfleet import report  # the reports package, callable: hyperfleet.report(value, step)
from hyperfleet.problem import HpProblem
from hyperfleet.search import RandomSearch, Search

__version__ = "0.1.0"

__all__ = ["HpProblem", "Search", "RandomSearch", "AMBS", "Stopper", "report", "run_search", "__version__"]


def __getattr__(name):
    # AMBS pulls in scikit-learn: import it only when asked for.
    if name == "AMBS":
        from hyperfleet.search.ambs import AMBS

        return AMBS
    if name == "Stopper":
        from hyperfleet.stop import Stopper

        return Stopper
    raise AttributeError(f"module 'hyperfleet' has no attribute {name!r}")


def run_search(*args, **kwargs):
    """Run a whole search; see :func:`hyperfleet.api.run_search`."""
    from hyperfleet.api import run_search as _run_search

    return _run_search(*args, **kwargs)
