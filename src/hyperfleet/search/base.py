"""The two-method search core every algorithm implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Iterable, Optional

import numpy as np

from hyperfleet.pareto import pareto_mask
from hyperfleet.problem import HpProblem
from hyperfleet.problem.objectives import Outcome, OutcomeError

#: ``(config, value[, step])``; value: a number, a tuple of numbers (one per objective), a dict
#: ``{"objectives": ..., "constraints": ...}``, an :class:`Outcome`, or None (failed)
Result = tuple


class Search(ABC):
    """Base class of a search: ``ask`` for configurations, ``tell`` their objectives.

    The base class hands out the problem's starting points first, in order; the rest of an
    ``ask`` is filled by the search meanwhile, unless ``wait_for_starting_points`` (then ``ask``
    may return fewer than ``n`` configurations, even none, while starting points run). It keeps the
    history of told results (``self.history``) and the configurations asked but not yet
    told (``self.pending``). A subclass implements :meth:`_ask` and may override
    :meth:`_tell` to update a model.

    Objectives are maximized unless the problem declares them ``minimize``
    (:meth:`HpProblem.add_objective`). A result's value is a number, a tuple of numbers (one per
    objective; nothing declared: ``k`` maximized objectives), a dict ``{"objectives": [...] or
    {name: value}, "constraints": [...] or {name: value}}`` or an :class:`Outcome`; constraints
    are satisfied when ``<= 0``. A failed evaluation is told with value ``None``. A training
    stopped early (by a :class:`~hyperfleet.stop.Stopper`) is told as ``(config, last value,
    step)``, ``step`` being the step it was stopped at; ``step=None`` or a 2-tuple means trained
    to the end. ``self.history`` keeps ``(config, objective)`` pairs and ``self.stopped_at``
    the step of each stopped one (by :meth:`HpProblem.key`); :meth:`_tell` receives
    ``(config, objective, step)`` triples.

    Args:
        problem: the search space.
        seed: seed of the search's random generator, for reproducible sequences.
        wait_for_starting_points: sample only once every starting point has been evaluated
            (as the DeepHyper tutorial describes; the other workers idle meanwhile); ``False``
            (default) fills free workers at once.
    """

    #: whether proposals depend on the results told (a model-based search). The serial and
    #: thread evaluators then never queue configurations ahead of free workers, however short
    #: the evaluations, so each one is proposed knowing every result; False (random search)
    #: lets them batch short evaluations for throughput.
    learns_from_results: bool = True

    def __init__(self, problem: HpProblem, seed: Optional[int] = None,
                 wait_for_starting_points: bool = False) -> None:
        if not isinstance(problem, HpProblem):
            raise TypeError(f"problem must be an HpProblem, got {type(problem).__name__}")
        if len(problem) == 0:
            raise ValueError("the problem has no dimensions; add some with add_dim() first")
        self.problem = problem
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.history: list[tuple[dict, Any]] = []
        #: objectives per result: the declared number, else learnt from the first vector told
        self.n_objectives: Optional[int] = len(problem.objectives) or None
        self._sign = float(problem.signs(1)[0])
        self.pending: dict[tuple, dict] = {}
        self._starting_queue = list(problem.starting_points)
        self._starting_running: set[tuple] = set()
        self._evaluated: set[tuple] = set()
        self.stopped_at: dict[tuple, int] = {}
        self.wait_for_starting_points = wait_for_starting_points
        #: results told by :meth:`tell_warm_start` (the first ones of ``history``)
        self.n_warm = 0

    def ask(self, n: int = 1) -> list[dict]:
        """Return up to ``n`` new configurations to evaluate (starting points first)."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        out: list[dict] = []
        while self._starting_queue and len(out) < n:
            point = dict(self._starting_queue.pop(0))
            self._starting_running.add(self.problem.key(point))
            out.append(point)
        waiting = self.wait_for_starting_points and (self._starting_queue or self._starting_running)
        if len(out) < n and not waiting:
            out.extend(self._ask(n - len(out)))
        for config in out:
            self.pending[self.problem.key(config)] = config
        return out

    def tell(self, results: Iterable[Result]) -> None:
        """Record finished evaluations: an iterable of ``(config, objective or None)`` or
        ``(config, objective, step)`` (``step``: where an early-stopped training was stopped;
        ``None``: trained to the end)."""
        results = [self._checked(_clean_result(r)) for r in results]
        for config, _, step in results:
            key = self.problem.key(config)
            self.pending.pop(key, None)
            self._starting_running.discard(key)
            self._starting_queue = [p for p in self._starting_queue if self.problem.key(p) != key]
            if step is not None:
                self.stopped_at[key] = step
        self.history.extend((c, y) for c, y, _ in results)
        self._evaluated.update(self.problem.key(c) for c, _, _ in results)
        self._tell([(c, self._to_max(y), step) for c, y, step in results])

    @property
    def multi(self) -> bool:
        """Whether results are :class:`Outcome` vectors (several objectives, or constraints)."""
        return bool(self.problem.constraints) or (self.n_objectives or 1) > 1

    def _checked(self, result: tuple) -> tuple:
        config, y, step = result
        problem = self.problem
        scalar = not isinstance(y, (tuple, list, np.ndarray, dict, Outcome))
        if scalar and len(problem.objectives) <= 1 and not problem.constraints \
                and (self.n_objectives or 1) == 1:
            return config, _clean_objective(y), step  # today's path: a number or None
        outcome = problem.outcome(y)
        if outcome is None:
            return config, None, step
        k = len(outcome.objectives)
        if self.n_objectives is None:
            self.n_objectives = k
        elif k != self.n_objectives:
            raise OutcomeError(f"a result has {k} objective value(s), earlier ones had "
                               f"{self.n_objectives}; return the same number every time "
                               f"(or declare them with HpProblem.add_objective)")
        if k == 1 and not problem.constraints:
            return config, outcome.objectives[0], step
        return config, outcome, step

    def _to_max(self, y: Any) -> Any:
        if isinstance(y, float) and self._sign < 0:
            return -y
        return y

    def maximized(self, outcome: Outcome) -> np.ndarray:
        """An outcome's objective values with minimized ones negated (all to maximize)."""
        return np.asarray(outcome.objectives) * self.problem.signs(len(outcome.objectives))

    def pareto_front(self) -> list[tuple[dict, Any]]:
        """The told results that are feasible and non-dominated, as ``(config, value)`` pairs
        (one objective: the best ones, ties included); with several objectives, trainings
        stopped early are not on it (their vectors are not a full training's)."""
        ok = [(c, y) for c, y in self.history if y is not None
              and (not isinstance(y, Outcome) or y.feasible)
              and not (isinstance(y, Outcome) and self.problem.key(c) in self.stopped_at)]
        if not ok:
            return []
        Y = np.array([self.maximized(y) if isinstance(y, Outcome) else [self._sign * y]
                      for _, y in ok])
        return [pair for pair, on in zip(ok, pareto_mask(Y)) if on]

    def tell_warm_start(self, results: Iterable[Result]) -> None:
        """Tell the results of an earlier search (a warm start): learned from like any told
        result, never proposed again, but outside this search's budget (:attr:`n_warm`)."""
        results = list(results)
        self.tell(results)
        self.n_warm += len(results)

    def set_budget(self, max_evals: Optional[int]) -> None:
        """Told by the driver how many evaluations the search will get in all (``max_evals``);
        a search may use it to plan (AMBS refines its best results at the end). Default: ignored."""

    def mark_pending(self, configs: Iterable[dict]) -> None:
        """Record configurations as running although they were not asked here (a resumed search
        re-running what was interrupted): never proposed again, told later as usual."""
        for config in configs:
            key = self.problem.key(config)
            self.pending[key] = dict(config)
            before = len(self._starting_queue)
            self._starting_queue = [p for p in self._starting_queue if self.problem.key(p) != key]
            if len(self._starting_queue) < before:
                self._starting_running.add(key)

    @abstractmethod
    def _ask(self, n: int) -> list[dict]:
        """Propose ``n`` configurations (starting points are already handled)."""

    def _tell(self, results: list[tuple[dict, Optional[float], Optional[int]]]) -> None:
        """Update the search's model with new results, ``(config, objective, step)`` triples
        (``step`` None: a full training); default: nothing to do."""

    @property
    def evaluated_keys(self) -> set:
        """Keys (:meth:`HpProblem.key`) of every configuration told so far (do not modify)."""
        return self._evaluated


def _clean_result(result) -> tuple[dict, Optional[float], Optional[int]]:
    if len(result) == 2:
        config, y = result
        step = None
    elif len(result) == 3:
        config, y, step = result
    else:
        raise ValueError(f"a told result is (config, objective) or (config, objective, step), "
                         f"got {len(result)} items (objective: a number, a tuple of numbers, or a "
                         f"dict with 'objectives')")
    if step is not None:
        if isinstance(step, bool) or not float(step).is_integer() or step < 1:
            raise ValueError(f"the step of a stopped evaluation must be a positive integer, "
                             f"got {step!r}")
        step = int(step)
    return dict(config), y, step


def _clean_objective(y) -> Optional[float]:
    if y is None:
        return None
    try:
        y = float(y)
    except (TypeError, ValueError):
        return None
    return y if np.isfinite(y) else None


def parse_bool(name: str, value: Any) -> bool:
    """``True``/``False`` or the text true/false/yes/no/1/0, else a ValueError naming the setting."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off"):
        return False
    raise ValueError(f"setting '{name}': needs true or false (got {value!r})")
