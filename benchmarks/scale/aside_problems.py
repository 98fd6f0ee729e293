"""Problems of this benchmark's own, kept aside from the public ones (problems.PUBLIC).

``stybtang_mixed`` is the one the parallel benchmark reports beside the public problems;
``rosen_int`` is held out: used only to check a change tuned on the others.
Both are MAXIMIZED (the negated minimization forms), like every bench problem.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import problems  # noqa: E402


def _stybtang_mixed(c):
    """Styblinski-Tang in 4 continuous dimensions plus an integer one, with a categorical offset."""
    x = np.array([c["x0"], c["x1"], c["x2"], c["x3"], c["n"] / 2.0])
    value = 0.5 * float(np.sum(x ** 4 - 16 * x ** 2 + 5 * x))
    return value + {"plain": 0.0, "warm": 6.0, "cold": 15.0}[c["mode"]]


def _st_optimum():
    x = -2.903534
    per = x ** 4 - 16 * x ** 2 + 5 * x
    xi = -3.0  # n = -6: the integer dimension's best grid value
    return -(0.5 * (4 * per + (xi ** 4 - 16 * xi ** 2 + 5 * xi)))


def _rosen_int(c):
    """Rosenbrock in 3 continuous dimensions and 2 integer ones (scaled by 1/4)."""
    x = np.array([c["a"], c["b"], c["c"], c["i"] / 4.0, c["j"] / 4.0])
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


ASIDE = {
    "stybtang_mixed": problems.Problem(
        "stybtang_mixed",
        [("x0", "float", -5.0, 5.0), ("x1", "float", -5.0, 5.0), ("x2", "float", -5.0, 5.0),
         ("x3", "float", -5.0, 5.0), ("n", "int", -10, 10), ("mode", "cat", ["warm", "plain", "cold"])],
        lambda c: -_stybtang_mixed(c), _st_optimum(), budget=100),
    "rosen_int": problems.Problem(
        "rosen_int",
        [("a", "float", -2.0, 2.0), ("b", "float", -2.0, 2.0), ("c", "float", -2.0, 2.0),
         ("i", "int", -8, 8), ("j", "int", -8, 8)],
        lambda c: -_rosen_int(c), 0.0, budget=100),
}


def find_problem(name: str) -> problems.Problem:
    """A bench problem (public or tabular) or one of ASIDE, by name."""
    if name in ASIDE:
        return ASIDE[name]
    if name in problems.ALL:
        return problems.ALL[name]
    raise SystemExit(f"unknown problem {name!r}; known: {', '.join(list(problems.ALL) + list(ASIDE))}")
