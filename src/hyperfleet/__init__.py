"""hyperfleet: asynchronous hyperparameter search from a laptop to a supercomputer.

Public names:

- :class:`HpProblem` -- the search space (``add_dim``, ``add_starting_point``);
  :class:`Categorical`, :class:`Ordinal`, :class:`Int`, :class:`Float` say a dimension's kind
  explicitly (unordered numbers, ordered labels, stepped ranges).
- :func:`run_search` -- run a whole search (the ``hyperfleet search`` command as a function);
  :func:`hyperfleet.api.continue_search` continues one (``hyperfleet resume``).
- :class:`AMBS` -- asynchronous model-based search (Bayesian optimisation), the default.
- :class:`RandomSearch` -- random sampling.
- :class:`Search` -- the base class of a search (``_ask``, optionally ``_tell``).
- :func:`report` -- ``hyperfleet.report(value, step=k)`` from a run function: an intermediate value;
  returns False once the training should stop (a stopper is set).
- :class:`Stopper` -- the base class of an early-stopping rule (``hyperfleet.stop``).
- ``__version__``.

In a script, call :func:`run_search` under ``if __name__ == "__main__":`` (worker processes
import the script again). Subpackages: ``problem``, ``search``, ``execute`` (evaluators),
``store`` (job database), ``batch`` (Slurm, PBS, LSF), ``report``, ``simulate``, ``testing``
(conformance kits); ``hyperfleet.driver.Callback`` is the protocol of ``run_search(callbacks=...)``.
"""

from hyperfleet import report  # the reports package, callable: hyperfleet.report(value, step)
from hyperfleet.problem import Categorical, Float, HpProblem, Int, Ordinal
from hyperfleet.search import RandomSearch, Search

__version__ = "0.1.0"

__all__ = ["HpProblem", "Categorical", "Ordinal", "Int", "Float", "Search", "RandomSearch", "AMBS", "Stopper", "report", "run_search", "__version__"]


def __getattr__(name):
    # AMBS pulls in scikit-learn and run_search the driver and SQLAlchemy: import them only when
    # asked for (help() and `from hyperfleet import run_search` see the real objects).
    if name == "AMBS":
        from hyperfleet.search.ambs import AMBS

        return AMBS
    if name == "Stopper":
        from hyperfleet.stop import Stopper

        return Stopper
    if name == "run_search":
        from hyperfleet.api import run_search

        return run_search
    raise AttributeError(f"module 'hyperfleet' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
