"""Plots of a search with several objectives: the Pareto front (2 objectives: one scatter with
the front drawn; 3 or more: every pair) and the hypervolume of the feasible front over time."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from hyperfleet.files import set_file_mode
from hyperfleet.problem import HpProblem
from hyperfleet.report.front import front_records, hypervolume_curve, objective_matrix
from hyperfleet.report.plots import _pyplot
from hyperfleet.store import EvaluationRecord, EvaluationState


def pareto_front(problem: HpProblem, records: Sequence[EvaluationRecord], path: Path) -> Optional[Path]:
    """Every successful evaluation in objective space, infeasible ones marked, the feasible
    Pareto front highlighted (and joined as a staircase with 2 objectives). None: nothing to draw."""
    done = [r for r in records if r.state == EvaluationState.DONE]
    if not done:
        return None
    plt = _pyplot()
    names = problem.objective_names
    Y = objective_matrix(problem, done)
    feasible = np.array([r.feasible is not False for r in done])
    front_ids = {r.id for r in front_records(problem, done)}
    on_front = np.array([r.id in front_ids for r in done])
    pairs = list(combinations(range(len(names)), 2))
    cols = min(3, len(pairs))
    rows = (len(pairs) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.4 * rows), squeeze=False)
    for ax, (i, j) in zip(axes.ravel(), pairs):
        ax.scatter(Y[feasible & ~on_front, i], Y[feasible & ~on_front, j], s=12, alpha=0.5,
                   color="C0", label="evaluation")
        if (~feasible).any():
            ax.scatter(Y[~feasible, i], Y[~feasible, j], s=14, marker="x", color="C3", alpha=0.6,
                       label="infeasible")
        ax.scatter(Y[on_front, i], Y[on_front, j], s=30, color="C1", edgecolor="black",
                   linewidth=0.5, zorder=3, label="Pareto front")
        if len(names) == 2 and on_front.any():
            F = Y[on_front][np.argsort(Y[on_front, 0])]
            # the edge of the dominated region: along the first objective first when it is minimized
            ax.step(F[:, 0], F[:, 1], where="post" if problem.directions[0] == "minimize" else "pre",
                    color="C1", linewidth=1, alpha=0.8)
        ax.set(xlabel=f"{names[i]} ({problem.directions[i]})", ylabel=f"{names[j]} ({problem.directions[j]})")
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(pairs):]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=8)
    fig.suptitle(f"Pareto front: {int(on_front.sum())} of {len(done)} successful evaluations")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    set_file_mode(path)
    return path


def hypervolume_over_time(problem: HpProblem, records: Sequence[EvaluationRecord], path: Path
                          ) -> Optional[Path]:
    """Hypervolume of the feasible front against finished evaluations (reference: the worst
    values seen, moved out by a tenth of their range). None: nothing to draw."""
    counts, volumes, ref = hypervolume_curve(problem, records)
    if not counts:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(counts, volumes, marker=".", color="C2")
    ref_text = ", ".join(f"{v:.3g}" for v in ref)
    ax.set(xlabel="finished evaluations", ylabel="hypervolume",
           title=f"Hypervolume of the feasible front (reference point {ref_text})")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    set_file_mode(path)
    return path


__all__ = ["hypervolume_over_time", "pareto_front"]
