"""Elastic mode: the driver stays here, workers come and go as batch jobs (dask-jobqueue)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence

from hyperfleet.batch.schedulers import get_scheduler

if TYPE_CHECKING:
    from hyperfleet.driver import SearchResult


def import_jobqueue():
    """``dask_jobqueue``, imported without its side effect: its ``runner`` module sets SIGINT to
    ``sys.exit()`` on import, which would turn a Ctrl-C of the search into a plain exit (the
    search recorded as FAILED instead of CANCELLED). The handler in place before is put back."""
    import signal
    import threading

    main = threading.current_thread() is threading.main_thread()
    before = signal.getsignal(signal.SIGINT) if main else None
    try:
        import dask_jobqueue
    except ImportError:
        raise ImportError("elastic mode needs dask-jobqueue: pip install 'hyperfleet[dask]'") from None
    finally:
        if main and before is not None:
            signal.signal(signal.SIGINT, before)
    return dask_jobqueue


def jobqueue_cluster(scheduler_name: str, minutes: int, queue: Optional[str], account: Optional[str],
                     slots: int, memory: str = "1GB", security: Any = None):
    """A dask-jobqueue cluster whose every job is one Dask worker process with ``slots`` threads.

    With ``security`` (a ``distributed.Security`` of files on a shared file system), the
    scheduler and the workers speak TLS and accept only peers holding its key.
    """
    dask_jobqueue = import_jobqueue()
    classes = {"slurm": dask_jobqueue.SLURMCluster, "pbs": dask_jobqueue.PBSCluster,
               "lsf": dask_jobqueue.LSFCluster}
    options = dict(cores=slots, processes=1, memory=memory, queue=queue, account=account, security=security,
                   walltime=f"{minutes // 60:02d}:{minutes % 60:02d}:00",
                   scheduler_options={"host": "127.0.0.1" if scheduler_name == "slurm" else None,
                                      "dashboard_address": ":0"})
    if options["scheduler_options"]["host"] is None:
        del options["scheduler_options"]["host"]
    return classes[scheduler_name](**options)


def run_elastic(problem, problem_ref, run_ref, *, label: str, minutes: int, nodes: int, queue: Optional[str],
                account: Optional[str], scheduler: Optional[str], slots_per_node: Optional[int], search: str,
                max_evals: int, seed: Optional[int], eval_timeout: Optional[float], search_settings: dict,
                store, drain: bool = True, callbacks: Sequence[object] = (),
                notify: Optional[Callable[[str], None]] = None, stopper: Optional[str] = None,
                stopper_settings: Optional[dict] = None, eval_memory: Optional[float] = None) -> SearchResult:
    """Run the search here on up to ``nodes`` worker jobs of ``minutes`` each (dask-jobqueue).

    Worker jobs are asked for at the start and the scheduler may start them one by one; the
    search uses whichever workers are up; in the drain at the end of the budget, each worker job
    with nothing left to run is cancelled (and one still waiting to start, too). The cluster uses the search's TLS credentials
    (``dask-tls`` in its folder), so only you can use its scheduler. Closing the search cancels
    the worker jobs.

    Args:
        callbacks: driver callbacks (the CLI's progress display).
        notify: called with one line once the worker jobs are asked for (the CLI prints it).

    Returns:
        The search's result.
    """
    from hyperfleet.api import run_search
    from hyperfleet.execute.dask import DaskExecutor

    sched = get_scheduler(scheduler)

    def start_cluster(security):
        cluster = jobqueue_cluster(sched.name, minutes, queue, account, slots_per_node or 1, security=security)
        cluster.scale(jobs=nodes)
        if notify is not None:
            notify(f"elastic: up to {nodes} {sched.name} worker job(s) of {minutes} min; "
                   f"Dask scheduler at {cluster.scheduler_address}")
        return cluster

    executor = DaskExecutor(cluster_factory=start_cluster, release_idle=True)
    try:
        return run_search(problem, run_ref, search=search, max_evals=max_evals, drain=drain, evaluator=executor,
                          label=label, seed=seed, store=store, search_settings=search_settings,
                          problem_path=str(problem_ref), callbacks=callbacks, eval_timeout=eval_timeout,
                          stopper=stopper, stopper_settings=stopper_settings, eval_memory=eval_memory)
    finally:
        executor.shutdown()
