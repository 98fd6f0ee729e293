"""``hyperfleet submit``: a search as a batch job, like the tutorial's ``balsam-submit``.

The search is recorded in the store first (QUEUED, with the scheduler's job id); inside the
allocation the batch script runs ``hyperfleet resume ID --queued-only``, which starts it from
the store. Submitting again with the label of a search that stopped (walltime, cancel) continues
that search in a new job.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Optional

from hyperfleet.batch.schedulers import BatchJob, Scheduler, SchedulerError, get_scheduler
from hyperfleet.execute.tls import TLS_FOLDER, TlsFiles, cluster_credentials
from hyperfleet.files import create_file, set_file_mode, write_private_text
from hyperfleet.store import SearchRecord, SearchState, Store
from hyperfleet.store.engines import has_secret

#: seconds a batch job needs before the search runs (Python, imports, workers)
STARTUP_S = 30
JOB_MODES = ("serial", "mpi")


def stop_margin(minutes: int) -> float:
    """Seconds kept free at the end of the walltime to stop cleanly and leave the store consistent."""
    return max(30.0, 0.05 * minutes * 60)


def search_time(minutes: int) -> float:
    """Seconds the search itself may run inside a job of ``minutes``."""
    seconds = minutes * 60 - STARTUP_S - stop_margin(minutes)
    if seconds < 30:
        raise ValueError(f"a walltime of {minutes} min leaves {max(seconds, 0):.0f} s for the search after "
                         f"{STARTUP_S} s of start-up and {stop_margin(minutes):.0f} s to stop cleanly; ask -t 2 or more")
    return seconds


#: file in the search's folder (mode 0600) holding a store URL with a secret, read by the job
STORE_URL_FILE = "store-url"


def job_body(record: SearchRecord, store_url: str, minutes: int, nodes: int, job_mode: str,
             slots_per_node: Optional[int], scheduler: Scheduler, python: str = sys.executable) -> list[str]:
    """The shell lines that start the recorded search inside the allocation.

    A store URL with a password or another secret is not written into the script (schedulers
    keep copies of job scripts) nor given on a command line (``ps`` shows those to everyone): the
    job's ``hyperfleet resume --store-file`` reads it from ``STORE_URL_FILE`` in the search's
    folder, which :func:`submit_search` writes readable only by you. Several nodes run a Dask
    cluster secured with the search's TLS credentials (``dask-tls`` in its folder).
    """
    py = shlex.quote(python)
    folder = shlex.quote(record.folder)
    slots = str(slots_per_node) if slots_per_node else f"${{{scheduler.cpus_var}:-$(nproc)}}"
    store = (f"--store-file {shlex.quote(str(Path(record.folder) / STORE_URL_FILE))}" if has_secret(store_url)
             else f"--store {shlex.quote(store_url)}")
    resume = (f"{py} -m hyperfleet resume {record.id} {store} --queued-only "
              f"--timeout {search_time(minutes):.0f}")
    lines = ["set -u", "umask 077", "export PYTHONUNBUFFERED=1", f'echo "hyperfleet search {record.id} on $(hostname)"']
    drivers = int((record.settings.get("batch") or {}).get("drivers") or 1)
    if drivers > 1:  # K drivers on the node, each with its share of the slots: the first starts, the others join
        join = (f"{py} -m hyperfleet search --join {record.id} {store} --quiet --evaluator process "
                f"--timeout {search_time(minutes):.0f} --workers \"$WORKERS\"")
        lines += [f"WORKERS=$(( ({slots} + {drivers - 1}) / {drivers} ))",
                  f"{resume} --evaluator process --workers \"$WORKERS\" &", "FIRST=$!",
                  *[f"{join} &" for _ in range(drivers - 1)],
                  "STATUS=0", "wait $FIRST || STATUS=$?", "wait || true", "exit $STATUS"]
    elif job_mode == "mpi":  # each evaluation gets whole nodes (NodePool) and launches its MPI program
        lines += [f"{resume} --evaluator process --workers {nodes}"]
    elif nodes == 1:
        lines += [f"{resume} --evaluator process --workers {slots}"]
    else:  # one Dask worker per slot on every node, the driver beside the scheduler; TLS both ways
        tls = TlsFiles.in_folder(Path(record.folder) / TLS_FOLDER)
        client_env = " ".join(f"{k}={shlex.quote(v)}" for k, v in tls.environment().items())
        lines += [f"SCHEDULER_FILE={folder}/dask-scheduler-${{{scheduler.job_id_var}:-$$}}.json",
                  f"{py} -m distributed.cli.dask_scheduler --scheduler-file \"$SCHEDULER_FILE\" "
                  f"--protocol tls --no-dashboard --dashboard-address 127.0.0.1:0 {tls.cli_options()} &",
                  f"{scheduler.per_node(nodes)} {py} -m distributed.cli.dask_worker "
                  f"--scheduler-file \"$SCHEDULER_FILE\" --nworkers {slots} --nthreads 1 --no-dashboard "
                  "--dashboard-address 127.0.0.1:0 "
                  f"{tls.cli_options()} &",
                  "sleep 5",
                  f"{client_env} {resume} --evaluator dask --dask-address \"$SCHEDULER_FILE\"",
                  "kill %1 %2 2>/dev/null || true"]
    return lines


def submit_search(store: Store, *, problem, problem_ref, run_ref, label: str, minutes: int, nodes: int,
                  queue: Optional[str], account: Optional[str], job_mode: str, settings: dict,
                  scheduler: Optional[str] = None, slots_per_node: Optional[int] = None,
                  gpus_per_node: int = 0) -> tuple[SearchRecord, str, Scheduler]:
    """Record the search (or take up the stopped one with this label), write and submit its script.

    Returns:
        The search record, the scheduler's job id and the scheduler.

    Raises:
        SchedulerError: no scheduler, or it refused the job (its own message); the search is then
            marked FAILED with that message.
        ValueError: a bad walltime, job mode, or a label whose search is queued or running.
    """
    from hyperfleet.api import check_label, create_search_record, recorded_problem

    if job_mode not in JOB_MODES:
        raise ValueError(f"job mode must be one of {', '.join(JOB_MODES)}, got {job_mode!r}")
    if nodes < 1 or minutes < 1:
        raise ValueError("-n NODES and -t MINUTES must be >= 1")
    search_time(minutes)
    check_label(label)
    sched = get_scheduler(scheduler)
    previous = [s for s in store.find_searches(label) if s.label == label]
    record = previous[-1] if previous else None
    if record is not None and record.state in (SearchState.QUEUED, SearchState.RUNNING):
        where = f" (job {record.job_id})" if record.job_id else ""
        raise ValueError(f"search {label} is already {record.state.value}{where}; wait for it, cancel it with "
                         f"`hyperfleet cancel {label}`, or choose another label")
    drawn = None
    if record is None:
        if settings.get("seed") is None and settings.get("search") in ("ambs", "random"):
            from hyperfleet.labels import draw_seed

            settings = {**settings, "seed": draw_seed()}
            drawn = settings["seed"]
        record = create_search_record(store, problem, run_ref, label, settings, problem_path=str(problem_ref))
    else:  # a label names one search: continue the stopped search in a new job
        recorded_problem(record)
        summary = store.summary(record.id)
        print(f"label {label} exists ({record.state.value}, {summary.done + summary.failed} evaluations): "
              f"continuing it in a new job up to {settings['max_evals']} evaluations", file=sys.stderr, flush=True)
        store.update_search(record.id, settings={**record.settings, "max_evals": settings["max_evals"]})
    folder = Path(record.folder)
    store_url = getattr(store, "url", "")
    if has_secret(store_url):
        write_private_text(folder / STORE_URL_FILE, store_url)
    if job_mode == "serial" and nodes > 1:
        cluster_credentials(folder)
    number = len(list(folder.glob("batch-*.sh"))) + 1
    script_path = folder / f"batch-{number}.{sched.name}.sh"
    job = BatchJob(name=f"hf-{label}"[:64], minutes=minutes, nodes=nodes, queue=queue, account=account,
                   output=str(folder / f"batch-{number}.out"), workdir=os.getcwd(), gpus_per_node=gpus_per_node,
                   body=job_body(record, store_url, minutes, nodes, job_mode, slots_per_node, sched))
    script_path.write_text(sched.render(job))
    set_file_mode(script_path)
    create_file(job.output)  # the scheduler appends to it with the job's umask otherwise
    # QUEUED before the job exists: a job that starts at once must find its search QUEUED, and
    # nothing written after the submission may overwrite the RUNNING state it sets.
    store.update_search(record.id, state=SearchState.QUEUED, scheduler=sched.name, job_id=None,
                        message=f"submitting to {sched.name}")
    try:
        job_id = sched.submit(str(script_path))
    except Exception as err:  # the scheduler's own words become the search's reason, whatever failed
        message = str(err) if isinstance(err, SchedulerError) else f"submitting to {sched.name} failed: {err}"
        store.update_search(record.id, state=SearchState.FAILED, message=message)
        raise
    store.update_search(record.id, job_id=job_id)
    if drawn is not None:  # said once the job exists: a refused submission is one line
        print(f"seed {drawn} (drawn and recorded; --seed {drawn} repeats this search)", file=sys.stderr, flush=True)
    return store.get_search(record.id), job_id, sched


def cancel_search(store: Store, record: SearchRecord) -> str:
    """Cancel a batch job or stop a local driver; mark what was running CANCELLED."""
    import signal
    import time

    from hyperfleet.driver_lifecycle import driver_liveness
    from hyperfleet.interrupt import CANCEL_MESSAGE
    from hyperfleet.store import EvaluationState

    if record.state not in (SearchState.QUEUED, SearchState.RUNNING, SearchState.CREATED):
        raise ValueError(f"search {record.label} is {record.state.value}: nothing to cancel")
    if record.job_id and record.scheduler:
        get_scheduler(record.scheduler).cancel(record.job_id)
        what = f"{record.scheduler} job {record.job_id} cancelled"
    elif record.driver_pid and (alive := driver_liveness(record)) != "unknown":
        if alive == "alive":  # pid, start time and boot id all match: the driver itself
            store.update_search(record.id, message=CANCEL_MESSAGE)  # the driver gives it as its reason
            try:
                os.kill(record.driver_pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            what = f"driver (pid {record.driver_pid}) stopped"
        else:  # gone (or its pid now belongs to another process, which is left alone)
            what = f"its driver (pid {record.driver_pid}) was no longer running"
    elif record.driver_pid is None and record.state != SearchState.RUNNING:
        what = "it had not started"
    else:
        raise ValueError(f"search {record.label} runs on {record.driver_host}, not here; cancel it there")
    _stop_members(store, record)
    now = time.time()
    running = store.list_evaluations(record.id, [EvaluationState.RUNNING, EvaluationState.CREATED])
    store.update_evaluations([(e.id, {"state": EvaluationState.CANCELLED, "end_time": now,
                                      "error": "cancelled with hyperfleet cancel"}) for e in running])
    store.update_search(record.id, state=SearchState.CANCELLED, end_time=now, message=f"{CANCEL_MESSAGE}: {what}")
    return what


def _stop_members(store: Store, record: SearchRecord) -> None:
    """SIGTERM the other drivers of the search running on this host; those elsewhere stop at their
    next heartbeat, when they read that the search is CANCELLED."""
    import signal

    from hyperfleet.driver_shared import member_liveness
    from hyperfleet.interrupt import CANCEL_MESSAGE
    from hyperfleet.store import MemberState

    local = [m for m in store.list_members(record.id, [MemberState.RUNNING])
             if m.pid != record.driver_pid and member_liveness(m) == "alive"]
    if local:
        store.update_search(record.id, message=CANCEL_MESSAGE)  # the drivers give it as their reason
    for member in local:
        try:
            os.kill(member.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


__all__ = ["submit_search", "cancel_search", "search_time", "stop_margin", "job_body", "SchedulerError"]
