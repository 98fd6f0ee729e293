"""Plots of a search, drawn with matplotlib (imported only here, headless)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional, Sequence, Union

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


def _clock(start: Union[float, Callable[[float], float]]) -> Callable[[float], float]:
    """Seconds since the search started: ``start`` is its start time or a clock such as
    :class:`~hyperfleet.active_time.ActiveClock` (which leaves out the time it was stopped)."""
    return start if callable(start) else (lambda t: t - start)


def _no_success(ax, records: Sequence[EvaluationRecord]) -> None:
    """Say in the axes that nothing succeeded (instead of drawing empty axes)."""
    failed = sum(1 for r in records if r.state in FAILED_STATES)
    text = (f"no evaluation succeeded ({failed} failed)" if failed
            else "no evaluation has finished yet")
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=12, color="C3" if failed else "0.4",
            transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def _best_range(ys: Sequence[float], objectives: Sequence[float]) -> tuple[float, float]:
    """A y range for the best-so-far curve: its own span, padded by a tenth of the spread of all
    objectives, so that a small gain looks small and not like a cliff."""
    low, high = min(ys), max(ys)
    spread = max(objectives) - min(objectives) if objectives else 0.0
    pad = max(0.1 * spread, 0.05 * (high - low), 1e-9 + 1e-3 * abs(high))
    return low - pad, high + pad


def best_so_far(records: Sequence[EvaluationRecord], start: Union[float, Callable], path: Path,
                minimize: bool = False) -> Path:
    """Best objective so far against the number of finished evaluations and against time
    (``minimize``: the lowest; infeasible results never count as best).

    Each panel has its own y range: every objective on the left, the best-so-far curve on the
    right (padded by a tenth of the objectives' spread); evaluation counts are integers.
    """
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    clock = _clock(start)

    done = _finished(records)
    fig, (ax_n, ax_t) = plt.subplots(1, 2, figsize=(11, 4))
    sign = -1.0 if minimize else 1.0
    best, xs, ts, ys = -np.inf * sign, [], [], []
    for i, r in enumerate(done, 1):
        if r.state == EvaluationState.DONE and r.feasible is not False:
            best = sign * max(sign * best, sign * r.objective)
        if np.isfinite(best):
            xs.append(i)
            ts.append(clock(r.end_time))
            ys.append(best)
    ok = [(i, r) for i, r in enumerate(done, 1) if r.state == EvaluationState.DONE]
    ax_n.set(xlabel="finished evaluations", ylabel="objective", title="Best objective against evaluations")
    ax_t.set(xlabel="seconds since the search started", ylabel="best objective", title="... against time")
    if not ok or not ys:  # nothing succeeded, or nothing feasible yet
        for ax in (ax_n, ax_t):
            _no_success(ax, records)
        return _save(fig, path)
    failed = [i for i, r in enumerate(done, 1) if r.state in FAILED_STATES]
    ax_n.scatter([i for i, _ in ok], [r.objective for _, r in ok], s=10, alpha=0.4, label="evaluation")
    ax_n.step(xs + [len(done)], ys + [ys[-1]], where="post", color="C1", label="best so far")
    if failed:
        low = min(r.objective for _, r in ok)
        ax_n.scatter(failed, [low] * len(failed), marker="x", s=14, color="C3", label="failed")
    ax_n.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_n.set_xlim(0, len(done) + 1)
    end = max(clock(r.end_time) for r in done)
    ax_t.step([0.0, *ts, end], [np.nan, *ys, ys[-1]], where="post", color="C1")
    improved = [(t, y) for k, (t, y) in enumerate(zip(ts, ys)) if k == 0 or sign * y > sign * ys[k - 1]]
    ax_t.scatter([t for t, _ in improved], [y for _, y in improved], s=14, color="C1", zorder=3,
                 label="improvement")
    ax_t.set_ylim(*_best_range(ys, [r.objective for _, r in ok]))
    ax_t.set_xlim(0, max(end, 1e-9) * 1.02)
    ax_t.annotate(f"best {ys[-1]:.6g}", (ts[-1], ys[-1]), textcoords="offset points", xytext=(0, 6),
                  ha="right", fontsize=8, color="C1")
    ax_n.legend(loc="lower right", fontsize=8)
    for ax in (ax_n, ax_t):
        ax.grid(alpha=0.3)
    return _save(fig, path)


def _worker_labels(workers: Sequence[tuple[str, str]]) -> list[str]:
    """Short labels for (host, worker) pairs: the worker alone on one host, ``host:worker`` else;
    long Dask worker addresses cut to their end."""
    hosts = {h for h, _ in workers}

    def short(name: str) -> str:
        return name if len(name) <= 22 else "…" + name[-21:]

    return [short(w) if len(hosts) <= 1 else short(f"{h}:{w}") for h, w in workers]


def utilization(records: Sequence[EvaluationRecord], start: Union[float, Callable], path: Path) -> Path:
    """One row per worker, one bar per evaluation; failures in red, cancelled in grey."""
    plt = _pyplot()
    clock = _clock(start)
    runs = [r for r in records if r.start_time is not None and r.end_time is not None]
    workers = sorted({(r.host or "", r.worker or "?") for r in runs})
    row = {w: i for i, w in enumerate(workers)}
    fig, ax = plt.subplots(figsize=(11, 1.4 + 0.3 * max(len(workers), 1)))
    colors = {EvaluationState.DONE: "C0", EvaluationState.FAILED: "C3", EvaluationState.TIMEOUT: "C3",
              EvaluationState.CANCELLED: "0.6"}
    for r in runs:
        y = row[(r.host or "", r.worker or "?")]
        ax.barh(y, clock(r.end_time) - clock(r.start_time), left=clock(r.start_time), height=0.7,
                color=colors.get(r.state, "C0"), edgecolor="white", linewidth=0.3)
    busy = sum(clock(r.end_time) - clock(r.start_time) for r in runs)
    span = max(clock(r.end_time) for r in runs) if runs else 0.0
    share = busy / (len(workers) * span) if runs and span > 0 else 0.0
    labels = _worker_labels(workers)
    step = max(1, -(-len(labels) // 40))  # at most ~40 labels, so they stay readable
    ax.set_yticks(range(0, len(labels), step), labels[::step], fontsize=8 if len(labels) <= 20 else 6)
    if not runs:
        _no_success(ax, records)
    else:
        ax.set_xlim(0, span * 1.01)
    ax.set(xlabel="seconds since the search started", ylabel=f"worker ({len(workers)})",
           title=f"Worker utilization {share:.0%} (blue done, red failed or timed out, grey cancelled)")
    ax.invert_yaxis()
    return _save(fig, path)


def objective_by_parameter(problem: HpProblem, records: Sequence[EvaluationRecord], path: Path) -> Path:
    """The objective against each hyperparameter (failures marked at the bottom, the best
    evaluation highlighted in every panel)."""
    plt = _pyplot()
    done = [r for r in records if r.state == EvaluationState.DONE]
    failed = [r for r in records if r.state in FAILED_STATES]
    best = max(done, key=lambda r: r.objective) if done else None
    n = len(problem.dims)
    cols = min(3, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False)
    low = min((r.objective for r in done), default=0.0)
    all_done, all_failed = done, failed
    for k, (ax, dim) in enumerate(zip(axes.flat, problem.dims)):
        # an inactive hyperparameter has no value: those evaluations are not in its panel
        done = [r for r in all_done if dim.name in r.config]
        failed = [r for r in all_failed if dim.name in r.config]

        # categoricals and short ordinals (levels such as 16/32/64/128) at equally spaced ticks
        by_index = dim.kind == "cat" or (dim.kind == "ord" and (dim.cardinality <= 16 or not dim.numeric))

        def position(r, dim=dim, by_index=by_index):
            value = r.config[dim.name]
            return dim.index(value) if by_index else value

        if not done:
            _no_success(ax, records)
            ax.set(xlabel=dim.name)
            continue
        ax.scatter([position(r) for r in done], [r.objective for r in done], s=12, alpha=0.6,
                   label="evaluation")
        if failed:
            ax.scatter([position(r) for r in failed], [low] * len(failed), marker="x", color="C3", s=18,
                       label="failed")
        if best is not None and dim.name in best.config:
            ax.scatter([position(best)], [best.objective], marker="*", s=160, color="C1",
                       edgecolor="black", linewidth=0.6, zorder=3, label=f"best ({best.objective:.4g})")
        if by_index:
            ax.set_xticks(range(len(dim.choices)), [str(c) for c in dim.choices], rotation=30, fontsize=8)
        elif getattr(dim, "log", False):
            ax.set_xscale("log")
        if dim.kind == "int" and not getattr(dim, "log", False):
            from matplotlib.ticker import MaxNLocator

            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set(xlabel=dim.name, ylabel="objective")
        ax.grid(alpha=0.3)
        if k == 0:
            ax.legend(fontsize=7, loc="best")
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
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
