"""How a driver continues a search from what the store holds (``resume``, a batch job's restart,
a driver taking over from dead ones): the finished evaluations are told to the search and
counted, the interrupted ones re-run (``--running rerun``) or failed, the stopper replayed."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from hyperfleet.driver_objectives import told
from hyperfleet.store import EvaluationRecord, EvaluationState

if TYPE_CHECKING:
    from hyperfleet.driver import Driver

logger = logging.getLogger("hyperfleet")


def take_over(d: "Driver", history: list[EvaluationRecord]) -> None:
    """Continue ``d``'s search from ``history`` (every evaluation the store holds for it)."""
    if not history:
        return
    replayed = d.reports.replay(history, [e.id for e in history if d._is_starting_point(e.config)])
    if replayed and d.reports.live:
        logger.info("resumed the stopper from %d recorded intermediate values", replayed)
    d._next_number = max(e.number for e in history) + 1
    finished = sorted((e for e in history if e.state.finished and e.state != EvaluationState.CANCELLED),
                      key=lambda e: (e.end_time or 0, e.number))
    for record in finished:
        d.stats.submitted += 1
        d._count(record)
    interrupted = [e for e in history if not e.state.finished]
    if d.shared is not None:  # what the other drivers run now is theirs; the dead drivers' is ours
        interrupted = d.shared.start_from(history)
    now = time.time()
    if d._rerun_running:
        updates = [(e.id, {"state": EvaluationState.CANCELLED, "end_time": now,
                           "error": "the driver stopped while this evaluation ran; it was re-run"})
                   for e in interrupted]
        for e, (_, fields) in zip(interrupted, updates):
            e.state = EvaluationState.CANCELLED
            fields.update(d.reports.finished(e, None))
        d._buffer = [e.config for e in interrupted] + d._buffer
        d.search.mark_pending(e.config for e in interrupted)
    else:
        updates = [(e.id, {"state": EvaluationState.FAILED, "end_time": now,
                           "error": "the driver stopped while this evaluation ran"}) for e in interrupted]
        for e, (_, fields) in zip(interrupted, updates):
            e.state = EvaluationState.FAILED
            fields.update(d.reports.finished(e, None))
    if d.shared is not None:  # another driver may be recovering the same: only what this one won
        won = set(d.store.finish_evaluations(d.record.id, updates, only_running=True))
        d.shared.view.taken.update(won)
        interrupted = [e for e in interrupted if e.id in won]
        updates = [u for u in updates if u[0] in won]
        if d._rerun_running:
            d._buffer = [e.config for e in interrupted]
    else:
        d.store.update_evaluations(updates)
    if not d._rerun_running:  # failed now: they get their rows in results.csv like any failure
        for e in interrupted:
            e.state, e.end_time, e.error = EvaluationState.FAILED, now, updates[0][1]["error"]
    appended = d.csv.catch_up(finished + ([] if d._rerun_running else interrupted))
    told_now = [told(e, d.problem) for e in finished]
    if not d._rerun_running:
        told_now += [(e.config, None) for e in interrupted]
        d.stats.submitted += len(interrupted)
        d.stats.failed += len(interrupted)
    d.search.tell(told_now)
    logger.info("resumed: %d finished evaluations kept (%d rows added to results.csv), %d interrupted %s",
                len(finished), appended, len(interrupted), "re-run" if d._rerun_running else "failed")

