"""The thread executor: evaluations in threads of the driver's process."""

from __future__ import annotations

import concurrent.futures as cf
import os
import queue
import threading
import time
import uuid
from typing import Any, Callable, Optional

from hyperfleet.execute.base import RECENT, SHORT_EVAL_S, RecentRunTimes  # noqa: F401 - RECENT, SHORT_EVAL_S for callers
from hyperfleet.execute.futures import FuturesExecutor
from hyperfleet.execute.isolation import kill_live_children
from hyperfleet.execute.process_tree import TOKEN_VAR, kill_tree
from hyperfleet.execute.task import EvalOutcome, EvalTask
from hyperfleet.execute.worker import run_task_in_thread

#: seconds a sweep for the processes evaluations left behind waits after no evaluation is
#: running, so that one sweep covers many short evaluations (a sweep reads all of /proc)
SWEEP_DELAY = 0.25

#: while evaluations are short, the driver waits this long after a first result for others
#: (see :meth:`ThreadExecutor._gather`)
GATHER_S = 0.0005


class _DaemonThreads:
    """A pool of daemon threads returning ``concurrent.futures.Future`` objects.

    Unlike ``ThreadPoolExecutor``, whose threads the interpreter joins at exit, a thread stuck
    in a run function does not keep the process alive after the search has ended.
    """

    def __init__(self, n: int, name: str) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._loop, name=f"{name}-{i}", daemon=True)
                         for i in range(n)]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable, arg: Any) -> cf.Future:
        future: cf.Future = cf.Future()
        self._queue.put((future, fn, arg))
        return future

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            future, fn, arg = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(arg))
            except BaseException as exc:  # noqa: BLE001 - handed to the future's owner
                future.set_exception(exc)

    def shutdown(self) -> None:
        """Cancel what has not started and let idle threads end; never waits."""
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[0].cancel()
        for _ in self._threads:
            self._queue.put(None)


class ThreadExecutor(FuturesExecutor):
    """Runs evaluations in ``num_workers`` threads.

    Cheapest to start and to talk to; suits run functions that release the GIL (most
    training libraries do) or wait on something else. Each thread's ``print`` output goes to
    its evaluation's folder. With a time limit, a memory limit or isolation, each evaluation
    runs in a child process started by its thread, and can be killed.

    The threads are daemon threads: a run function that never returns is abandoned when the
    search ends (threads cannot be killed) and does not keep the process alive. Processes the
    evaluations start carry one token for this executor (threads share the environment, so it
    cannot be one per evaluation); they are killed whenever no evaluation is running in a
    thread (swept :data:`SWEEP_DELAY` seconds after the last one ended, by a daemon thread,
    so that short evaluations do not each pay a scan of every process), and at shutdown.
    """

    def __init__(self, num_workers: Optional[int] = None) -> None:
        super().__init__()
        self.num_workers = int(num_workers or os.cpu_count() or 1)
        if self.num_workers < 1:
            raise ValueError(f"num_workers must be >= 1, got {num_workers}")
        self._pool = _DaemonThreads(self.num_workers, "hyperfleet-eval")
        self._token = f"threads-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self._saved_token = os.environ.get(TOKEN_VAR)
        os.environ[TOKEN_VAR] = self._token
        self._running = 0
        self._lock = threading.Lock()
        self._closed = False
        self._idle = threading.Event()  # set when the running count drops to 0
        self._run_times = RecentRunTimes()
        threading.Thread(target=self._sweeper, name="hyperfleet-eval-sweeper", daemon=True).start()

    def _sweeper(self) -> None:
        while True:
            self._idle.wait()
            if self._closed:
                return
            time.sleep(SWEEP_DELAY)  # one sweep for every evaluation that ended meanwhile
            with self._lock:  # held while killing, so that no evaluation starts meanwhile
                if self._closed:  # closed while it slept: its event stays set, it must end here
                    return
                self._idle.clear()
                if self._running == 0:
                    kill_tree(self._token)

    def _run(self, task: EvalTask) -> EvalOutcome:
        with self._lock:
            self._running += 1
        try:
            outcome = run_task_in_thread(task, self._ask)
            self._run_times.add(outcome)
            return outcome
        finally:
            with self._lock:
                self._running -= 1
                if self._running == 0:
                    self._idle.set()

    queue_only_for_speed = True

    @property
    def queue_depth(self) -> int:
        """One evaluation queued per thread while evaluations are short (median run time of the
        last :data:`RECENT` below :data:`SHORT_EVAL_S`): a thread that finishes starts the next
        at once instead of waiting for the driver's thread to record its result and hand it a new
        configuration, and the driver records several ends per cycle. None queued otherwise (and
        until :data:`RECENT` evaluations have run), so that each configuration is proposed
        knowing every result that could be known."""
        return self.num_workers if self._run_times.short else 0

    def _gather(self) -> None:
        """While evaluations are short and others are still in flight, give the threads
        :data:`GATHER_S` to end them before the driver records what has ended. The driver's
        thread and the evaluations' threads share the GIL: each system call the driver makes
        while an evaluation thread is ready hands the GIL over and back, so that recording one
        result at a time costs several times what recording them together does (3,000 no-op
        evaluations on 2 threads: 1,786/s without the wait, 1,955/s with it, medians of 4)."""
        if len(self._futures) > 1 and self.queue_depth:
            time.sleep(GATHER_S)

    def _submit(self, task: EvalTask) -> Any:
        return self._pool.submit(self._run, task)

    def _ask(self, eval_id: str, step: int, value: float, when: float) -> bool:
        """A live report from an evaluation thread: wait for the driver's thread to answer it."""
        answer: queue.SimpleQueue = queue.SimpleQueue()
        self._post_report(eval_id, step, value, when, answer.put)
        while not self._closed:
            try:
                return answer.get(timeout=1.0)
            except queue.Empty:
                continue
        return False

    def _close(self) -> None:
        self._closed = True
        self._idle.set()  # the sweeper ends
        kill_live_children()
        self._pool.shutdown()
        kill_tree(self._token)
        if os.environ.get(TOKEN_VAR) == self._token:
            if self._saved_token is None:
                os.environ.pop(TOKEN_VAR, None)
            else:
                os.environ[TOKEN_VAR] = self._saved_token
