"""Plots of a search, drawn with matplotlib (imported only here, headless)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from hyperfleet.files import set_file_mode
from hyperfleet.problem import HpProblem
from hyperfleet.store import EvaluationRecord, EvaluationState

FAILED_STATES = (EvaluationState.FAILED, EvaluationState.TIMEOUT)


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError("reports need matplotlib: pip install 'hyperfleet[report]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _finished(records: Sequence[EvaluationRecord]) -> list[EvaluationRecord]:
    return sorted((r for r in records if r.state.finished and r.end_time is not None), key=lambda r: r.end_time)


def best_so_far(records: Sequence[EvaluationRecord], start: float, path: Path) -> Path:
    """Best objective so far against the number of finished evaluations and against time."""
    plt = _pyplot()
    done = _finished(records)
    fig, (ax_n, ax_t) = plt.subplots(1, 2, figsize=(11, 4))
    best, xs, ts, ys = -np.inf, [], [], []
    for i, r in enumerate(done, 1):
        if r.state == EvaluationState.DONE:
            best = max(best, r.objective)
        if np.isfinite(best):
            xs.append(i)
            ts.append(r.end_time - start)
            ys.append(best)
    ok = [(i, r) for i, r in enumerate(done, 1) if r.state == EvaluationState.DONE]
    ax_n.scatter([i for i, _ in ok], [r.objective for _, r in ok], s=10, alpha=0.4, label="evaluation")
    ax_n.step(xs, ys, where="post", color="C1", label="best so far")
    ax_n.set(xlabel="finished evaluations", ylabel="objective", title="Best objective against evaluations")
    ax_t.step(ts, ys, where="post", color="C1")
    ax_t.set(xlabel="seconds since the search started", ylabel="best objective", title="... against time")
    ax_n.legend(loc="lower right")
    for ax in (ax_n, ax_t):
        ax.grid(alpha=0.3)
    return _save(fig, path)


def utilization(records: Sequence[EvaluationRecord], start: float, path: Path) -> Path:
    """One row per worker, one bar per evaluation; failures in red, cancelled in grey."""
    plt = _pyplot()
    runs = [r for r in records if r.start_time is not None and r.end_time is not None]
    workers = sorted({f"{r.host or ''}:{r.worker or '?'}" for r in runs})
    row = {w: i for i, w in enumerate(workers)}
    fig, ax = plt.subplots(figsize=(11, 1.2 + 0.35 * max(len(workers), 1)))
    colors = {EvaluationState.DONE: "C0", EvaluationState.FAILED: "C3", EvaluationState.TIMEOUT: "C3",
              EvaluationState.CANCELLED: "0.6"}
    for r in runs:
        y = row[f"{r.host or ''}:{r.worker or '?'}"]
        ax.barh(y, r.end_time - r.start_time, left=r.start_time - start, height=0.7,
                color=colors.get(r.state, "C0"), edgecolor="white", linewidth=0.3)
    busy = sum(r.end_time - r.start_time for r in runs)
    span = (max(r.end_time for r in runs) - start) if runs else 0.0
    share = busy / (len(workers) * span) if runs and span > 0 else 0.0
    ax.set_yticks(range(len(workers)), [w.split(":", 1)[1] for w in workers], fontsize=7)
    ax.set(xlabel="seconds since the search started",
           title=f"Worker utilization {share:.0%} (blue done, red failed or timed out, grey cancelled)")
    ax.invert_yaxis()
    return _save(fig, path)


def objective_by_parameter(problem: HpProblem, records: Sequence[EvaluationRecord], path: Path) -> Path:
    """The objective against each hyperparameter (failures marked at the bottom)."""
    plt = _pyplot()
    done = [r for r in records if r.state == EvaluationState.DONE]
    failed = [r for r in records if r.state in FAILED_STATES]
    n = len(problem.dims)
    cols = min(3, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False)
    low = min((r.objective for r in done), default=0.0)
    for ax, dim in zip(axes.flat, problem.dims):
        def position(r, dim=dim):
            value = r.config[dim.name]
            return dim.index(value) if dim.kind == "cat" else value

        ax.scatter([position(r) for r in done], [r.objective for r in done], s=12, alpha=0.6)
        if failed:
            ax.scatter([position(r) for r in failed], [low] * len(failed), marker="x", color="C3", s=18,
                       label="failed")
        if dim.kind == "cat":
            ax.set_xticks(range(len(dim.choices)), [str(c) for c in dim.choices], rotation=30, fontsize=8)
        elif getattr(dim, "log", False):
            ax.set_xscale("log")
        ax.set(xlabel=dim.name, ylabel="objective")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle("Objective against each hyperparameter")
    return _save(fig, path)


def importance(problem: HpProblem, records: Sequence[EvaluationRecord], path: Path) -> Optional[Path]:
    """Hyperparameter importance: permutation importance of an extra-trees model of the objective.

    Returns None when there are too few successful evaluations (fewer than 8) to say anything.
    """
    done = [r for r in records if r.state == EvaluationState.DONE]
    if len(done) < 8:
        return None
    scores = importance_scores(problem, done)
    plt = _pyplot()
    order = np.argsort(scores)
    fig, ax = plt.subplots(figsize=(7, 0.5 + 0.4 * len(scores)))
    ax.barh([problem.names[i] for i in order], scores[order], color="C2")
    ax.set(xlabel="drop in R² when the hyperparameter is shuffled",
           title="Hyperparameter importance (extra trees, permutation)")
    ax.grid(alpha=0.3, axis="x")
    return _save(fig, path)


def importance_scores(problem: HpProblem, done: Sequence[EvaluationRecord]) -> np.ndarray:
    """Permutation importance per dimension (mean over repeats, clipped at zero)."""
    from sklearn.ensemble import ExtraTreesRegressor
    from sklearn.inspection import permutation_importance

    x = problem.to_array([r.config for r in done])
    y = np.array([r.objective for r in done])
    model = ExtraTreesRegressor(n_estimators=200, min_samples_leaf=2, random_state=0).fit(x, y)
    result = permutation_importance(model, x, y, n_repeats=10, random_state=0)
    return np.clip(result.importances_mean, 0, None)


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    set_file_mode(path)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path
