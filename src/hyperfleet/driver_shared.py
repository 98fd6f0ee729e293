"""Several drivers on one search: this driver's membership, and what it learns from the others.

Every driver of a search, the first one included, is a *member*: a row of the store's
``drivers`` table with its own lease, renewed every :data:`~hyperfleet.driver_lifecycle.HEARTBEAT_S`
seconds by a small thread (:class:`Membership`). The first driver also holds the search's claim
(:class:`~hyperfleet.driver_lifecycle.DriverClaim`), so a second plain ``resume`` is still refused;
the others *join* (``hyperfleet search --join LABEL``).

Each driver proposes for its own workers from every result recorded so far. Once a cycle it reads
what the other drivers created or finished since it last looked (:class:`SharedView`, a cursor
on evaluation numbers and on ``done_seq``, the order evaluations ended in): their results are
told to its search, their running configurations marked pending in it. An evaluation slot is
reserved in the store, atomically, before anything runs (the budget holds across drivers; a
configuration already running or evaluated is refused while the space has unseen points). A
driver found dead (same host: at once; elsewhere: once its lease expired) is marked LOST by the
first driver to notice, which re-runs what it left RUNNING.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from typing import Optional, Sequence

from hyperfleet.driver_lifecycle import HEARTBEAT_S, LEASE_S
from hyperfleet.driver_objectives import told
from hyperfleet.problem import HpProblem
from hyperfleet.process_identity import liveness, this_process
from hyperfleet.store import (
    EvaluationRecord,
    EvaluationState,
    MemberRecord,
    MemberState,
    SearchRecord,
    SearchState,
    StoreError,
)
from hyperfleet.store.members import Reservation

logger = logging.getLogger("hyperfleet")

#: how many proposals in a row may be configurations another driver already has, before one is
#: run anyway (the space may have no unseen point left)
DUPLICATE_TRIES = 3


def config_key(problem: HpProblem, config: dict) -> str:
    """A short digest of :meth:`HpProblem.key` of ``config``: equal for configurations the
    problem takes for the same point."""
    return hashlib.sha1(json.dumps(problem.key(config), default=str).encode()).hexdigest()


def member_liveness(member: MemberRecord, now: Optional[float] = None) -> str:
    """``"alive"``, ``"dead"`` or ``"unknown"`` (another host, lease valid) for a RUNNING member."""
    if member.state != MemberState.RUNNING:
        return "dead"
    state = liveness(member.host, member.pid, member.started, member.boot_id)
    if state == "unknown" and member.lease_expires is not None \
            and member.lease_expires < (now if now is not None else time.time()):
        return "dead"
    return state


class Membership:
    """This process's row among the drivers of a search, with the heartbeat that renews its lease.

    :attr:`lost` turns true when another driver found this one dead (its lease had expired) and
    took over its evaluations: it must write nothing more. :attr:`cancelled` turns true when the
    search was cancelled (``hyperfleet cancel`` of a search whose drivers run elsewhere too).
    """

    def __init__(self, store, record: SearchRecord, member: MemberRecord) -> None:
        self.store = store
        self.record = record
        self.member = member
        self.id = member.id
        self.lost = False
        self.cancelled = False
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    @classmethod
    def join(cls, store, record: SearchRecord, role: str, workers: Optional[int] = None) -> "Membership":
        """Register this process as a driver of ``record`` (``role``: ``"primary"`` or ``"member"``)."""
        me = this_process()
        member = store.add_member(record.id, role, LEASE_S, host=me.host, pid=me.pid, started=me.started,
                                  boot_id=me.boot_id, workers=workers)
        membership = cls(store, record, member)
        membership._thread = threading.Thread(target=membership._beat, name="hyperfleet-member", daemon=True)
        membership._thread.start()
        return membership

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            try:
                if not self.store.renew_member(self.id, LEASE_S):
                    self.lost = True
                    logger.error("search %s: another driver found this one dead and took over its "
                                 "evaluations", self.record.id)
                    return
                if self.store.get_search(self.record.id).state == SearchState.CANCELLED:
                    self.cancelled = True
            except (StoreError, OSError) as err:
                logger.warning("cannot renew this driver's lease on search %s: %s", self.record.id, err)

    def leave(self, state: MemberState = MemberState.LEFT) -> None:
        """Stop the heartbeat and record that this driver ended."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=HEARTBEAT_S)
        if self.lost:
            return
        try:
            self.store.end_member(self.id, state)
        except StoreError as err:  # its lease expires by itself
            logger.info("cannot record the end of driver %s: %s", self.id[:8], err)

    def others_running(self) -> list[MemberRecord]:
        """The other drivers of the search that still run (as far as can be told)."""
        return [m for m in self.store.list_members(self.record.id, [MemberState.RUNNING])
                if m.id != self.id and member_liveness(m) != "dead"]


