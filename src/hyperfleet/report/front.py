"""The Pareto front of a search: its rows (``pareto.csv``) and its hypervolume over time."""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from hyperfleet.files import file_mode
from hyperfleet.pareto import hypervolume, pareto_mask
from hyperfleet.problem import HpProblem
from hyperfleet.report.exports import csv_header, csv_row
from hyperfleet.store.records import EvaluationRecord, EvaluationState

PARETO_NAME = "pareto.csv"


def objective_matrix(problem: HpProblem, records: Sequence[EvaluationRecord]) -> np.ndarray:
    """``(n, k)`` objective values of DONE records, as returned (NaN where missing)."""
    k = len(problem.objective_names)
    rows = []
    for r in records:
        if r.objectives is not None and len(r.objectives) == k:
            rows.append([float(v) for v in r.objectives])
        elif r.objective is not None and k == 1:
            rows.append([float(r.objective)])
        else:
            rows.append([np.nan] * k)
    return np.array(rows, dtype=float).reshape(len(rows), k)


def front_records(problem: HpProblem, records: Sequence[EvaluationRecord]) -> list[EvaluationRecord]:
    """The feasible, non-dominated DONE records (ties and duplicates included), in their order."""
    done = [r for r in records if r.state == EvaluationState.DONE and r.feasible is not False]
    if not done:
        return []
    mask = pareto_mask(objective_matrix(problem, done), problem.directions)
    return [r for r, on in zip(done, mask) if on]


def write_pareto_csv(folder: str | os.PathLike, problem: HpProblem,
                     records: Sequence[EvaluationRecord], search_start: float) -> Path:
    """Atomically rewrite ``pareto.csv``: the columns of ``results.csv``, front rows only."""
    path = Path(folder) / PARETO_NAME
    front = sorted(front_records(problem, records), key=lambda r: (r.end_time or 0, r.number))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".pareto.", suffix=".csv")
    os.fchmod(fd, file_mode())
    with os.fdopen(fd, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(csv_header(problem))
        writer.writerows(csv_row(problem, r, search_start) for r in front)
    os.replace(tmp, path)
    return path


def reference_point(problem: HpProblem, Y: np.ndarray) -> np.ndarray:
    """A reference point for hypervolume: the worst value seen of each objective, moved out by a
    tenth of its range (so the extreme front points count)."""
    signs = problem.signs(Y.shape[1])
    M = Y * signs  # to maximize
    lo, hi = np.nanmin(M, axis=0), np.nanmax(M, axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    return (lo - 0.1 * span) * signs


def hypervolume_curve(problem: HpProblem, records: Sequence[EvaluationRecord],
                      reference: Optional[Sequence[float]] = None, points: int = 50
                      ) -> tuple[list[int], list[float], np.ndarray]:
    """Hypervolume of the feasible front after each of ``points`` evenly spaced numbers of
    finished evaluations (in finish order): ``(counts, volumes, reference)``."""
    finished = sorted((r for r in records if r.state.finished), key=lambda r: (r.end_time or 0, r.number))
    ok = [r for r in finished if r.state == EvaluationState.DONE and r.feasible is not False]
    Y_all = objective_matrix(problem, ok)
    if len(Y_all) == 0 or np.isnan(Y_all).all():
        return [], [], np.array([])
    ref = np.asarray(reference, dtype=float) if reference is not None else reference_point(problem, Y_all)
    position = {r.id: i for i, r in enumerate(finished)}
    counts = sorted({max(1, int(round(x))) for x in np.linspace(1, len(finished), min(points, len(finished)))})
    where = np.array([position[r.id] for r in ok])
    volumes = [hypervolume(Y_all[where < c], ref, problem.directions) for c in counts]
    return counts, volumes, ref


__all__ = ["PARETO_NAME", "front_records", "hypervolume_curve", "objective_matrix",
           "reference_point", "write_pareto_csv"]
