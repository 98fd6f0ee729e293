"""Tabular benchmark problems: every configuration of a small space with a real training's result.

The tables are computed once by ``benchmarks/tables/make_tables.py`` and stored as
``benchmarks/tables/NAME.csv.gz``; a problem looks the configuration up (no training at run
time). Space tuples as in problems.py, plus ``(name, "ord", [levels...])``: ordered levels
(each engine gets its natural representation of them, see engines.py).

* ``mlp_cancer`` (grid, FCNet-like: 5 ordinal + 1 categorical, 1,296 configurations)
* ``cell_digits`` (all-categorical architecture cell: 6 edges x 5 operations, 15,625 cells)
* held aside (not used while tuning AMBS): ``mlp_digits`` (same grid, other data),
  ``cell_diabetes`` (same cell, a regression)
"""
from __future__ import annotations

import csv
import gzip
from pathlib import Path

from problems import Problem

TABLES = Path(__file__).resolve().parent / "tables"

MLP_SPACE = [
    ("units_1", "ord", [16, 32, 64, 128, 256, 512]),
    ("units_2", "ord", [16, 32, 64, 128, 256, 512]),
    ("dropout", "ord", [0.0, 0.3, 0.6]),
    ("lr", "ord", [0.001, 0.003, 0.01]),
    ("batch_size", "ord", [64, 256]),
    ("activation", "cat", ["relu", "tanh"]),
]
CELL_OPS = ["none", "skip", "proj_relu", "proj_tanh", "avg_pool"]
CELL_SPACE = [(f"edge_{i}{j}", "cat", list(CELL_OPS))
              for i, j in [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]]


def _cell_key(value):
    """A table cell's value as the problem's levels spell it (numbers compared by value)."""
    try:
        return f"{float(value):.6g}"
    except (TypeError, ValueError):
        return str(value)


class TableProblem(Problem):
    """A problem whose objective is read from a stored table."""

    def __init__(self, name: str, space: list, budget: int):
        self.file = TABLES / f"{name}.csv.gz"
        self._table = None
        super().__init__(name, space, self._lookup, optimum=None, budget=budget)

    @property
    def table(self) -> dict:
        if self._table is None:
            names = [d[0] for d in self.space]
            with gzip.open(self.file, "rt", newline="") as f:
                rows = list(csv.DictReader(f))
            self._table = {tuple(_cell_key(r[n]) for n in names): float(r["objective"])
                           for r in rows}
        return self._table

    def __getattribute__(self, attr):
        if attr == "optimum":  # read lazily: loading problems.ALL must not read every table
            return max(object.__getattribute__(self, "table").values())
        return object.__getattribute__(self, attr)

    def _lookup(self, config: dict) -> float:
        key = tuple(_cell_key(config[d[0]]) for d in self.space)
        try:
            return self.table[key]
        except KeyError:
            raise ValueError(f"{self.name}: configuration {config} is not in the table") from None


TUNING = {
    "mlp_cancer": TableProblem("mlp_cancer", MLP_SPACE, budget=50),
    "cell_digits": TableProblem("cell_digits", CELL_SPACE, budget=50),
}
ASIDE = {
    "mlp_digits": TableProblem("mlp_digits", MLP_SPACE, budget=50),
    "cell_diabetes": TableProblem("cell_diabetes", CELL_SPACE, budget=50),
}
