"""Learning curves of a search (the values ``hyperfleet.report`` recorded) and the steps saved by
stopping bad trainings early."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from hyperfleet.store import EvaluationRecord, EvaluationState, ReportRecord


@dataclass(frozen=True)
class StepsSaved:
    """Steps (epochs) run against the steps every evaluation would have run to ``max_step``.

    Attributes:
        run: steps the evaluations reported, all together.
        full: steps they would have run had each gone on to ``max_step``.
        max_step: a full training's steps (the stopper's ``max_step`` setting, else the most steps
            an evaluation reported).
        stopped: evaluations stopped early.
    """

    run: int
    full: int
    max_step: int
    stopped: int

    @property
    def saved_fraction(self) -> float:
        return 0.0 if self.full == 0 else 1.0 - self.run / self.full

    def sentence(self) -> str:
        return (f"{self.stopped} evaluations stopped early: {self.run:,} steps run instead of {self.full:,} "
                f"at {self.max_step} steps each ({self.saved_fraction:.0%} saved)")


def group(reports: Sequence[ReportRecord]) -> dict[str, list[tuple[int, float]]]:
    curves: dict[str, list[tuple[int, float]]] = {}
    for r in reports:
        curves.setdefault(r.evaluation_id, []).append((r.step, r.value))
    return curves


def steps_saved(records: Sequence[EvaluationRecord], reports: Sequence[ReportRecord],
                max_step: Optional[int] = None) -> Optional[StepsSaved]:
    """How many steps the search ran against training every evaluation to ``max_step``; None
    without any report."""
    curves = group(reports)
    if not curves:
        return None
    ran = {e.id: max(s for s, _ in curves[e.id]) for e in records if e.id in curves}
    max_step = max_step or max(ran.values())
    stopped = sum(e.state == EvaluationState.STOPPED for e in records)
    # evaluations still running count what they ran; failures count what they ran, twice
    full = sum(max(max_step, steps) for steps in ran.values())
    return StepsSaved(run=sum(ran.values()), full=full, max_step=max_step, stopped=stopped)


def learning_curves(records: Sequence[EvaluationRecord], reports: Sequence[ReportRecord], path: Path,
                    saved: Optional[StepsSaved] = None) -> Optional[Path]:
    """One line per evaluation (value against step); a cross where one was stopped early, the
    trainings that ran to the end in blue, the best one thicker. None without any report."""
    from hyperfleet.report.plots import _pyplot, _save

    curves = group(reports)
    if not curves:
        return None
    plt = _pyplot()
    by_id = {e.id: e for e in records}
    fig, ax = plt.subplots(figsize=(9, 5))
    done = [e for e in records if e.state == EvaluationState.DONE and e.objective is not None]
    best = max(done, key=lambda e: e.objective).id if done else None
    labelled: set[str] = set()
    for eval_id, points in curves.items():
        record = by_id.get(eval_id)
        state = record.state if record is not None else EvaluationState.RUNNING
        steps, values = zip(*points)
        kind = {EvaluationState.STOPPED: "stopped early", EvaluationState.DONE: "ran to the end"}.get(
            state, "failed or running")
        color = {"stopped early": "C3", "ran to the end": "C0"}.get(kind, "0.6")
        ax.plot(steps, values, color=color, alpha=0.9 if eval_id == best else 0.45,
                lw=2.5 if eval_id == best else 1.0, label=None if kind in labelled else kind)
        labelled.add(kind)
        if state == EvaluationState.STOPPED:
            ax.scatter([steps[-1]], [values[-1]], marker="x", color="C3", s=25, zorder=3)
    title = "Learning curves"
    if saved is not None and saved.stopped:
        title += f" ({saved.saved_fraction:.0%} of {saved.full:,} steps saved)"
    ax.set(xlabel="step (epoch)", ylabel="reported value (maximized)", title=title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return _save(fig, path)
