"""The driver: keeps every worker busy, hands results to the search, records everything.

The driver is the only writer of the store. It is asynchronous: the moment any evaluation
finishes, its result is recorded and told to the search, and new configurations are asked
for the free workers; there is no batch barrier.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Protocol, Sequence

from hyperfleet.driver_settings import DriverSettings
from hyperfleet.execute import EvalOutcome, EvalTask, Executor
from hyperfleet.execute.resources import ResourcePool
from hyperfleet.files import create_file, make_folder
from hyperfleet.problem import HpProblem
from hyperfleet.report.exports import ResultsCsv, write_results_json
from hyperfleet.search import Search
from hyperfleet.store import EvaluationRecord, EvaluationState, SearchRecord, SearchState, Store
from hyperfleet.user_code import CodeRef

LOG_NAME = "hyperfleet.log"
_JSON_EVERY_S = 2.0

logger = logging.getLogger("hyperfleet")


class Terminated(BaseException):
    """The driver received SIGTERM (``hyperfleet cancel``, ``scancel``, the end of a walltime)."""


def _catch_sigterm():
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum, frame):
        raise Terminated()

    return signal.signal(signal.SIGTERM, handler)


def _restore_sigterm(previous) -> None:
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)


class Callback(Protocol):
    """Hooks the driver calls; implement any subset (see :class:`DriverStats`).

    ``on_start`` receives the :class:`SearchRecord`; the others an :class:`EvaluationRecord`.
    """

    def on_launch(self, record: EvaluationRecord, stats: "DriverStats") -> None: ...

    def on_done(self, record: EvaluationRecord, stats: "DriverStats") -> None: ...

    def on_start(self, record: SearchRecord, stats: "DriverStats") -> None: ...


@dataclass
class DriverStats:
    """Live counts of one search run."""

    max_evals: int
    submitted: int = 0
    done: int = 0
    failed: int = 0
    running: int = 0
    best: Optional[float] = None
    best_record: Optional[EvaluationRecord] = None
    start_time: float = field(default_factory=time.time)

    @property
    def finished(self) -> int:
        return self.done + self.failed


@dataclass
class SearchResult:
    """What a finished ``run`` returns."""

    search: SearchRecord
    stats: DriverStats
    stop_reason: str

    @property
    def best(self) -> Optional[EvaluationRecord]:
        return self.stats.best_record

    @property
    def folder(self) -> Path:
        return Path(self.search.folder)


class Driver:
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
    """

    def __init__(self, record: SearchRecord, problem: HpProblem, run_ref: CodeRef, search: Search,
                 executor: Executor, store: Store, settings: DriverSettings,
                 callbacks: Sequence[object] = (), history: Sequence[EvaluationRecord] = (),
                 rerun_running: bool = True) -> None:
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
        prefetch = settings.evals.prefetch
        self.prefetch = prefetch if prefetch is not None else (1 if executor.num_workers > 1 else 0)
        self.callbacks = list(callbacks)
        self.pools = settings.resources.pools()
        self._held: dict[str, list[tuple[ResourcePool, list[str]]]] = {}
        self._buffer: list[dict] = []
        self._last_error: Optional[str] = None
        self._history = list(history)
        search.set_budget(self.max_evals)  # a search may plan for it (AMBS refines its best at the end)
        self._rerun_running = rerun_running
        self._next_number = 0
        self.folder = Path(record.folder)
        self.stats = DriverStats(max_evals=self.max_evals)
        self._running: dict[str, EvaluationRecord] = {}
        self._last_json = 0.0
        self._json_cost = 0.0

    # ----- the loop ------------------------------------------------------------------------
    def run(self) -> SearchResult:
        """Run until ``max_evals`` evaluations have finished or ``timeout`` has passed."""
        handler = self._open_log()
        start = self.stats.start_time = time.time()
        first_start = self.record.start_time or start
        self.csv = ResultsCsv(self.folder, self.problem, first_start)
        self.store.update_search(self.record.id, state=SearchState.RUNNING, start_time=first_start,
                                 end_time=None, message=None, driver_host=socket.gethostname(),
                                 driver_pid=os.getpid())
        self._take_over(self._history)
        self._call("on_start", self.record)
        logger.info("search %s (%s) started: max_evals=%d timeout=%s workers=%d", self.record.id,
                    self.record.label, self.max_evals, self.timeout, self.executor.num_workers)
        state, reason = SearchState.FINISHED, "max_evals reached"
        previous_handler = _catch_sigterm()
        try:
            while True:
                if self.timeout is not None and time.time() - start >= self.timeout:
                    reason = f"timeout of {self.timeout:g} s reached"
                    break
                self._fill_workers()
                if self.executor.in_flight == 0:
                    if self._budget_left() <= 0:
                        break
                    if self._capacity() > 0:
                        reason = "the search proposed no more configurations"
                        break
                    time.sleep(min(0.5, self._time_left() or 0.5))  # no worker yet (a cluster starting)
                    continue
                outcomes = self.executor.wait_any(timeout=self._time_left())
                finished = self._record(outcomes)
                if self.max_failures is not None and self.stats.failed >= self.max_failures:
                    state = SearchState.FAILED
                    reason = (f"stopped after {self.stats.failed} failed evaluations (--max-failures "
                              f"{self.max_failures}); last error: {self._last_error}")
                    break
                self._fill_workers(from_buffer_only=True)  # free workers restart at once
                if finished:
                    self.search.tell([(r.config, r.objective) for r in finished])
                    for record in finished:
                        self._call("on_done", record)
                if self._finished_without_drain:
                    reason = (f"max_evals reached ({len(self._running)} running evaluations cancelled: "
                              f"no drain)")
                    break
        except KeyboardInterrupt:
            state, reason = SearchState.INTERRUPTED, "interrupted by the user"
            raise
        except Terminated:
            state, reason = SearchState.CANCELLED, "terminated (SIGTERM: hyperfleet cancel or the scheduler)"
        except Exception as err:
            state, reason = SearchState.FAILED, f"{type(err).__name__}: {err}"
            logger.exception("search failed")
            raise
        finally:
            self._cancel_running()
            self.executor.shutdown()
            end = time.time()
            self.store.update_search(self.record.id, state=state, end_time=end, message=reason)
            self._write_json(force=True)
            logger.info("search ended (%s): %d done, %d failed, best %s", reason, self.stats.done,
                        self.stats.failed, self.stats.best)
            logger.removeHandler(handler)
            handler.close()
            _restore_sigterm(previous_handler)
        self.record = self.store.get_search(self.record.id)
        return SearchResult(self.record, self.stats, reason)

    def _take_over(self, history: list[EvaluationRecord]) -> None:
        """Continue from what the store holds: tell the finished, re-run or fail the interrupted."""
        if not history:
            return
        self._next_number = max(e.number for e in history) + 1
        finished = sorted((e for e in history if e.state.finished and e.state != EvaluationState.CANCELLED),
                          key=lambda e: (e.end_time or 0, e.number))
        for record in finished:
            self.stats.submitted += 1
            self._count(record)
        appended = self.csv.catch_up(finished)
        interrupted = [e for e in history if not e.state.finished]
        now = time.time()
        if self._rerun_running:
            updates = [(e.id, {"state": EvaluationState.CANCELLED, "end_time": now,
                               "error": "the driver stopped while this evaluation ran; it was re-run"})
                       for e in interrupted]
            self._buffer = [e.config for e in interrupted] + self._buffer
            self.search.mark_pending(e.config for e in interrupted)
        else:
            updates = [(e.id, {"state": EvaluationState.FAILED, "end_time": now,
                               "error": "the driver stopped while this evaluation ran"}) for e in interrupted]
        self.store.update_evaluations(updates)
        told = [(e.config, e.objective if e.state == EvaluationState.DONE else None) for e in finished]
        if not self._rerun_running:
            told += [(e.config, None) for e in interrupted]
            self.stats.submitted += len(interrupted)
            self.stats.failed += len(interrupted)
        self.search.tell(told)
        logger.info("resumed: %d finished evaluations kept (%d rows added to results.csv), %d interrupted %s",
                    len(finished), appended, len(interrupted), "re-run" if self._rerun_running else "failed")

    def _time_left(self) -> Optional[float]:
        if self.timeout is None:
            return None
        return max(0.0, self.timeout - (time.time() - self.stats.start_time))

    def _capacity(self) -> int:
        free = self.executor.num_workers + self.executor.queue_depth - self.executor.in_flight
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
            return self.max_evals - self.stats.submitted
        if self._finished_without_drain:
            return 0
        # no drain: as many as keep every worker (and the prefetch buffer) busy
        return self.executor.num_workers + self.executor.queue_depth + self.prefetch + 1

    def _fill_workers(self, from_buffer_only: bool = False) -> None:
        n = min(self._capacity(), self._budget_left())
        while n > 0 and self._buffer:
            self._launch(self._buffer.pop(0))
            n -= 1
        if from_buffer_only:
            return
        if n > 0:
            for config in self.search.ask(n):
                self._launch(config)
        room = min(self.prefetch - len(self._buffer), self._budget_left() - len(self._buffer))
        if room > 0:
            self._buffer.extend(self.search.ask(room))

    def _launch(self, config: dict) -> None:
        number = self._next_number
        self._next_number += 1
        folder = self.folder / "evals" / f"{number:05d}"
        make_folder(folder)
        env, metadata, held = {}, {}, []
        for pool in self.pools:
            ids = pool.acquire()
            held.append((pool, ids))
            env.update(pool.env(ids))
            metadata[pool.key] = ",".join(ids)
        record = self.store.create_evaluation(self.record.id, number, config, folder=str(folder),
                                              state=EvaluationState.RUNNING, metadata=metadata)
        if held:
            self._held[record.id] = held
        self.executor.submit(EvalTask(record.id, self.run_ref.path, self.run_ref.attr, config, str(folder),
                                      timeout=self.eval_timeout, isolate=self.isolate, env=env))
        self._running[record.id] = record
        self.stats.submitted += 1
        self.stats.running += 1
        logger.info("launched evaluation %d (%s): %s", number, record.id, config)
        self._call("on_launch", record)

    def _record(self, outcomes: list[EvalOutcome]) -> list[EvaluationRecord]:
        """Write finished evaluations to the store and results.csv; return them in finish order."""
        finished, updates = [], []
        for outcome in outcomes:
            record = self._running.pop(outcome.eval_id, None)
            if record is None:
                continue
            record.state = EvaluationState(outcome.state)
            record.objective = outcome.objective
            record.metadata = {**record.metadata, **outcome.metadata}
            self._release(record.id)
            record.error = outcome.error
            record.start_time, record.end_time = outcome.start_time, outcome.end_time or time.time()
            record.worker, record.host = outcome.worker, outcome.host
            updates.append((record.id, dict(state=record.state, objective=record.objective,
                                            metadata=record.metadata, error=record.error,
                                            start_time=record.start_time, end_time=record.end_time,
                                            worker=record.worker, host=record.host)))
            self.stats.running -= 1
            self._count(record)
            finished.append(record)
        if not finished:
            return finished
        self.store.update_evaluations(updates)
        finished.sort(key=lambda r: r.end_time)
        self.csv.append(finished)
        self._write_json()
        return finished

    def _count(self, record: EvaluationRecord) -> None:
        """Count a finished evaluation in the stats (done or failed, best so far) and log it."""
        if record.state == EvaluationState.DONE:
            self.stats.done += 1
            if self.stats.best is None or record.objective > self.stats.best:
                self.stats.best, self.stats.best_record = record.objective, record
            logger.info("evaluation %d done: objective %r", record.number, record.objective)
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
            self.store.update_evaluation(eval_id, state=EvaluationState.CANCELLED, end_time=time.time(),
                                         error=why)
            self.stats.running -= 1
            logger.info("evaluation %d cancelled", record.number)
        self._running.clear()

    def _write_json(self, force: bool = False) -> None:
        # Rewritten from the store at most every few seconds, and never taking more than ~5% of
        # the driver's time, however long the history grows.
        now = time.time()
        if not force and now - self._last_json < max(_JSON_EVERY_S, 20 * self._json_cost):
            return
        finished = [r for r in self.store.list_evaluations(self.record.id) if r.state.finished]
        info = {"id": self.record.id, "label": self.record.label, "start_time": self.stats.start_time}
        write_results_json(self.folder, finished, info)
        self._last_json = time.time()
        self._json_cost = self._last_json - now

    def _call(self, hook: str, record) -> None:
        for callback in self.callbacks:
            method = getattr(callback, hook, None)
            if method is not None:
                method(record, self.stats)

    def _open_log(self) -> logging.Handler:
        handler = logging.FileHandler(create_file(self.folder / LOG_NAME))
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        return handler
