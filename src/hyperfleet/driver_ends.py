"""The driver's side of evaluations that end: their records, counts and log lines, the store's
update, and the cancelling of what still runs when the search stops."""

from __future__ import annotations

import logging
import time

from hyperfleet.driver_objectives import check_outcome, is_better
from hyperfleet.execute import EvalOutcome
from hyperfleet.execute.limits import clean_outcome
from hyperfleet.store import EvaluationRecord, EvaluationState

logger = logging.getLogger("hyperfleet")


class Ending:
    """Methods of :class:`~hyperfleet.driver.Driver` (a mixin: it uses the driver's attributes)."""

    def _record_ends(self, outcomes: list[EvalOutcome]) -> tuple[list[EvaluationRecord], list[tuple[str, dict]]]:
        """The finished evaluations and their updates for the store (written by the caller)."""
        finished, updates = [], []
        now = time.time()
        # in finish order, so that the stopper hears of the ends in an order resume can replay
        outcomes = sorted(outcomes, key=lambda o: (o.end_time or now,
                                                   getattr(self._running.get(o.eval_id), "number", 0)))
        for outcome in outcomes:
            record = self._running.pop(outcome.eval_id, None)
            if record is None:
                continue
            outcome = clean_outcome(outcome)  # one unstorable result must not take the batch down
            outcome, vector = check_outcome(self.problem, outcome, self.search.n_objectives)
            if vector and not self.problem.objectives and len(vector["objectives"]) > 1:
                self._learn_objectives(len(vector["objectives"]))
            record.state = EvaluationState(outcome.state)
            record.objective = outcome.objective
            vector = vector or {}
            record.objectives = vector.get("objectives")
            record.constraints = vector.get("constraints")
            record.feasible = vector.get("feasible")
            record.metadata = {**record.metadata, **outcome.metadata}
            self._release(record.id)
            record.error = outcome.error
            record.start_time, record.end_time = outcome.start_time, outcome.end_time or now
            record.worker, record.host = outcome.worker, outcome.host
            steps = self.reports.finished(record, outcome)
            updates.append((record.id, dict(state=record.state, objective=record.objective,
                                            objectives=record.objectives,
                                            constraints=record.constraints, feasible=record.feasible,
                                            metadata=record.metadata, error=record.error,
                                            start_time=record.start_time, end_time=record.end_time,
                                            worker=record.worker, host=record.host, **steps)))
            self.stats.running -= 1
            self._count(record)
            finished.append(record)
        if not finished:
            return finished, updates
        self.reports.flush(force=True)  # an evaluation's values are in the store before its end
        finished.sort(key=lambda r: r.end_time)
        return finished, updates

    def _end(self, updates: list[tuple[str, dict]]) -> None:
        """Record evaluations' ends (with other drivers: in the order they ended, for their cursor)."""
        if self.shared is not None:
            self.store.finish_evaluations(self.record.id, updates)
        else:
            self.store.update_evaluations(updates)

    def _count(self, record: EvaluationRecord) -> None:
        """Count a finished evaluation in the stats (done or failed, best so far) and log it."""
        if record.state == EvaluationState.DONE:
            self.stats.done += 1
            if is_better(self.problem, record, self.stats.best):
                self.stats.best, self.stats.best_record = record.objective, record
            logger.info("evaluation %d done: objective %r", record.number, record.objective)
        elif record.state == EvaluationState.STOPPED:
            self.stats.stopped += 1
            logger.info("evaluation %d stopped early at step %s: last value %r", record.number,
                        record.last_step, record.objective)
        else:
            self.stats.failed += 1
            first_line = (record.error or "").splitlines()[0] if record.error else ""
            self._last_error = first_line
            logger.warning("evaluation %d %s: %s", record.number, record.state.value.lower(), first_line)

    def _release(self, eval_id: str) -> None:
        for pool, ids in self._held.pop(eval_id, []):
            pool.release(ids)

    def _cancel_running(self) -> None:
        why = "cancelled: the search stopped before it finished"
        if self._finished_without_drain:
            why = (f"cancelled: {self.max_evals} evaluations had finished (max_evals) and the search "
                   f"runs without a drain")
        for eval_id, record in list(self._running.items()):
            self.executor.cancel(eval_id)
            self._release(eval_id)
            record.state = EvaluationState.CANCELLED
            steps = self.reports.finished(record, None)
            self.reports.flush(force=True)
            self._end([(eval_id, dict(state=EvaluationState.CANCELLED, end_time=time.time(), error=why, **steps))])
            self.stats.running -= 1
            logger.info("evaluation %d cancelled", record.number)
        self._running.clear()

    def _learn_objectives(self, k: int) -> None:
        """Nothing declared and a first result of ``k`` values: the problem gets ``k`` maximized
        objectives ``objective_0`` ... (recorded in the store, results.csv gets their columns)."""
        for name in self.problem.names_for(k):
            self.problem.add_objective(name)
        self.store.update_search(self.record.id, problem=self.problem.to_dict())
        self.csv.reheader()
        logger.info("the run function returned %d values: objectives %s, maximized", k,
                    ", ".join(self.problem.objective_names))
