"""`import hyperfleet` is light: a run function that imports it for `hyperfleet.report` (and every
isolated evaluation's process) pays for no numpy, scikit-learn or SQLAlchemy it does not use."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _fresh(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_import_hyperfleet_imports_no_heavy_library():
    out = _fresh("import sys, hyperfleet; hyperfleet.report(0.5, step=1);"
                 "print(sorted(m for m in ('numpy', 'sklearn', 'sqlalchemy', 'pandas') if m in sys.modules))")
    assert out == "[]"


@pytest.mark.parametrize("name, module", [
    ("HpProblem", "hyperfleet.problem.hp_problem"), ("EqualsCondition", "hyperfleet.problem.conditions"),
    ("ForbiddenAndConjunction", "hyperfleet.problem.forbidden"), ("Ordinal", "hyperfleet.problem.specs"),
    ("RandomSearch", "hyperfleet.search.random_search"), ("Search", "hyperfleet.search.base"),
    ("AMBS", "hyperfleet.search.ambs"), ("run_search", "hyperfleet.api"),
])
def test_every_public_name_is_there_when_asked_for(name, module):
    out = _fresh(f"import hyperfleet; from hyperfleet import {name}; "
                 f"print(getattr(hyperfleet, {name!r}) is {name}, {name}.__module__)")
    same, where = out.split()
    assert same == "True" and where.startswith(module)


def test_an_unknown_name_is_an_attribute_error():
    import hyperfleet

    with pytest.raises(AttributeError, match="no attribute 'HpProblm'"):
        hyperfleet.HpProblm  # noqa: B018
    assert {"HpProblem", "AMBS", "report", "EqualsCondition"} <= set(dir(hyperfleet))


def test_subpackages_are_attributes_after_import_hyperfleet():
    out = _fresh("import hyperfleet; print(hyperfleet.problem.HpProblem.__name__, hyperfleet.search.RandomSearch.__name__,"
                 " hyperfleet.stop.Stopper.__name__)")
    assert out == "HpProblem RandomSearch Stopper"
