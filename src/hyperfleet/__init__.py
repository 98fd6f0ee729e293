"""hyperfleet: asynchronous hyperparameter search from a laptop to a supercomputer.

Public names:

- :class:`HpProblem` -- the search space (``add_dim``, ``add_starting_point``; DeepHyper 0.13's
  ``add_hyperparameter``, ``add_condition``, ``add_forbidden_clause``).
- The condition and forbidden-clause classes, with ConfigSpace's names (``EqualsCondition``,
  ``InCondition``, ``RangeCondition``, ``AndConjunction``, ``ForbiddenEqualsClause`` …), so that
  ``import hyperfleet as cs`` stands in for ``import ConfigSpace as cs`` in DeepHyper problems.
- :class:`Categorical`, :class:`Ordinal`, :class:`Int`, :class:`Float` say a dimension's kind
  explicitly (unordered numbers, ordered labels, stepped ranges).
- :func:`run_search` -- run a whole search (the ``hyperfleet search`` command as a function);
  :func:`hyperfleet.api.continue_search` continues one (``hyperfleet resume``);
  :func:`join_search` drives a running one together with its drivers (``hyperfleet search --join``).
- :class:`AMBS` -- asynchronous model-based search (Bayesian optimisation), the default.
- :class:`RandomSearch` -- random sampling.
- :class:`Search` -- the base class of a search (``_ask``, optionally ``_tell``).
- :func:`report` -- ``hyperfleet.report(value, step=k)`` from a run function: an intermediate value;
  returns False once the training should stop (a stopper is set).
- :class:`Stopper` -- the base class of an early-stopping rule (``hyperfleet.stop``).
- :func:`load_results` -- a search's evaluations as a pandas DataFrame (``hyperfleet[data]``).
- ``__version__``.

In a script, call :func:`run_search` under ``if __name__ == "__main__":`` (worker processes
import the script again). Subpackages: ``problem``, ``search``, ``execute`` (evaluators),
``store`` (job database), ``batch`` (Slurm, PBS, LSF), ``report``, ``simulate``, ``testing``
(conformance kits); ``hyperfleet.driver.Callback`` is the protocol of ``run_search(callbacks=...)``.
"""

from hyperfleet import report  # the reports package, callable: hyperfleet.report(value, step)

__version__ = "0.1.0"

__all__ = [
    "HpProblem", "Categorical", "Ordinal", "Int", "Float", "Search", "RandomSearch", "AMBS", "Stopper", "report", "run_search", "load_results", "join_search",
    "__version__",
    "Condition", "EqualsCondition", "NotEqualsCondition", "InCondition", "GreaterThanCondition",
    "LessThanCondition", "RangeCondition", "AndConjunction", "OrConjunction",
    "ForbiddenClause", "ForbiddenEqualsClause", "ForbiddenInClause", "ForbiddenAndConjunction",
    "ForbiddenOrConjunction",
]


#: the problem's names come from hyperfleet.problem (numpy), the searches' from hyperfleet.search
_PROBLEM_NAMES = frozenset({
    "HpProblem", "Categorical", "Ordinal", "Int", "Float",
    "Condition", "EqualsCondition", "NotEqualsCondition", "InCondition", "GreaterThanCondition",
    "LessThanCondition", "RangeCondition", "AndConjunction", "OrConjunction",
    "ForbiddenClause", "ForbiddenEqualsClause", "ForbiddenInClause", "ForbiddenAndConjunction",
    "ForbiddenOrConjunction",
})


def __getattr__(name):
    # Every public name is imported when first asked for: a run function's `import hyperfleet`
    # (and an isolated evaluation's child process) then costs no numpy, scikit-learn or
    # SQLAlchemy import. help() and `from hyperfleet import HpProblem` see the real objects.
    if name in _PROBLEM_NAMES:
        import hyperfleet.problem as problem

        return getattr(problem, name)
    if name in ("Search", "RandomSearch"):
        import hyperfleet.search as search

        return getattr(search, name)
    if name == "AMBS":
        from hyperfleet.search.ambs import AMBS

        return AMBS
    if name == "Stopper":
        from hyperfleet.stop import Stopper

        return Stopper
    if name == "load_results":
        from hyperfleet.report.frame import load_results

        return load_results
    if name == "run_search":
        from hyperfleet.api import run_search

        return run_search
    if name == "join_search":
        from hyperfleet.join import join_search

        return join_search
    if not name.startswith("_"):  # a subpackage, as `import hyperfleet` used to import some
        import importlib
        import importlib.util

        if importlib.util.find_spec(f"{__name__}.{name}") is not None:
            return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'hyperfleet' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
