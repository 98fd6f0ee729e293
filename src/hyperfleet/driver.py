"""The driver: keeps every worker busy, hands results to the search, records everything.

The driver is the only writer of the store. It is asynchronous: the moment any evaluation
finishes, its result is recorded and told to the search, and new configurations are asked
for the free workers; there is no batch barrier.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from pathlib import Path
from typing import Optional, Sequence

from hyperfleet import active_time
from hyperfleet.active_time import ActiveClock
from hyperfleet.driver_ends import Ending
from hyperfleet.driver_launch import Launching
from hyperfleet.driver_lifecycle import Terminated, TerminationSignals
from hyperfleet.driver_objectives import told
from hyperfleet.driver_reports import ReportRouter
from hyperfleet.driver_resume import take_over
from hyperfleet.driver_settings import DriverSettings
from hyperfleet.driver_shared import DUPLICATE_TRIES, SharedCycle
from hyperfleet.driver_types import Callback, DriverStats, SearchResult
from hyperfleet.execute import EvalOutcome, Executor
from hyperfleet.execute.resources import ResourcePool
from hyperfleet.files import create_file, make_folder
from hyperfleet.interrupt import termination_reason
from hyperfleet.log_file import LogFile
from hyperfleet.problem import HpProblem
from hyperfleet.report.exports import ResultsCsv, curves_of, write_results_json
from hyperfleet.report.front import write_pareto_csv
from hyperfleet.search import Search
from hyperfleet.store import EvaluationRecord, SearchRecord, SearchState, Store
from hyperfleet.store.critical import critical
from hyperfleet.user_code import CodeRef

LOG_NAME = "hyperfleet.log"
_JSON_EVERY_S = 2.0

logger = logging.getLogger("hyperfleet")


class Driver(Launching, Ending):
    """Runs one search to its budget or time limit.

    Args:
        record: the search as created in the store (see :func:`hyperfleet.api.create_search_record`).
        problem: the search space.
        run_ref: where the run function is (``CodeRef(path, attr)``).
        search: the search algorithm (``ask``/``tell``).
        executor: where evaluations run.
        store: the job database.
        settings: the budget, failure policy, per-evaluation policy and resources
            (:class:`~hyperfleet.driver_settings.DriverSettings`).
        callbacks: objects with ``on_launch``/``on_done`` hooks (e.g. a progress bar).
        history: the search's evaluations already in the store (resuming): finished ones are
            told to the search and count towards ``max_evals``; those left RUNNING by a driver that
            died are re-run (``rerun_running``) or marked FAILED.
        stopper: a :class:`hyperfleet.stop.Stopper` instance to use instead of the one named in
            ``settings.stop`` (None: that one, or none).
        member: this driver's :class:`~hyperfleet.driver_shared.Membership` of the search (several
            drivers on one search: slots reserved in the store, the others' results read each
            cycle); None: the only driver, numbering its evaluations itself.
    """

    def __init__(self, record: SearchRecord, problem: HpProblem, run_ref: CodeRef, search: Search,
                 executor: Executor, store: Store, settings: DriverSettings,
                 callbacks: Sequence[object] = (), history: Sequence[EvaluationRecord] = (),
                 rerun_running: bool = True, stopper=None, member=None) -> None:
        self.record = record
        self.problem = problem
        self.run_ref = run_ref
        self.search = search
        self.executor = executor
        self.store = store
        self.settings = settings
        self.max_evals = settings.budget.max_evals
        self.timeout = settings.budget.timeout
        self.drain = settings.budget.drain
        self.max_failures = settings.failures.max_failures
        self.eval_timeout = settings.evals.eval_timeout
        self.isolate = settings.evals.isolate
        self.eval_memory = settings.evals.eval_memory
        prefetch = settings.evals.prefetch
        self.prefetch = prefetch if prefetch is not None else (1 if executor.num_workers > 1 else 0)
        self.callbacks = list(callbacks)
        self.pools = settings.resources.pools()
        self._held: dict[str, list[tuple[ResourcePool, list[str]]]] = {}
        self._buffer: list[dict] = []
        self._last_error: Optional[str] = None
        self._failed_before = 0
        self._history = list(history)
        search.set_budget(self.max_evals)  # a search may plan for it (AMBS refines its best at the end)
        self._rerun_running = rerun_running
        self._next_number = 0
        self.folder = Path(record.folder)
        self.stats = DriverStats(max_evals=self.max_evals)
        self._running: dict[str, EvaluationRecord] = {}
        self._last_json = 0.0
        self._json_cost = 0.0
        if stopper is None:
            stopper = settings.stop.make(seed=record.settings.get("seed"))
        self.reports = ReportRouter(store, record.id, stopper, problem)
        if self.reports.live:
            executor.set_report_handler(self.reports.on_report)
        self._starting_keys = {problem.key(p) for p in problem.starting_points}
        self.member = member
        self.shared = SharedCycle(self, member) if member is not None else None

    # ----- the loop ------------------------------------------------------------------------
    def run(self) -> SearchResult:
        """Run until ``max_evals`` evaluations have finished or ``timeout`` has passed.

        Whatever ends it short of SIGKILL (an exception, Ctrl-C, SIGTERM, SIGHUP) leaves the search
        in a final state: FINISHED, FAILED, INTERRUPTED or CANCELLED.
        """
        handler = self._open_log()
        start = self.stats.start_time = time.time()
        first_start = self.record.start_time or start
        state, reason, signum = SearchState.FINISHED, "max_evals reached", None
        signals = TerminationSignals().__enter__()
        try:
            active = active_time.opened(self.store.get_search(self.record.id).settings, start,
                                        [t for e in self._history for t in (e.start_time, e.end_time)],
                                        first_start)
            make_folder(self.folder / "evals")  # each evaluation's own folder is made by its worker
            self.csv = ResultsCsv(self.folder, self.problem, first_start, clock=ActiveClock.of(active),
                                  shared=self.shared is not None)
            if self.shared is None or self.shared.primary:
                self.store.update_search(self.record.id, state=SearchState.RUNNING, start_time=first_start,
                                         end_time=None, message=None, driver_host=socket.gethostname(),
                                         driver_pid=os.getpid(), settings=active)
            self._take_over(self._history)
            self._failed_before = self.stats.failed  # --max-failures counts the failures of this run only
            self._call("on_start", self.record)
            logger.info("search %s (%s) started: max_evals=%d timeout=%s workers=%d", self.record.id,
                        self.record.label, self.max_evals, self.timeout, self.executor.num_workers)
            while True:
                if self.timeout is not None and time.time() - start >= self.timeout:
                    reason = f"timeout of {self.timeout:g} s reached"
                    break
                if self.shared is not None:
                    self.shared.sync()
                self._fill_workers()
                if self.executor.in_flight == 0:
                    if self._budget_left() <= 0 and (self.shared is None or not self.shared.sync(final=True)):
                        break
                    if self._capacity() > 0:
                        reason = "the search proposed no more configurations"
                        break
                    time.sleep(min(0.5, self._time_left() or 0.5))  # no worker yet (a cluster starting)
                    continue
                outcomes = self.executor.wait_any(timeout=self._wait_s())
                finished = self._record(outcomes)
                if self._failures_left() <= 0:
                    failed = self.stats.failed - self._failed_before
                    state = SearchState.FAILED
                    reason = (f"stopped after {failed} failed evaluations (--max-failures "
                              f"{self.max_failures}); last error: {self._last_error}")
                    break
                self._fill_workers(from_buffer_only=True)  # free workers restart at once
                if finished:
                    self.search.tell([told(r, self.problem) for r in finished])
                    for record in finished:
                        self._call("on_done", record)
                if self._draining():
                    self.executor.release_idle()  # idle workers have nothing left to wait for
                if self._finished_without_drain:
                    reason = (f"max_evals reached ({len(self._running)} running evaluations cancelled: "
                              f"no drain)")
                    break
        except KeyboardInterrupt:
            state, reason = SearchState.INTERRUPTED, "interrupted by the user"
            raise
        except Terminated as err:
            signum = err.signum
            state, reason = SearchState.CANCELLED, termination_reason(self.store, self.record.id, err.name)
        except BaseException as err:
            state, reason = SearchState.FAILED, f"{type(err).__name__}: {err}"
            logger.exception("search failed")
            raise
        finally:
            try:
                signals.cleaning_up()
                self._stop(state, reason, start)
            finally:  # the signal handlers are given back whatever the stop raised
                if getattr(self, "csv", None) is not None:
                    self.csv.close()
                logger.removeHandler(handler)
                handler.close()
                signals.__exit__()
        self.record = self.store.get_search(self.record.id)
        return SearchResult(self.record, self.stats, reason, signal=signum)

    def _stop(self, state: SearchState, reason: str, start: float) -> None:
        """Cancel what runs, shut the executor down and record the final state, whatever fails."""
        for step in (self._cancel_running, self.executor.shutdown, lambda: self.reports.flush(force=True)):
            try:
                step()
            except Exception:  # noqa: BLE001 - the final state is written all the same
                logger.exception("while stopping the search")
        try:
            end = time.time()
            if self.shared is not None and not self.shared.leave(state):
                self._write_json(force=True)  # another driver still runs: it records the end
                return
            settings = active_time.closed(self.store.get_search(self.record.id).settings, start, end)
            if self.shared is not None:  # the last of several drivers: every interval ends now
                settings = self.shared.closed(settings, end)
            self.store.update_search(self.record.id, state=state, end_time=end, message=reason, settings=settings)
            self._write_json(force=True)
        except Exception:  # noqa: BLE001 - e.g. a store that stays locked: its lease says it is dead
            logger.exception("cannot record the end of the search (%s)", reason)
        logger.info("search ended (%s): %d done, %d stopped, %d failed, best %s", reason, self.stats.done,
                    self.stats.stopped, self.stats.failed, self.stats.best)

    def _take_over(self, history: list[EvaluationRecord]) -> None:
        """Continue from what the store holds: tell the finished, re-run or fail the interrupted."""
        take_over(self, history)

    def _wait_s(self) -> Optional[float]:
        """How long to wait for a result: until the timeout; with other drivers, a second at most
        (to read their results, and notice one that died); in the drain, a second at most with
        an executor that releases idle workers (to release them while the last ones run)."""
        left = self._time_left()
        if self.shared is None and not (self.executor.releases_idle and self._draining()):
            return left
        return min(left if left is not None else 1.0, 1.0)

    def _draining(self) -> bool:
        """The drain: the budget has no more evaluations to start, the running ones finish."""
        return self.drain and self._budget_left() <= 0

    def _time_left(self) -> Optional[float]:
        if self.timeout is None:
            return None
        return max(0.0, self.timeout - (time.time() - self.stats.start_time))

    def _capacity(self) -> int:
        free = self.executor.num_workers + self._queue_depth() - self.executor.in_flight
        for pool in self.pools:
            free = min(free, pool.capacity)
        return free

    @property
    def _finished_without_drain(self) -> bool:
        """Without a drain: ``max_evals`` evaluations have finished, the rest is cancelled."""
        return not self.drain and self.stats.finished >= self.max_evals

    def _budget_left(self) -> int:
        """Evaluations that may still be created."""
        if self.drain:
            if self.shared is not None and self.shared.full:
                return 0
            return self.max_evals - self.stats.submitted
        if self._finished_without_drain:
            return 0
        # no drain: as many as keep every worker (and the prefetch buffer) busy
        return self.executor.num_workers + self._queue_depth() + self.prefetch + 1

    def _queue_depth(self) -> int:
        """Evaluations held queued beyond the workers: the executor's, but none where it queues
        only to batch short evaluations and the search learns from results (a model-based
        search on a table lookup proposes each configuration knowing every result)."""
        if self.executor.queue_only_for_speed and self.search.learns_from_results:
            return 0
        return self.executor.queue_depth

    def _fill_workers(self, from_buffer_only: bool = False) -> None:
        n = min(self._capacity(), self._budget_left())
        if n > 0 and self._buffer:
            with critical():
                launches = self._take_buffered(n)
            n -= self._start(launches)
        if from_buffer_only:
            return
        if n > 0:
            asked, tries = self.search.ask(n), 0
            while asked:
                with critical():  # a signal waits until the new rows are known as running (and so cancelled)
                    launches = self._reserve(asked, unique=tries < DUPLICATE_TRIES)
                self._start(launches)
                if any(launch.outcome == "full" for launch in launches):
                    self._forget(self._buffer)
                    self._buffer.clear()
                    return
                duplicates = sum(launch.outcome == "duplicate" for launch in launches)
                tries += duplicates
                asked = self.search.ask(duplicates) if duplicates else []
        room = min(self.prefetch - len(self._buffer), self._budget_left() - len(self._buffer))
        if room > 0:
            self._buffer.extend(self.search.ask(room))

    def _record(self, outcomes: list[EvalOutcome]) -> list[EvaluationRecord]:
        """Write finished evaluations to the store and results.csv, and start configurations asked
        ahead on the workers they freed (one store transaction for both); return the finished
        ones in finish order."""
        with critical():  # a signal waits until the ends taken from the executor are in the store
            finished, updates = self._record_ends(outcomes)
            launches = []
            if updates:
                n = 0 if self._failures_left() <= 0 else min(self._capacity(), self._budget_left())
                launches = self._take_buffered(n, ends=updates)
        self._start(launches)
        if finished:
            self.csv.append(finished)
            self._write_json()
        return finished

    def _failures_left(self) -> float:
        """Failures this run may still have before ``--max-failures`` stops it."""
        if self.max_failures is None:
            return float("inf")
        return self.max_failures - (self.stats.failed - self._failed_before)

    def _is_starting_point(self, config: dict) -> bool:
        return bool(self._starting_keys) and self.problem.key(config) in self._starting_keys

    def _write_json(self, force: bool = False) -> None:
        # Rewritten from the store at most every few seconds, and never taking more than ~5% of
        # the driver's time, however long the history grows.
        now = time.time()
        if not force and now - self._last_json < max(_JSON_EVERY_S, 20 * self._json_cost):
            return
        finished = [r for r in self.store.list_evaluations(self.record.id) if r.state.finished]
        info = {"id": self.record.id, "label": self.record.label, "start_time": self.stats.start_time}
        curves = curves_of(self.store.list_reports(self.record.id)) if self.reports.steps_run else None
        write_results_json(self.folder, finished, info, curves)
        if self.problem.objectives or self.problem.constraints:
            write_pareto_csv(self.folder, self.problem, finished, self.csv.search_start)
        self._last_json = time.time()
        self._json_cost = self._last_json - now

    def _call(self, hook: str, record) -> None:
        for callback in self.callbacks:
            method = getattr(callback, hook, None)
            if method is not None:
                method(record, self.stats)

    def _open_log(self) -> logging.Handler:
        handler = LogFile(create_file(self.folder / LOG_NAME))
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        return handler


__all__ = ["Callback", "Driver", "DriverStats", "SearchResult"]
