"""The stopper plug point: decide, report by report, whether a training should go on.

A :class:`Stopper` sees the learning curves of the running evaluations (``report``), learns when
they end (``finish``) and never stops the ones it is told to ``protect`` (starting points). It is
the search's neighbour, not part of it (Ray Tune's Searcher / TrialScheduler split): any stopper
works with any search. Values are maximized, like the objective.

A subclass declares its settings as a frozen dataclass ``Settings`` (validated in
``Settings.__post_init__``) and implements :meth:`Stopper._decide`; the base class checks the
reports, keeps the curves, honours ``protect`` and makes a stop final.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar, Optional

import numpy as np


class Curve:
    """The learning curve of one evaluation, as the stopper has seen it.

    Attributes:
        steps, values: the reports, in order (steps strictly increasing).
        best: the best value reported so far (one objective; -inf for vectors).
        stopped: the stopper told it to stop (``report`` returned False).
        finished: ``finish`` was called; ``completed``: it finished without being stopped and
            with at least one report (its last value counts as a full training's final value).
        protected: never stopped (a starting point).
    """

    __slots__ = ("eval_id", "steps", "values", "best", "stopped", "finished", "completed",
                 "protected", "order", "data")

    def __init__(self, eval_id: str, order: int) -> None:
        self.eval_id = eval_id
        self.steps: list[int] = []
        self.values: list[float] = []
        self.best = -math.inf
        self.stopped = False
        self.finished = False
        self.completed = False
        self.protected = False
        self.order = order  # arrival rank: for deterministic per-evaluation choices
        self.data: Any = None  # a subclass's per-curve state

    @property
    def last_step(self) -> int:
        return self.steps[-1] if self.steps else 0

    @property
    def last_value(self) -> float:
        return self.values[-1]


@dataclass(frozen=True)
class NoSettings:
    """A stopper without settings."""


class Stopper:
    """Base class of a stopper; see the module docstring.

    Args:
        seed: seed of the stopper's random choices (same seed and same calls: same decisions).
        settings: the fields of the subclass's ``Settings`` dataclass, by keyword; numbers given
            as strings are converted.

    Raises:
        ValueError: one line naming the setting, for an unknown setting or a bad value.
    """

    name: ClassVar[str] = ""
    Settings: ClassVar[type] = NoSettings
    #: whether decisions compare an evaluation with the others (False: a rule on its own curve)
    compares_curves: ClassVar[bool] = True
    #: whether reports may carry several objectives (``moasha``); False: one number per report
    multi_objective: ClassVar[bool] = False

    def __init__(self, *, seed: Optional[int] = None, **settings: Any) -> None:
        self.seed = seed
        self.settings = parse_settings(self.name or type(self).__name__, self.Settings, settings)
        self.rng = np.random.default_rng(seed)
        self.curves: dict[str, Curve] = {}
        self._protected: set[str] = set()

    # ----- the interface the driver calls ------------------------------------------------
    @property
    def max_step(self) -> Optional[int]:
        """The full training's step count if the settings give it, else None."""
        return getattr(self.settings, "max_step", None)

    def report(self, eval_id: str, step: int, value: float) -> bool:
        """Record ``value`` at ``step`` of evaluation ``eval_id``; True: continue, False: stop it now.

        A stop is final: later reports of the same evaluation return False. A report arriving
        after :meth:`finish` is ignored (False).

        Raises:
            ValueError: a value that is not a finite number, a step that is not a positive
                integer or does not increase (nothing is recorded then).
        """
        step = _check_step(eval_id, step)
        value = self.check_value(eval_id, value)
        curve = self.curves.get(eval_id)
        if curve is None:
            curve = self.curves[eval_id] = Curve(eval_id, len(self.curves))
            curve.protected = eval_id in self._protected
            self._on_new(curve)
        if curve.finished:
            return False
        if curve.steps and step <= curve.steps[-1]:
            raise ValueError(f"evaluation {eval_id}: step {step} does not increase (the last "
                             f"report was at step {curve.steps[-1]}); report steps 1, 2, 3, ...")
        curve.steps.append(step)
        curve.values.append(value)
        if isinstance(value, float) and value > curve.best:
            curve.best = value
        if curve.stopped:
            return False
        go = bool(self._decide(curve, step, value)) or curve.protected
        if not go:
            curve.stopped = True
        return go

    def finish(self, eval_id: str, *, stopped: bool) -> None:
        """Evaluation ``eval_id`` ended: completed (``stopped=False``), stopped early (True), or
        failed (call with ``stopped=False``; without reports it leaves no trace)."""
        curve = self.curves.get(eval_id)
        if curve is None or curve.finished:
            return
        curve.finished = True
        curve.stopped = curve.stopped or bool(stopped)
        curve.completed = not curve.stopped and bool(curve.steps)
        self._on_finish(curve)

    def protect(self, eval_id: str) -> None:
        """Never stop this evaluation (a starting point); its reports still inform the others."""
        self._protected.add(eval_id)
        if eval_id in self.curves:
            self.curves[eval_id].protected = True

    def check_value(self, eval_id: str, value: Any) -> Any:
        """A reported value as the stopper keeps it (here: a finite float), or ValueError in one
        line; a multi-objective stopper overrides it to accept vectors."""
        return _check_value(eval_id, value)

    # ----- what a subclass implements ----------------------------------------------------
    def _decide(self, curve: Curve, step: int, value: float) -> bool:
        """Whether ``curve`` (its new report already appended) should go on. Called for every
        report until the curve is stopped, protected ones included (return value then ignored),
        so a subclass can record what the others are compared with."""
        raise NotImplementedError

    def _on_new(self, curve: Curve) -> None:
        """A first report of a new evaluation arrives (before it is recorded)."""

    def _on_finish(self, curve: Curve) -> None:
        """``curve`` just finished (its flags are set)."""

    def __repr__(self) -> str:
        fields = ", ".join(f"{f.name}={getattr(self.settings, f.name)!r}"
                           for f in dataclasses.fields(self.settings))
        return f"{type(self).__name__}({fields})"


# ----- validation helpers ----------------------------------------------------------------------
def parse_settings(stopper: str, cls: type, given: dict[str, Any]) -> Any:
    """Build ``cls`` (a settings dataclass) from keywords, converting numbers given as strings.

    Raises:
        ValueError: one line for an unknown setting (listing the known ones) or a bad value.
    """
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(k for k in given if k not in known)
    if unknown:
        listed = ", ".join(sorted(known)) or "none"
        raise ValueError(f"stopper '{stopper}': unknown setting {unknown[0]!r}; its settings "
                         f"are: {listed}")
    values = {k: _convert(stopper, k, str(known[k].type), v) for k, v in given.items()}
    try:
        return cls(**values)
    except TypeError as exc:  # a required setting is missing
        missing = [f.name for f in dataclasses.fields(cls)
                   if f.name not in values and f.default is dataclasses.MISSING]
        raise ValueError(f"stopper '{stopper}': needs the setting {missing[0]!r} "
                         f"(--stopper-setting {missing[0]}=VALUE)" if missing else str(exc)) from None


def bad_setting(stopper: str, name: str, why: str, value: Any) -> ValueError:
    """The one-line error for a setting with a bad value."""
    return ValueError(f"stopper '{stopper}' setting '{name}': {why} (got {value!r})")


def _convert(stopper: str, name: str, kind: str, value: Any) -> Any:
    optional = "None" in kind or kind.startswith("Optional")
    kind = kind.removeprefix("Optional[")
    if value is None or (isinstance(value, str) and value.strip().lower() in ("none", "")):
        if optional:
            return None
        raise bad_setting(stopper, name, "needs a value", value)
    if kind.startswith("bool"):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off"):
            return False
        raise bad_setting(stopper, name, "needs true or false", value)
    if kind.startswith("int"):
        try:
            number = float(value)
            if isinstance(value, bool) or not number.is_integer():
                raise ValueError
            return int(number)
        except (TypeError, ValueError):
            raise bad_setting(stopper, name, "needs an integer", value) from None
    if kind.startswith("float"):
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
            if not math.isfinite(number):
                raise ValueError
            return number
        except (TypeError, ValueError):
            raise bad_setting(stopper, name, "needs a finite number", value) from None
    return value.strip().lower() if isinstance(value, str) else value


def _check_step(eval_id: str, step: Any) -> int:
    if isinstance(step, (bool, np.bool_)) or not isinstance(step, (int, np.integer)):
        if isinstance(step, (float, np.floating)) and float(step).is_integer():
            step = int(step)
        else:
            raise ValueError(f"evaluation {eval_id}: step must be a positive integer, got {step!r}")
    step = int(step)
    if step < 1:
        raise ValueError(f"evaluation {eval_id}: step must be a positive integer, got {step}")
    return step


def _check_value(eval_id: str, value: Any) -> float:
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"evaluation {eval_id}: the reported value must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"evaluation {eval_id}: the reported value must be a number, "
                         f"got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"evaluation {eval_id}: the reported value must be finite, got {number}")
    return number
