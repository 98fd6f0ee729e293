"""The driver's side of intermediate values: executor reports -> store (batched) -> stopper -> decision.

:class:`ReportRouter` is the executor's report handler. Every value gets ``seq``, its place among
all the values of the search, and every finished evaluation records ``finish_seq`` (how many
values had arrived when it ended), so that :meth:`ReportRouter.replay` feeds a new stopper the
calls of the old one in their order on ``resume``: its decisions after a crash are the ones the
old one would have made (up to the values received in the last second before the crash, which
were not written yet).

Starting points are protected (never stopped): the stopper's ``protect`` is called just before
its first call about that evaluation, live and in the replay alike.

With several objectives a report carries them all (:mod:`hyperfleet.driver_report_values`); a
stopped evaluation keeps its last reported vector. A report that does not fit the problem or
the stopper (a wrong count, one number where several are due) is not recorded: the evaluation
is told to stop and ends FAILED with one line saying why; its earlier reports are kept.
"""

from __future__ import annotations

import logging
import time
from typing import Iterable, Optional, Sequence

from hyperfleet.driver_report_values import BadReport, CheckedReport, ReportValues
from hyperfleet.execute import EvalOutcome
from hyperfleet.store import EvaluationRecord, EvaluationState, ReportRecord, Store

logger = logging.getLogger("hyperfleet")

_FLUSH_EVERY_S = 1.0
_FLUSH_AT = 500