class SharedView:
    """What this driver knows of the other drivers' evaluations, read by a cursor each cycle."""

    def __init__(self, store, search_id: str, member_id: str) -> None:
        self.store = store
        self.search_id = search_id
        self.member_id = member_id
        self.number_after = -1
        self.seq_after = 0
        self.running: dict[str, EvaluationRecord] = {}  # the others' running evaluations, by id
        self.taken: set[str] = set()  # the dead drivers' evaluations this driver ended itself (at its start)
        self._last_check = 0.0

    def start_from(self, history: list[EvaluationRecord]) -> None:
        """Place the cursor after ``history`` (what the driver read at its start)."""
        self.number_after = max((e.number for e in history), default=-1)
        self.seq_after = max((e.done_seq or 0 for e in history), default=0)

    def poll(self) -> tuple[list[EvaluationRecord], list[EvaluationRecord], list[EvaluationRecord]]:
        """``(started, ended, cancelled)``: the other drivers' evaluations that started running,
        ended with a result (to tell), or were cancelled (their slot freed) since the last poll."""
        rows = self.store.evaluations_since(self.search_id, self.number_after, self.seq_after, self.member_id)
        started, ended, cancelled = [], [], []
        for row in rows:
            self.number_after = max(self.number_after, row.number)
            self.seq_after = max(self.seq_after, row.done_seq or 0)
            if row.id in self.taken:
                continue
            new = row.id not in self.running and row.number > -1
            if not row.state.finished:
                if new:
                    self.running[row.id] = row
                    started.append(row)
                continue
            was_running = self.running.pop(row.id, None) is not None
            if row.state == EvaluationState.CANCELLED:
                if was_running:
                    cancelled.append(row)
                continue
            if not was_running:
                started.append(row)  # created and ended between two polls
            ended.append(row)
        return started, ended, cancelled

    def due(self) -> bool:
        """Whether it is time to look for dead drivers again (every few seconds)."""
        now = time.monotonic()
        if now - self._last_check < HEARTBEAT_S / 5:
            return False
        self._last_check = now
        return True


def recover_dead(store, search_id: str, membership: Membership,
                 running: Optional[list[MemberRecord]] = None) -> list[EvaluationRecord]:
    """Mark LOST the search's drivers found dead (only one driver wins each) and cancel what they
    left RUNNING; return those evaluations, for the caller to re-run. ``running``: the search's
    RUNNING members, if just read."""
    recovered = []
    if running is None:
        running = store.list_members(search_id, [MemberState.RUNNING])
    for member in running:
        if member.id == membership.id or member_liveness(member) != "dead":
            continue
        if not store.end_member(member.id, MemberState.LOST):
            continue  # another driver was first
        left = [e for e in store.list_evaluations(search_id, [EvaluationState.RUNNING, EvaluationState.CREATED])
                if e.driver_id == member.id]
        recovered += cancel_for_rerun(store, search_id, left, f"its driver (pid {member.pid} on {member.host}) "
                                                              f"was lost while it ran; it was re-run")
        logger.warning("driver %s (pid %s on %s) of the search was lost: %d of its running evaluations re-run "
                       "here", member.id[:8], member.pid, member.host, len(left))
    return recovered


def cancel_for_rerun(store, search_id: str, records: list[EvaluationRecord], why: str) -> list[EvaluationRecord]:
    """Mark CANCELLED those of ``records`` still running (a race with another driver loses
    nothing); return the ones this call cancelled."""
    now = time.time()
    done = set(store.finish_evaluations(search_id, [(e.id, {"state": EvaluationState.CANCELLED, "end_time": now,
                                                            "error": why}) for e in records], only_running=True))
    out = []
    for e in records:
        if e.id in done:
            e.state, e.end_time, e.error = EvaluationState.CANCELLED, now, why
            out.append(e)
    return out


