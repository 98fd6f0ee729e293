"""A driver's hold on its search: the claim, the lease's heartbeat, and the signals that end it.

One search has at most one driver. A driver *claims* the search in the store with one
conditional write (:meth:`~hyperfleet.store.Store.claim_search`) that gives it a token and a
lease of :data:`LEASE_S` seconds, renewed every :data:`HEARTBEAT_S` seconds by a small thread.
A second ``hyperfleet resume`` loses the claim and stops with one line, having written nothing.
A driver that died (SIGKILL, a lost node) leaves its token behind: on its own host a driver is
known dead at once (PID, start time and boot id, :mod:`hyperfleet.process_identity`), elsewhere
once its lease has expired; ``hyperfleet ls`` then shows its search ``STALE (driver lost)``.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
import uuid
from typing import Optional

from hyperfleet.process_identity import Liveness, liveness, this_process
from hyperfleet.store import SearchRecord, SearchState, Store, StoreError
from hyperfleet.store import critical as store_critical

LEASE_S = 30.0
HEARTBEAT_S = 5.0
STALE = "STALE (driver lost)"

logger = logging.getLogger("hyperfleet")


class SearchBusy(ValueError):
    """Another driver holds the search."""


class ClaimLost(StoreError):
    """This driver's lease expired and another driver took the search over: it must write nothing more."""


class Terminated(BaseException):
    """The driver received SIGTERM (``hyperfleet cancel``, ``scancel``, a walltime) or SIGHUP."""

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name


def driver_liveness(record: SearchRecord, now: Optional[float] = None) -> Liveness:
    """Whether the search's recorded driver still runs (``"unknown"``: on another host, lease valid)."""
    state = liveness(record.driver_host, record.driver_pid, record.driver_started, record.driver_boot_id)
    if state == "unknown" and record.lease_expires is not None \
            and record.lease_expires < (now if now is not None else time.time()):
        return "dead"
    return state


def shown_state(record: SearchRecord) -> str:
    """The state ``hyperfleet ls`` shows: ``STALE (driver lost)`` for a RUNNING search whose driver died."""
    if record.state == SearchState.RUNNING and record.driver_pid and driver_liveness(record) == "dead":
        return STALE
    return record.state.value