class ReportRouter:
    """Records intermediate values and asks the stopper (``None``: record only) about each.

    Args:
        store: where the values go (the driver's store; only the driver's thread calls this).
        search_id: the search.
        stopper: a :class:`hyperfleet.stop.Stopper`, or None.
        problem: the search's problem (its objectives and constraints check vector reports).
    """

    def __init__(self, store: Store, search_id: str, stopper=None, problem=None) -> None:
        self.store = store
        self.search_id = search_id
        self.stopper = stopper
        self.values = ReportValues(problem, stopper)
        #: evaluations whose report did not fit: the line their record's error gets
        self.bad: dict[str, str] = {}
        self.seq = 0
        self.steps_run = 0  # steps reported in this search (all drivers together)
        self._pending: list[ReportRecord] = []
        self._flushed_at = time.monotonic()
        self._last: dict[str, tuple[int, CheckedReport]] = {}
        self._to_protect: set[str] = set()
        self.told_to_stop: set[str] = set()

    @property
    def live(self) -> bool:
        """Tasks must send their reports live (there is a stopper to answer them)."""
        return self.stopper is not None

    def launched(self, eval_id: str, protect: bool) -> None:
        """A new evaluation; ``protect``: a starting point, never to be stopped."""
        if protect and self.stopper is not None:
            self._to_protect.add(eval_id)

    def _protect(self, eval_id: str) -> None:
        if eval_id in self._to_protect:
            self._to_protect.discard(eval_id)
            self.stopper.protect(eval_id)

    # ----- values as they come --------------------------------------------------------------
    def on_report(self, eval_id: str, step: int, value, when: float) -> bool:
        """The executor's report handler: record, ask the stopper, answer."""
        if eval_id in self.bad:
            return False
        try:
            report = self.values.check(value)
        except BadReport as err:
            return self._bad(eval_id, step, err)
        self._add(eval_id, step, report, when)
        go = True
        if self.stopper is not None:
            self._protect(eval_id)
            try:
                go = bool(self.stopper.report(eval_id, step, report.for_stopper))
            except ValueError as err:
                return self._bad(eval_id, step, err)
            if not go:
                self.told_to_stop.add(eval_id)
                logger.info("evaluation %s told to stop at step %d (value %r)", eval_id, step, value)
        self.flush()
        return go

    def _bad(self, eval_id: str, step: int, err: Exception) -> bool:
        """A report that does not fit: the evaluation stops and will end FAILED."""
        self.bad[eval_id] = f"bad report at step {step}: {err}"
        logger.warning("evaluation %s: %s; it is stopped and marked failed", eval_id, self.bad[eval_id])
        return False

    def _add(self, eval_id: str, step: int, report: CheckedReport, when: float) -> None:
        self.seq += 1
        self.steps_run += 1
        self._pending.append(ReportRecord(eval_id, self.seq, step, report.value, when,
                                          report.objectives, report.constraints))
        self._last[eval_id] = (step, report)

    def flush(self, force: bool = False) -> None:
        """Write the values received (at most every second, or every 500, or when forced)."""
        if not self._pending:
            return
        if force or len(self._pending) >= _FLUSH_AT or time.monotonic() - self._flushed_at >= _FLUSH_EVERY_S:
            self.store.add_reports(self.search_id, self._pending)
            self._pending = []
            self._flushed_at = time.monotonic()

    # ----- the end of an evaluation -----------------------------------------------------------
    def finished(self, record: EvaluationRecord, outcome: Optional[EvalOutcome]) -> dict:
        """``record`` ended (``outcome``: how; None when the driver cancelled it): record the values
        that came with the outcome, settle STOPPED, tell the stopper. Returns the store fields to set."""
        for step, value, when in (outcome.reports if outcome is not None else ()):
            try:
                self._add(record.id, step, self.values.check(value), when)
            except BadReport as err:
                self.bad.setdefault(record.id, f"bad report at step {step}: {err}")
        last = self._last.pop(record.id, None)
        if outcome is not None and outcome.last_step is not None:
            record.last_step = outcome.last_step
        elif last is not None:
            record.last_step = last[0]
        bad = self.bad.pop(record.id, None)
        if bad is not None:
            if record.state != EvaluationState.FAILED or not record.error:
                record.error = bad
            record.state = EvaluationState.FAILED
            record.objective = record.objectives = record.constraints = record.feasible = None
        if record.state == EvaluationState.STOPPED and last is not None:
            if record.objective is None:
                record.objective = last[1].value
            if record.objectives is None and last[1].objectives is not None:
                # stopped early: its last reported vector, kept but off the Pareto front
                record.objectives, record.constraints = last[1].objectives, last[1].constraints
                record.feasible = last[1].feasible
        record.finish_seq = self.seq
        self.told_to_stop.discard(record.id)
        if self.stopper is not None:
            self._protect(record.id)
            self.stopper.finish(record.id, stopped=record.state == EvaluationState.STOPPED)
        return {"last_step": record.last_step, "finish_seq": record.finish_seq}

    # ----- resume -------------------------------------------------------------------------------
    def replay(self, history: Sequence[EvaluationRecord], protected: Iterable[str]) -> int:
        """Rebuild from the store: the ``seq`` counter, and the stopper's state by replaying the
        recorded values and ends in their order. Returns how many values were replayed."""
        reports = self.store.list_reports(self.search_id)
        self.seq = max((r.seq for r in reports), default=0)
        self.seq = max([self.seq, *(e.finish_seq or 0 for e in history)])
        self.steps_run = len(reports)
        open_ids = {e.id for e in history if not e.state.finished}
        for r in reports:  # the interrupted ones' last steps, for their record when they are settled
            if r.evaluation_id in open_ids:
                self._last[r.evaluation_id] = (r.step, self._stored(r))
        if self.stopper is None:
            return len(reports)
        self._to_protect.update(protected)
        ends = sorted((e for e in history if e.state.finished and e.finish_seq is not None),
                      key=lambda e: (e.finish_seq, e.end_time or 0, e.number))
        events = [((r.seq, 0, i), r) for i, r in enumerate(reports)]
        events += [((e.finish_seq, 1, i), e) for i, e in enumerate(ends)]
        for _, item in sorted(events, key=lambda event: event[0]):
            if isinstance(item, ReportRecord):
                self._protect(item.evaluation_id)
                try:
                    self.stopper.report(item.evaluation_id, item.step, self._stored(item).for_stopper)
                except ValueError:  # recorded without a stopper that takes it: it ranks the rest
                    logger.debug("resume: report %d not replayed", item.seq)
            else:
                self._protect(item.id)
                self.stopper.finish(item.id, stopped=item.state == EvaluationState.STOPPED)
        return len(reports)

    def _stored(self, r: ReportRecord) -> CheckedReport:
        """A recorded report as it was checked live."""
        if r.objectives is None:
            try:
                return CheckedReport(r.value, for_stopper=self.values.check(r.value).for_stopper)
            except BadReport:
                return CheckedReport(r.value, for_stopper=r.value)
        self.values.n_objectives = len(r.objectives)
        return self.values.checked(list(r.objectives),
                                   None if r.constraints is None else list(r.constraints))

    def last_of(self, eval_id: str) -> Optional[tuple[int, float]]:
        """The last ``(step, value)`` received live from a running evaluation (``value``: the
        first objective's)."""
        last = self._last.get(eval_id)
        return None if last is None else (last[0], last[1].value)