class SharedCycle:
    """The :class:`~hyperfleet.driver.Driver`'s side of a shared search: reservations, the read of
    the other drivers' evaluations each cycle, the recovery of dead ones, and who records the end."""

    def __init__(self, driver, member: Membership) -> None:
        self.driver = driver
        self.member = member
        self.store = driver.store
        self.search_id = driver.record.id
        self.view = SharedView(driver.store, driver.record.id, member.id)
        self.primary = member.member.role == "primary"
        #: the store refused a reservation: the budget is used up (until an evaluation is cancelled)
        self.full = False
        #: another driver has been seen: read the store every cycle from then on (alone, every second)
        self.others_seen = False

    def start_from(self, history: list[EvaluationRecord]) -> list[EvaluationRecord]:
        """Take in the search's evaluations at this driver's start; return those left unfinished
        by drivers that no longer run (for the driver to re-run or fail), and mark those of the
        running drivers pending."""
        d = self.driver
        self.view.start_from(history)
        others, live = [], set()
        for member in self.store.list_members(self.search_id, [MemberState.RUNNING]):
            if member.id == self.member.id:
                continue
            if member_liveness(member) == "dead":
                self.store.end_member(member.id, MemberState.LOST)  # what it ran is re-run below
            else:
                others.append(member)
                live.add(member.id)
        self.others_seen = bool(others)
        theirs = [e for e in history if not e.state.finished and e.driver_id in live]
        for e in theirs:
            self.view.running[e.id] = e
        d.search.mark_pending(e.config for e in theirs)
        d.stats.submitted += len(theirs)
        if others:
            logger.info("joined search %s with %d other driver(s) running %d evaluations", self.search_id,
                        len(others), len(theirs))
        return [e for e in history if not e.state.finished and e.driver_id not in live]

    def reserve(self, configs: list[dict], unique: bool, metadatas: list[dict],
                ends: Sequence[tuple[str, dict]] = ()) -> list[tuple[Optional[EvaluationRecord], str]]:
        """Record ``ends`` and reserve the search's next evaluations for ``configs`` in the store,
        in one transaction (see :meth:`~hyperfleet.store.SqlStore.reserve_evaluations`); returns
        ``(record, outcome)`` per configuration."""
        d = self.driver
        limit = d.max_evals if d.drain else None
        wanted = [Reservation(config, config_key(d.problem, config), unique, {"metadata": metadata})
                  for config, metadata in zip(configs, metadatas)]
        results = self.store.reserve_evaluations(self.search_id, wanted, self.member.id, limit=limit,
                                                 folder_template=str(d.folder / "evals" / "{number:05d}"),
                                                 ends=ends)
        duplicate = False
        for config, (_, outcome) in zip(configs, results):
            key = d.problem.key(config)
            if outcome == "full":
                self.full = True
                d.search.pending.pop(key, None)
            elif outcome == "duplicate":  # another driver has it
                duplicate = True
                if key in d.search.evaluated_keys:
                    d.search.pending.pop(key, None)
        if duplicate:  # learn what the others run before asking again, and read their rows from now on
            self.others_seen = True
            self.sync()
        return results

    def sync(self, final: bool = False) -> bool:
        """Read what the other drivers did since the last cycle: tell their results to the search,
        mark their new evaluations pending; every few seconds (and when ``final``: this driver
        has nothing left to run) recover dead drivers. Returns whether slots of the budget were
        freed (an evaluation cancelled, to be re-run)."""
        from hyperfleet.driver_lifecycle import ClaimLost, Terminated

        d = self.driver
        if self.member.lost:
            raise ClaimLost(f"search {d.record.label}: another driver found this one dead (its lease had "
                            f"expired) and took over its evaluations; this driver stopped")
        if self.member.cancelled:
            raise Terminated()
        due = final or self.view.due()
        running_members = None
        if due:
            running_members = self.store.list_members(self.search_id, [MemberState.RUNNING])
            self.others_seen = self.others_seen or any(m.id != self.member.id for m in running_members)
        if not self.others_seen and not final:
            return False
        started, ended, cancelled = self.view.poll()
        running = [e for e in started if not e.state.finished]
        d.stats.submitted += len(started) - len(cancelled)
        if running:
            d.search.mark_pending(e.config for e in running)
        for e in cancelled:  # whoever cancelled it runs it again
            d.search.pending.pop(d.problem.key(e.config), None)
        if ended:
            d.search.tell([told(e, d.problem) for e in ended])
            for e in ended:
                d._count(e)
                d._call("on_done", e)
        freed = bool(cancelled)
        if due:
            recovered = recover_dead(self.store, self.search_id, self.member, running_members)
            if recovered:
                for e in recovered:
                    if self.view.running.pop(e.id, None) is not None:
                        d.stats.submitted -= 1
                d._buffer = [e.config for e in recovered] + d._buffer
                d.search.mark_pending(e.config for e in recovered)
                freed = True
        if freed:
            self.full = False
        return freed

    @staticmethod
    def closed(settings: dict, end: float) -> dict:
        """``settings`` with every active interval still open (the other drivers') ending at ``end``."""
        from hyperfleet.active_time import INTERVALS_KEY

        intervals = [[s, end if e is None else e] for s, e in settings.get(INTERVALS_KEY) or ()]
        return {**settings, INTERVALS_KEY: intervals} if intervals else settings

    def leave(self, state: SearchState) -> bool:
        """This driver ends: record it, add the rows results.csv lacks, and say whether it is the
        last driver of the search running (then it records the search's end)."""
        d = self.driver
        self.member.leave(MemberState.LEFT)
        try:
            if getattr(d, "csv", None) is not None:
                d.csv.catch_up([e for e in self.store.list_evaluations(self.search_id) if e.state.finished])
        except (StoreError, OSError) as err:
            logger.warning("cannot complete results.csv from the store: %s", err)
        try:
            others = self.member.others_running()
            if others:
                self._hand_over(others[0])
            return not others
        except StoreError:
            return True

    def _hand_over(self, other: MemberRecord) -> None:
        """When the search names this driver as its driver, name a running one instead (``ls``
        shows it RUNNING, ``cancel`` signals it, a plain ``resume`` is refused while it runs)."""
        record = self.store.get_search(self.search_id)
        me = self.member.member
        if (record.driver_host, record.driver_pid) == (me.host, me.pid):
            self.store.update_search(self.search_id, driver_host=other.host, driver_pid=other.pid,
                                     driver_started=other.started, driver_boot_id=other.boot_id)
