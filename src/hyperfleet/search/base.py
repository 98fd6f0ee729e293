"""The two-method search core every algorithm implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Iterable, Optional

import numpy as np

from hyperfleet.problem import HpProblem

Result = tuple  # (config: dict, objective: float | None)


class Search(ABC):
    """Base class of a search: ``ask`` for configurations, ``tell`` their objectives.

    The base class hands out the problem's starting points first, in order, and by default
    samples nothing until they have all been told (so ``ask`` may return fewer than ``n``
    configurations, even none, while starting points are running). It keeps the
    history of told results (``self.history``) and the configurations asked but not yet
    told (``self.pending``). A subclass implements :meth:`_ask` and may override
    :meth:`_tell` to update a model.

    Objectives are maximized. A failed evaluation is told with objective ``None``.

    Args:
        problem: the search space.
        seed: seed of the search's random generator, for reproducible sequences.
        wait_for_starting_points: sample only once every starting point has been evaluated
            (as the DeepHyper tutorial describes); ``False`` fills free workers at once.
    """

    def __init__(self, problem: HpProblem, seed: Optional[int] = None,
                 wait_for_starting_points: bool = True) -> None:
        if not isinstance(problem, HpProblem):
            raise TypeError(f"problem must be an HpProblem, got {type(problem).__name__}")
        if len(problem) == 0:
            raise ValueError("the problem has no dimensions; add some with add_dim() first")
        self.problem = problem
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.history: list[tuple[dict, Optional[float]]] = []
        self.pending: dict[tuple, dict] = {}
        self._starting_queue = list(problem.starting_points)
        self._starting_running: set[tuple] = set()
        self._evaluated: set[tuple] = set()
        self.wait_for_starting_points = wait_for_starting_points

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
        ``(config, last value, step)`` for one stopped early (stub: the step is dropped)."""
        results = [(dict(r[0]), _clean_objective(r[1])) for r in results]
        for config, _ in results:
            self.pending.pop(self.problem.key(config), None)
            self._starting_running.discard(self.problem.key(config))
            self._starting_queue = [p for p in self._starting_queue
                                    if self.problem.key(p) != self.problem.key(config)]
        self.history.extend(results)
        self._evaluated.update(self.problem.key(c) for c, _ in results)
        self._tell(results)

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

    def _tell(self, results: list[Result]) -> None:
        """Update the search's model with new results (default: nothing to do)."""

    @property
    def evaluated_keys(self) -> set:
        """Keys (:meth:`HpProblem.key`) of every configuration told so far (do not modify)."""
        return self._evaluated


def _clean_objective(y) -> Optional[float]:
    if y is None:
        return None
    try:
        y = float(y)
    except (TypeError, ValueError):
        return None
    return y if np.isfinite(y) else None
