"""The Dask executor: a LocalCluster, a running Dask cluster by address, or any Client."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import shutil
import tempfile
import time
from typing import Any, Callable, Optional

from hyperfleet.execute.futures import FuturesExecutor
from hyperfleet.execute.process import pin_threads
from hyperfleet.execute.reporting import as_value
from hyperfleet.execute.task import EvalOutcome, EvalTask
from hyperfleet.execute.tls import TlsFiles

_DECISION_WAIT_S = 3600.0

logger = logging.getLogger("hyperfleet")


def run_task_on_dask_worker(task: EvalTask, topic: Optional[str] = None) -> EvalOutcome:
    """Entry point on a Dask worker (output routed per thread; Dask workers may have several).

    Live reports go up as events on ``topic`` (Dask's pub-sub through the scheduler, which the
    driver's client subscribes to); each decision comes back in a Dask ``Queue`` of the evaluation.

    A worker with one thread runs one evaluation at a time: its processes are killed when it
    ends and the worker's working directory and environment are restored.
    """
    from distributed import get_worker

    from hyperfleet.execute.worker import OWN_PROCESS, SHARED_PROCESS, run_task, thread_level_capture

    try:
        dask_worker = get_worker()
        name = f"dask-{dask_worker.name}"
        state = getattr(dask_worker, "state", dask_worker)
        threads = int(getattr(state, "nthreads", getattr(dask_worker, "nthreads", 1)) or 1)
    except ValueError:
        dask_worker, name, threads = None, None, 2
    scope = OWN_PROCESS if threads == 1 else SHARED_PROCESS
    ask = None
    if topic is not None and task.live_reports and dask_worker is not None:
        decisions = []

        def ask(eval_id: str, step: int, value: float, when: float) -> bool:
            from distributed import Queue

            if not decisions:
                decisions.append(Queue(_decision_queue(eval_id)))
            dask_worker.log_event(topic, {"eval_id": eval_id, "step": step, "value": value, "time": when})
            try:
                return bool(decisions[0].get(timeout=_DECISION_WAIT_S))
            except TimeoutError:
                return True
    return run_task(task, capture=thread_level_capture, worker=name, ask=ask, scope=scope)


def _decision_queue(eval_id: str) -> str:
    return f"hyperfleet-decision-{eval_id}"


class DaskExecutor(FuturesExecutor):
    """Runs evaluations on Dask workers.

    Args:
        num_workers: workers of the ``LocalCluster`` started when neither ``address`` nor
            ``client`` is given (one thread each; default: the number of CPUs).
        address: a running scheduler, e.g. ``tls://10.0.0.1:8786`` (from ``dask scheduler`` or
            dask-jobqueue), or the path of its scheduler file.
        client: a ``distributed.Client``, or a cluster object (``LocalCluster``,
            ``SLURMCluster`` ...), to use as it is.
        security: a ``distributed.Security`` for ``address`` (default: Dask's configuration,
            e.g. ``DASK_DISTRIBUTED__COMM__TLS__*`` variables).
        cluster_factory: builds the cluster to start instead of a ``LocalCluster``; called with
            the ``distributed.Security`` of the cluster's credentials (``--elastic``).
        release_idle: in the drain at the end of the budget, end the workers with nothing left to
            run (:meth:`release_idle`; ``--elastic`` does, so idle worker jobs stop using the
            allocation). Needs a cluster object (one this executor starts, or one given as
            ``client``); a bare scheduler address has none to scale down.

    A cluster this executor starts is secured with TLS credentials of its own
    (:mod:`hyperfleet.execute.tls`): only processes holding its key can connect. It starts when
    first used, with its credentials in the search's folder (:meth:`use_folder`), or, used
    without a search folder, in a private temporary folder removed at shutdown.

    A task whose worker dies is not retried on another worker (a crashing evaluation would
    otherwise take down one worker after another): it is FAILED and the nanny restarts the worker.
    The number of workers is read from the scheduler, so clusters that grow or shrink (adaptive,
    dask-jobqueue) are used as they are.
    """

    def __init__(self, num_workers: Optional[int] = None, address: Optional[str] = None,
                 client: Any = None, security: Any = None,
                 cluster_factory: Optional[Callable[[Any], Any]] = None, release_idle: bool = False) -> None:
        super().__init__()
        try:
            import distributed
        except ImportError:
            raise ImportError("the dask evaluator needs Dask: pip install 'hyperfleet[dask]'") from None
        self._own_cluster = None
        self._client = None
        self._num_workers = num_workers
        self._factory = cluster_factory
        self._folder: Optional[str] = None
        self._scratch: Optional[str] = None
        self.tls_files: Optional[TlsFiles] = None
        self._own_client = client is None or not isinstance(client, distributed.Client)
        self._given_cluster = client if client is not None and not isinstance(client, distributed.Client) else None
        self._release = bool(release_idle)
        self._released_check = -1e9
        self.released = 0  #: workers released so far (see :meth:`release_idle`)
        if client is not None:
            self._client = client if isinstance(client, distributed.Client) else distributed.Client(client)
        elif address is not None:
            target = {"scheduler_file": address} if os.path.isfile(address) else {"address": address}
            try:
                self._client = distributed.Client(**target, timeout="10s", security=security)
            except (OSError, TimeoutError) as err:
                raise ValueError(f"cannot reach the Dask scheduler at {address}: {err}; start one with "
                                 f"`dask scheduler` or check the address (and its TLS credentials)") from None
        self._count, self._counted_at = 0, -1e9
        self._topic: Optional[str] = None

    def use_folder(self, folder: str) -> None:
        """Keep the credentials of the cluster this executor starts in ``folder/dask-tls``."""
        if self._client is None:
            self._folder = folder

    @property
    def client(self) -> Any:
        """The ``distributed.Client`` (starting the executor's own cluster on first use)."""
        if self._client is None:
            self._start_cluster()
        return self._client

    def _start_cluster(self) -> None:
        import dask
        import distributed

        from hyperfleet.execute.tls import cluster_credentials

        if self._folder is None:
            self._scratch = tempfile.mkdtemp(prefix="hyperfleet-dask-")  # 0700
        self.tls_files = cluster_credentials(self._folder or self._scratch)
        security = self.tls_files.security()
        if self._factory is not None:
            self._own_cluster = self._factory(security)
        else:
            pin_threads(1)
            n = int(self._num_workers or os.cpu_count() or 1)
            with dask.config.set({"distributed.scheduler.allowed-failures": 0,
                                  "distributed.worker.daemon": False}):
                self._own_cluster = distributed.LocalCluster(
                    n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                    protocol="tls://", host="127.0.0.1", security=security, silence_logs=logging.ERROR)
        self._client = distributed.Client(self._own_cluster, security=security)


    def set_report_handler(self, handler) -> None:
        """Subscribe to the workers' report events (see :func:`run_task_on_dask_worker`)."""
        super().set_report_handler(handler)
        if handler is not None and self._topic is None:
            import uuid

            self._topic = f"hyperfleet-reports-{uuid.uuid4().hex[:12]}"
            self.client.subscribe_topic(self._topic, self._on_event)

    def _on_event(self, event) -> None:
        """In the client's event loop: pass the report to the driver's thread."""
        msg = event[1] if isinstance(event, tuple) else event
        eval_id = msg["eval_id"]
        self._post_report(eval_id, int(msg["step"]), as_value(msg["value"]), float(msg["time"]),
                          functools.partial(self._reply, eval_id))

    def _reply(self, eval_id: str, go: bool) -> None:
        from distributed import Queue

        Queue(_decision_queue(eval_id), client=self.client).put(bool(go))

    @property
    def queue_depth(self) -> int:
        """One evaluation queued per worker: a worker that finishes starts the next at once,
        instead of waiting for its result to reach the driver and a new task to come back."""
        return self.num_workers

    @property
    def num_workers(self) -> int:
        """Worker threads the scheduler knows, re-read at most once a second."""
        now = time.monotonic()
        if now - self._counted_at > 1.0:
            info = self.client.scheduler_info(**({"n_workers": -1} if _accepts_n_workers() else {}))
            self._count = sum(w.get("nthreads", 1) for w in info.get("workers", {}).values())
            self._counted_at = now
        return self._count

    @property
    def releases_idle(self) -> bool:
        return self._release

    def release_idle(self) -> int:
        """End the workers with nothing to run, once every evaluation still to run has one (at
        most once a second): a worker with no task, and a worker job not yet connected. The
        cluster retires them gracefully (results they hold move to another worker) and, for
        dask-jobqueue, cancels their jobs."""
        cluster = self._own_cluster if self._own_cluster is not None else self._given_cluster
        now = time.monotonic()
        if (not self._release or self._client is None or not hasattr(cluster, "worker_spec")
                or now - self._released_check < 1.0):
            return 0
        self._released_check = now
        processing = self._client.processing()
        if sum(len(keys) for keys in processing.values()) < self.in_flight:
            return 0  # an evaluation waits for a worker, or a result is on its way back
        info = self._client.scheduler_info(**({"n_workers": -1} if _accepts_n_workers() else {}))["workers"]
        connected = {w.get("name") for w in info.values()}
        names = [info[a].get("name") for a, keys in processing.items() if not keys and a in info]
        names += [name for name in cluster.worker_spec if name not in connected]  # jobs not started yet
        names = [name for name in names if name in cluster.worker_spec]
        if not names:
            return 0
        cluster.sync(cluster.scale_down, names)
        self.released += len(names)
        self._counted_at = -1e9
        logger.info("the budget has no more work for %d idle Dask worker(s): released", len(names))
        return len(names)

    def _submit(self, task: EvalTask) -> Any:
        return self.client.submit(run_task_on_dask_worker, task, self._topic if task.live_reports else None,
                                  key=f"hyperfleet-eval-{task.eval_id}", pure=False, retries=0)

    def _describe_loss(self, err: BaseException) -> str:
        if type(err).__name__ == "KilledWorker":
            return ("the Dask worker running the evaluation died (crash, os._exit or out of memory); "
                    f"the worker was restarted ({err})")
        return super()._describe_loss(err)

    def _close(self) -> None:
        if self._topic is not None and self._client is not None:
            with contextlib.suppress(Exception):
                self._client.unsubscribe_topic(self._topic)
        if self._own_client and self._client is not None:
            self._client.close()
        if self._own_cluster is not None:
            self._own_cluster.close()
            self._own_cluster = None
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None


@functools.lru_cache(maxsize=1)
def _accepts_n_workers() -> bool:
    import inspect

    import distributed

    return "n_workers" in inspect.signature(distributed.Client.scheduler_info).parameters
