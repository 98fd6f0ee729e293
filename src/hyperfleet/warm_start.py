"""Warm start: a new search learns from an earlier search's finished results before it starts.

The earlier search's DONE evaluations (and STOPPED ones, with the step they reached) are *told*
to the new search: not re-run, not counted in its budget, not rows of its store or its
``results.csv``. The space may have changed since; each result is fitted to the new problem:

* a dimension the new problem dropped: its value is dropped;
* a dimension the new problem added: its ``default`` (``add_dim(..., default=...)``: the value
  the earlier trainings used, in effect); a result that needs a value for an added dimension
  without a default is dropped (a made-up value would teach the search a wrong objective);
* a value outside the new range or choices (a narrowed range), a configuration the new
  conditions make incomplete, or one a new forbidden clause excludes: the result is dropped;
* a value the new conditions make inactive: dropped from the configuration.

One line says how many results were kept and what was dropped and why. The source (its id and
the last evaluation number read) is recorded in the new search's settings under ``warm_start``,
so ``resume`` tells the same results again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Optional

from hyperfleet.problem import HpProblem
from hyperfleet.store import EvaluationState, Store, StoreError


@dataclass(frozen=True)
class WarmStart:
    """The results of an earlier search, fitted to a new problem."""

    #: what the new search's settings record (``{"search", "label", "upto", "told", "dropped"}``)
    setting: dict
    #: ``(config, objective, step)`` triples to tell (step None: trained to the end)
    results: list = field(default_factory=list)
    #: the one-line summary
    line: str = ""

    def tell(self, search) -> None:
        """Tell the results to ``search`` as a warm start (outside its budget)."""
        search.tell_warm_start(self.results)


def load_warm_start(store: Store, ref: str, problem: HpProblem, upto: Optional[int] = None) -> WarmStart:
    """The finished results of the search ``ref`` (label or id prefix) fitted to ``problem``.

    Args:
        store: the store holding the earlier search.
        ref: its label (the latest with it) or an id prefix.
        problem: the new search's problem.
        upto: read evaluations numbered up to this only (``resume``: the ones read at the start).

    Raises:
        ValueError: when no search matches ``ref``.
    """
    try:
        source = store.resolve_search(str(ref))
    except StoreError as err:
        raise ValueError(f"--warm-start {ref}: {err}") from None
    old = HpProblem.from_dict(source.problem)
    records = store.list_evaluations(source.id, [EvaluationState.DONE, EvaluationState.STOPPED])
    if upto is not None:
        records = [r for r in records if r.number <= upto]
    results, reasons = [], Counter()
    for r in records:
        config, why = fit(r.config, problem)
        if config is None:
            reasons[why] += 1
            continue
        step = r.last_step if r.state == EvaluationState.STOPPED else None
        results.append((config, r.objective, step))
    dropped_columns = [n for n in old.names if n not in problem.names]
    last = max((r.number for r in records), default=0)
    setting = {"search": source.id, "label": source.label, "upto": last, "told": len(results),
               "dropped": sum(reasons.values())}
    return WarmStart(setting, results, summary(source.label, len(results), reasons, dropped_columns))


def fit(config: dict, problem: HpProblem) -> tuple[Optional[dict], str]:
    """``config`` as a configuration of ``problem`` (``(None, reason)`` when it does not fit)."""
    cfg = {k: v for k, v in config.items() if k in problem.space}
    for _ in range(len(problem.dims) + 1):  # filling a parent may activate its children
        active = set(problem.active_names(cfg)) if problem.rules.conditions else set(problem.names)
        changed = False
        for name in problem.names:
            if name in active and name not in cfg:
                default = problem.space[name].default  # type: ignore[attr-defined]
                if default is None:
                    return None, f"no value for the new dimension '{name}' (give it a default)"
                cfg[name] = default
                changed = True
            elif name not in active and name in cfg:
                del cfg[name]
                changed = True
        if not changed:
            break
    for name, value in cfg.items():
        try:
            problem.space[name].validate(value)
        except ValueError:
            return None, f"outside the new range of '{name}'"
    if problem.is_forbidden(cfg):
        return None, "forbidden by the new clauses"
    try:
        return problem.validate(cfg, what="warm-start result"), ""
    except ValueError as err:
        return None, str(err)


def summary(label: str, kept: int, reasons: Counter, dropped_columns: list) -> str:
    """``warm start: 40 results from LABEL (dropped 3: 3 outside the new range of 'lr'; ...)``."""
    line = f"warm start: {kept} result{'s' if kept != 1 else ''} from {label}"
    notes = []
    if reasons:
        detail = ", ".join(f"{n} {why}" for why, n in reasons.most_common())
        notes.append(f"dropped {sum(reasons.values())}: {detail}")
    if dropped_columns:
        notes.append(f"column{'s' if len(dropped_columns) > 1 else ''} "
                     f"{', '.join(repr(c) for c in dropped_columns)} not in the new problem, ignored")
    return line + (f" ({'; '.join(notes)})" if notes else "")