class DriverClaim:
    """This process's claim on one search; :meth:`acquire` it, :meth:`release` it at the end."""

    def __init__(self, store: Store, record: SearchRecord, token: str) -> None:
        self.store = store
        self.record = record
        self.token = token
        self.lost = False
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    @classmethod
    def acquire(cls, store: Store, record: SearchRecord) -> "DriverClaim":
        """Claim ``record`` for this process, or raise :class:`SearchBusy` having written nothing."""
        current = store.get_search(record.id)
        alive = driver_liveness(current)
        where = f"search {current.label} ({current.id[:8]})"
        if current.driver_token and alive == "alive":
            raise SearchBusy(f"{where} is running (driver pid {current.driver_pid}); wait for it or stop "
                             f"it with: hyperfleet cancel {current.label}")
        me = this_process()
        token = str(uuid.uuid4())
        won = store.claim_search(record.id, token, LEASE_S,
                                 take_from=current.driver_token if alive == "dead" else None,
                                 driver_host=me.host, driver_pid=me.pid, driver_started=me.started,
                                 driver_boot_id=me.boot_id)
        if not won:
            other = store.get_search(record.id)
            raise SearchBusy(f"{where} is driven by another process (pid {other.driver_pid} on "
                             f"{other.driver_host}); nothing was changed. Wait for it, or stop it with: "
                             f"hyperfleet cancel {current.label}")
        claim = cls(store, record, token)
        claim._start_heartbeat()
        return claim

    def _start_heartbeat(self) -> None:
        self._thread = threading.Thread(target=self._beat, name="hyperfleet-lease", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        renewed = time.monotonic()
        while not self._stop.wait(HEARTBEAT_S):
            try:
                if not self.store.renew_lease(self.record.id, self.token, LEASE_S):
                    self.lost = True
                    logger.error("search %s: another driver has taken it over (this driver's lease "
                                 "had expired)", self.record.id)
                    return
                renewed = time.monotonic()
            except (StoreError, OSError) as err:
                # a store busy for a moment is retried at the next beat; only a lease about to
                # run out is worth a line (the driver's own store errors are reported by it)
                if time.monotonic() - renewed > LEASE_S / 2:
                    logger.warning("cannot renew the lease of search %s: %s", self.record.id, err)

    def guard(self, store: Store) -> "ClaimedStore":
        """``store`` for the driver: its writes fail with :class:`ClaimLost` once the claim is lost."""
        return ClaimedStore(store, self)

    def release(self) -> None:
        """Stop the heartbeat and give the search up (its state stays what the driver wrote)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=HEARTBEAT_S)
        if self.lost:
            return
        try:
            self.store.release_search(self.record.id, self.token)
        except StoreError as err:  # the lease expires by itself
            logger.info("cannot release search %s: %s", self.record.id, err)


class TerminationSignals:
    """SIGTERM and SIGHUP raise :class:`Terminated` in the main thread, once.

    A second signal while the driver cleans up is logged and ignored (so the final state is
    written); so is Ctrl-C then. Installed only in the main thread (signals go there).
    """

    SIGNALS = (signal.SIGTERM, signal.SIGHUP)

    def __init__(self) -> None:
        self._previous: dict[int, object] = {}
        self._cleaning = False
        self._deferred = False
        self.ignored = 0

    def __enter__(self) -> "TerminationSignals":
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
            if signal.getsignal(signal.SIGINT) not in (signal.SIG_IGN, None):
                self._previous[signal.SIGINT] = signal.signal(signal.SIGINT, self._interrupt)
        return self

    def _handle(self, signum, frame) -> None:
        if self._cleaning or self._deferred:  # no logging here: the signal may have interrupted a write to the log
            self.ignored += 1
            return
        if store_critical.active():  # inside a store transaction: raised the moment it ends
            self._deferred = True
            store_critical.defer(lambda: self._terminate(signum))
            return
        self._terminate(signum)

    def _terminate(self, signum: int) -> None:
        self._cleaning = True
        raise Terminated(signum)

    def _interrupt(self, signum, frame) -> None:
        """Ctrl-C: what it did before (Python's KeyboardInterrupt, or the handler installed before
        the search), but never in the middle of a store transaction."""
        if store_critical.active():
            store_critical.defer(lambda: self._interrupt_now(signum, frame))
            return
        self._interrupt_now(signum, frame)

    def _interrupt_now(self, signum, frame) -> None:
        previous = self._previous.get(signal.SIGINT)
        if callable(previous):
            previous(signum, frame)
        else:  # SIG_DFL
            raise KeyboardInterrupt

    def cleaning_up(self) -> None:
        """From now on, signals no longer interrupt (the driver is writing its final state)."""
        self._cleaning = True
        if self._previous:
            self._previous.setdefault(signal.SIGINT, signal.signal(signal.SIGINT, signal.SIG_IGN))

    def __exit__(self, *exc) -> None:
        if self.ignored:
            logger.warning("%d signal(s) received while the search stopped were ignored", self.ignored)
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()


class ClaimedStore:
    """A store whose writes stop (:class:`ClaimLost`) once its driver's claim was taken over."""

    WRITES = frozenset({"create_evaluation", "update_evaluation", "update_evaluations", "update_search",
                        "reserve_evaluation", "reserve_evaluations", "finish_evaluations"})

    def __init__(self, store: Store, claim) -> None:  # a DriverClaim, or a driver's Membership
        self._store = store
        self._claim = claim

    def __getattr__(self, name: str):
        attr = getattr(self._store, name)
        if name not in self.WRITES:
            return attr

        def write(*args, **kwargs):
            if self._claim.lost:
                record = self._claim.record
                raise ClaimLost(f"search {record.label} ({record.id[:8]}) was taken over by another driver "
                                f"after this one's lease expired (stopped, or the store unreachable for "
                                f"{LEASE_S:g} s); this driver stopped without writing more")
            return attr(*args, **kwargs)

        return write
