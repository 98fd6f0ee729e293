"""The Python face of a whole search: everything ``hyperfleet search`` does, as one call."""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Optional, Sequence, Union

from hyperfleet.driver import Driver, SearchResult
from hyperfleet.driver_lifecycle import DriverClaim
from hyperfleet.driver_settings import DriverSettings, Resources
from hyperfleet.execute import Executor, make_executor
from hyperfleet.execute.resources import GpuPool
from hyperfleet.files import folder_mode, make_folder  # noqa: F401 - folder_mode: once defined here
from hyperfleet.interrupt import report_interrupted
from hyperfleet.labels import draw_seed, reused_label
from hyperfleet.main_guard import check_main_guard
from hyperfleet.problem import HpProblem
from hyperfleet.search import SEARCHES, Search, make_search
from hyperfleet.search_records import (  # noqa: F401 - part of this module's interface
    _in_process,
    best_evaluations,
    check_label,
    check_not_running,
    pareto_evaluations,
    recorded_problem,
    recorded_run,
    run_ref_of,
)
from hyperfleet.store import SearchRecord, SearchState, Store, StoreUnavailable, open_store
from hyperfleet.user_code import CodeRef

SEARCHES_FOLDER = "searches"


def create_search_record(store: Store, problem: HpProblem, run_ref: CodeRef, label: Optional[str],
                         settings: dict, problem_path: Optional[str] = None) -> SearchRecord:
    """Register a new search in the store and create its folder beside the store."""
    label = check_label(label or time.strftime("search-%Y%m%d-%H%M%S"))
    search_id = str(uuid.uuid4())
    root = Path(getattr(store, "root", Path.cwd()))
    folder = root / SEARCHES_FOLDER / f"{label}-{search_id[:8]}"
    try:
        make_folder(root / SEARCHES_FOLDER)
        make_folder(folder, exist_ok=False)
    except OSError as err:
        raise OSError(f"cannot create the search folder {folder}: {err.strerror}; "
                      f"choose a writable place for the store with --store") from None
    return store.create_search(label, str(folder), problem.to_dict(), settings,
                               problem_path=problem_path, run_path=str(run_ref),
                               search_id=search_id)


def run_search(problem: HpProblem, run: Union[str, Callable, CodeRef], *,
               search: Union[str, Search] = "ambs", max_evals: int = 100,
               timeout: Optional[float] = None, evaluator: Union[str, Executor, Any] = "process",
               workers: Optional[int] = None, label: Optional[str] = None, seed: Optional[int] = None,
               store: Union[str, Store, None] = None, search_settings: Optional[dict] = None,
               problem_path: Optional[str] = None, callbacks: Sequence[object] = (),
               eval_timeout: Optional[float] = None, isolate: Optional[bool] = None,
               gpus_per_eval: int = 0, gpus: Optional[Sequence[str]] = None,
               dask_address: Optional[str] = None, prefetch: Optional[int] = None,
               max_failures: Optional[int] = None, drain: bool = True,
               new: bool = False, stopper: Union[str, Any, None] = None,
               stopper_settings: Optional[dict] = None, eval_memory: Optional[float] = None,
               warm_start: Optional[str] = None) -> Optional[SearchResult]:
    """Run a whole search and return its result.

    A label names one search: when ``label`` is taken, that search is continued (like
    :func:`continue_search`, with this ``max_evals`` as the new total and this ``timeout``,
    ``evaluator`` and ``workers``; its other settings as recorded), provided it searches the same
    space with the same run function and search algorithm; ``new=True`` starts another search
    with the label instead.

    Args:
        problem: the search space.
        run: the run function (``"file.py"``, ``"file.py:func"`` or a top-level function);
            it takes a dict of hyperparameters and returns the objective to maximize (or a dict
            with ``objective`` and metadata).
        search: ``"ambs"``, ``"random"`` or a :class:`~hyperfleet.Search` instance.
        max_evals: number of evaluations (never exceeded, unless ``drain=False``).
        timeout: wall-clock seconds after which the search stops.
        evaluator: ``"serial"``, ``"thread"``, ``"process"``, ``"dask"``, ``"mpi"``, an
            :class:`~hyperfleet.execute.Executor`, or a Dask ``Client`` / cluster object.
        workers: worker count for ``thread``/``process``/``dask`` (default: CPU count).
        label: a name for the search (default: ``search-DATE-TIME``).
        seed: random seed of the search (default: one is drawn, recorded in the settings and
            printed, so the search can be reproduced with it).
        store: a store, or its path/URL (default: ``$HYPERFLEET_STORE``, else the first
            ``hyperfleet.db`` in the current folder or a parent, else a new ``./hyperfleet.db``;
            see :func:`hyperfleet.store.locate_store`).
        search_settings: settings passed to the search by name (e.g. AMBS's ``kappa``).
        problem_path: where the problem came from, recorded for reference.
        callbacks: objects with ``on_start``/``on_launch``/``on_done`` methods.
        eval_timeout: seconds after which one evaluation is killed (state TIMEOUT).
        isolate: run each evaluation in a child process of its own (default: only for ``mpi``).
        gpus_per_eval: GPUs given to each running evaluation through ``CUDA_VISIBLE_DEVICES``.
        gpus: the GPU ids to hand out (default: detected).
        dask_address: a running Dask scheduler for ``evaluator="dask"``.
        prefetch: configurations asked ahead so free workers restart at once (default: 1 with
            several workers, 0 with one; see :class:`~hyperfleet.driver.Driver`).
        max_failures: stop the search once this many evaluations have failed.
        drain: ``False`` keeps every worker busy until ``max_evals`` evaluations have finished and
            then cancels those still running (no idle workers at the end of the budget; see
            :class:`~hyperfleet.driver.Driver`).
        new: start a new search even when ``label`` is taken (see above).
        stopper: stop bad trainings early: a stopper's name (``"asha"``, ``"median"``, ``"fixed"``
            ...) or a :class:`~hyperfleet.stop.Stopper` instance; the run function reports with
            :func:`hyperfleet.report`. None: every training runs to its end.
        stopper_settings: the named stopper's settings (e.g. ``{"max_step": 20}``).
        eval_memory: GB of memory each evaluation's processes may use together; over it they are
            killed and the evaluation is FAILED with "out of memory" (each evaluation then runs
            in a child process of its own).
        warm_start: the label or id of an earlier search in the same store whose finished
            results are told to this one before it starts (not re-run, outside ``max_evals``;
            fitted to a changed space as :mod:`hyperfleet.warm_start` says).

    Returns:
        :class:`~hyperfleet.driver.SearchResult` with the search record, counts and best
        evaluation; ``None`` on the worker ranks of an MPI run.

    Examples:
        >>> result = run_search(problem, "model_run.py", search="random", max_evals=30,
        ...                     evaluator="process", workers=2)  # doctest: +SKIP
        >>> result.best.objective, result.folder  # doctest: +SKIP
    """
    check_main_guard(evaluator == "process" or (evaluator == "dask" and not dask_address))
    run_ref = run_ref_of(run, pickled=not _in_process(evaluator, isolate, eval_timeout, gpus_per_eval))
    Resources(gpus_per_eval=gpus_per_eval, gpus=gpus)  # checks the GPU options before detecting any
    gpu_ids = GpuPool(gpus_per_eval, gpus).ids if gpus_per_eval else None
    search_settings = dict(search_settings or {})
    own_store = not isinstance(store, Store)
    if label is not None and not new:
        check_label(label)
        store_obj = open_store(store) if own_store else store
        try:
            taken = [s for s in store_obj.find_searches(label) if s.label == label]
            if taken:
                continuing = reused_label(store_obj, taken[-1], problem, run_ref, search, max_evals)
                print(continuing, file=sys.stderr, flush=True)
                return continue_search(taken[-1].id, store=store_obj, max_evals=max_evals, timeout=timeout,
                                       evaluator=evaluator, workers=workers, callbacks=callbacks,
                                       search=search if isinstance(search, Search) else None, run=run,
                                       store_arg=store)
        finally:
            if own_store:
                store_obj.close()
    if seed is None and not isinstance(search, Search):
        seed = drawn_seed = draw_seed()
    else:
        drawn_seed = None
    if isinstance(search, Search):
        search_obj, search_name = search, type(search).__name__
    else:
        search_obj, search_name = make_search(search, problem, seed=seed, **search_settings), search
    stopper_obj, stop_flat = _stopper(stopper, stopper_settings, seed)
    settings = {"search": search_name, "search_settings": search_settings, "seed": seed,
                "evaluator": evaluator if isinstance(evaluator, str) else None, "workers": workers, "dask_address": dask_address,
                "max_evals": max_evals, "timeout": timeout, "eval_timeout": eval_timeout,
                "isolate": evaluator == "mpi" if isolate is None else isolate,
                "gpus_per_eval": gpus_per_eval, "gpus": gpu_ids, "prefetch": prefetch,
                "max_failures": max_failures, "drain": bool(drain), "eval_memory": eval_memory, **stop_flat}
    DriverSettings.from_dict(settings)  # bad values are refused before anything starts or is recorded
    executor = _executor(evaluator, workers, dask_address)
    if executor is None:  # an MPI worker rank, done serving evaluations
        return None
    settings["evaluator"] = evaluator if isinstance(evaluator, str) else type(executor).__name__
    try:
        store_obj = open_store(store) if own_store else store
        try:
            if warm_start is not None:
                from hyperfleet.warm_start import load_warm_start

                warm = load_warm_start(store_obj, warm_start, problem)
                settings["warm_start"] = warm.setting
                warm.tell(search_obj)
                print(warm.line, file=sys.stderr, flush=True)
            record = create_search_record(store_obj, problem, run_ref, label, settings, problem_path)
            if drawn_seed is not None:
                print(f"seed {drawn_seed} (drawn and recorded; --seed {drawn_seed} repeats this search)",
                      file=sys.stderr, flush=True)
            return drive(store_obj, record, problem, run_ref, search_obj, executor, settings, callbacks,
                         store_arg=store, stopper=stopper_obj)
        finally:
            if own_store:
                store_obj.close()
    finally:
        executor.shutdown()


def drive(store: Store, record: SearchRecord, problem: HpProblem, run_ref: CodeRef, search: Search,
          executor: Executor, settings: dict, callbacks: Sequence[object] = (),
          history: Sequence = (), rerun_running: bool = True,
          claim: Optional[DriverClaim] = None, store_arg=None, stopper: Any = None) -> SearchResult:
    """Run the driver for ``record`` with the recorded ``settings``, holding the search's claim
    (``stopper``: an instance to use instead of the recorded one).

    On Ctrl-C (``KeyboardInterrupt``) the search is recorded INTERRUPTED, the best result so far
    and the ``hyperfleet resume`` command that continues it are printed on stderr, and the
    ``KeyboardInterrupt`` is raised again.

    Raises:
        SearchBusy: another driver holds the search (nothing was written).
        StoreUnavailable: the store stayed locked; the message says how to continue the search.
    """
    from hyperfleet.driver_shared import Membership

    claim = claim or DriverClaim.acquire(store, record)
    member = None
    executor.use_folder(record.folder)  # e.g. a Dask cluster's TLS credentials, before it starts
    try:
        member = Membership.join(store, record, "primary", executor.num_workers)  # others may join
        driver = Driver(record, problem, run_ref, search, executor, claim.guard(store),
                        DriverSettings.from_dict(settings), callbacks, history=history,
                        rerun_running=rerun_running, stopper=stopper, member=member)
        return driver.run()
    except KeyboardInterrupt:
        report_interrupted(store, record.id, store_arg)
        raise
    except StoreUnavailable as err:
        raise StoreUnavailable(f"{err}; the search stopped: continue it with: hyperfleet resume "
                               f"{record.label}") from err
    finally:
        if member is not None:
            member.leave()
        claim.release()


def _stopper(stopper: Any, settings: Optional[dict], seed: Optional[int]) -> tuple[Any, dict]:
    """(a stopper instance or None to build the recorded one, the flat settings to record);
    an unknown stopper or setting is refused here, before anything is recorded."""
    from hyperfleet.driver_settings import StopPolicy

    if stopper is None or isinstance(stopper, str):
        policy = StopPolicy(stopper, dict(settings or {}))
        policy.make(seed=seed)
        return None, policy.to_flat()
    if settings:
        raise ValueError("stopper_settings go with a stopper's name; a Stopper instance has its own")
    recorded = getattr(stopper, "settings", None)
    try:
        from dataclasses import asdict, is_dataclass

        recorded = asdict(recorded) if is_dataclass(recorded) else dict(recorded or {})
    except (TypeError, ValueError):
        recorded = {}
    return stopper, {"stopper": getattr(stopper, "name", None) or type(stopper).__name__,
                     "stopper_settings": recorded}


def continue_search(ref: str, *, store: Union[str, Store, None] = None, max_evals: Optional[int] = None,
                    timeout: Optional[float] = None, running: str = "rerun", evaluator: Optional[str] = None,
                    workers: Optional[int] = None, search: Optional[Search] = None,
                    callbacks: Sequence[object] = (), queued_only: bool = False,
                    dask_address: Optional[str] = None, max_failures: Optional[int] = None,
                    run: Union[str, Callable, None] = None, store_arg=None,
                    stopper: Any = None, eval_memory: Optional[float] = None) -> Optional[SearchResult]:
    """Continue a search from the store alone (``hyperfleet resume``; also how a batch job starts).

    Finished evaluations are kept and told to the search; the ones a dead driver left RUNNING are
    re-run (``running="rerun"``) or marked FAILED (``running="fail"``); ``max_evals`` counts
    what is done.

    Args:
        ref: the search's label (latest with it) or id prefix.
        store: the store or its location (default: found as :func:`hyperfleet.store.locate_store`
            says; never created).
        max_evals: a new total budget (default: the recorded one).
        timeout: wall-clock seconds for this run (default: none, or the recorded one).
        running: what to do with evaluations left RUNNING: ``"rerun"`` or ``"fail"``.
        evaluator, workers: run on another evaluator than the recorded one.
        dask_address: with ``evaluator="dask"``, the running Dask scheduler to use.
        search: a search instance, for searches started with a custom ``Search`` object.
        callbacks: driver callbacks (progress display).
        queued_only: refuse unless the search is QUEUED or CREATED (a batch job starting it).
        dask_address: the Dask scheduler (address or scheduler file) for ``evaluator="dask"``.
        max_failures: stop once this many evaluations have failed in this run (default: the
            recorded limit; failures of earlier runs never count).
        run: the run function again, for a search started with a function no file defines (a
            notebook's, a closure: the store cannot hold it); default: the recorded location.
        store_arg: the store as the user named it, for the resume command printed on Ctrl-C.
        stopper: a stopper instance, for searches started with a custom ``Stopper`` object
            (default: the recorded stopper, rebuilt from the store's intermediate values).
        eval_memory: a new per-evaluation memory limit in GB (default: the recorded one).

    Raises:
        ValueError: the search is running elsewhere (:class:`SearchBusy`: another driver holds
            it; nothing was written), its problem or run file changed incompatibly or is gone, or
            an option is wrong.
    """
    if running not in ("rerun", "fail"):
        raise ValueError(f"--running must be 'rerun' or 'fail', got {running!r}")
    own_store = not isinstance(store, Store)
    store_obj = open_store(store, create=False) if own_store else store
    try:
        record = store_obj.resolve_search(ref)
        check_not_running(record)
        if queued_only and record.state not in (SearchState.QUEUED, SearchState.CREATED):
            raise ValueError(f"search {record.label} ({record.id[:8]}) is {record.state.value}, not QUEUED; "
                             f"continue it with: hyperfleet resume {record.label}")
        problem = recorded_problem(record)
        settings = dict(record.settings)
        if max_failures is not None:
            settings["max_failures"] = max_failures
        if max_evals is not None:
            settings["max_evals"] = max_evals
        if timeout is not None:
            settings["timeout"] = timeout
        if eval_memory is not None:
            settings["eval_memory"] = eval_memory
        if evaluator is not None and not isinstance(evaluator, str):  # an Executor or a Dask client
            settings["evaluator"], settings["workers"] = type(evaluator).__name__, workers
        elif evaluator is not None:
            settings["evaluator"], settings["workers"] = evaluator, workers
            settings["dask_address"] = dask_address
        elif dask_address is not None:
            settings["dask_address"] = dask_address
        elif workers is not None:
            settings["workers"] = workers
        if dask_address is not None:
            settings["dask_address"] = dask_address
        if search is None:
            if settings["search"] not in SEARCHES:
                raise ValueError(f"search {record.label} used a custom search ({settings['search']}); "
                                 f"continue it from Python with continue_search(..., search=...)")
            search = make_search(settings["search"], problem, seed=settings.get("seed"),
                                 **settings.get("search_settings", {}))
        if settings.get("warm_start"):  # the same results as at the start
            from hyperfleet.warm_start import load_warm_start

            warm_setting = settings["warm_start"]
            load_warm_start(store_obj, warm_setting["search"], problem, upto=warm_setting.get("upto")).tell(search)
        if stopper is None and settings.get("stopper"):
            from hyperfleet.stop import STOPPERS

            if settings["stopper"] not in STOPPERS:
                raise ValueError(f"search {record.label} used a custom stopper ({settings['stopper']}); "
                                 f"continue it from Python with continue_search(..., stopper=...)")
            DriverSettings.from_dict(settings).stop.make(seed=settings.get("seed"))  # still valid?
        name = settings.get("evaluator")
        check_main_guard(name == "process" or (name == "dask" and not settings.get("dask_address")))
        run_ref = recorded_run(record, run, settings)
        # Claim the search before anything is written or started (a loser starts no cluster); with
        # MPI only rank 0 drives, and it knows it is rank 0 once the executor exists.
        claim = None if settings["evaluator"] == "mpi" else DriverClaim.acquire(store_obj, record)
        executor = None
        try:
            executor = _executor(evaluator if evaluator is not None and not isinstance(evaluator, str)
                                 else settings["evaluator"], settings.get("workers"), settings.get("dask_address"))
            if executor is None:
                return None
            claim = claim or DriverClaim.acquire(store_obj, record)
            store_obj.update_search(record.id, settings=settings)
            history = store_obj.list_evaluations(record.id)
        except BaseException:
            if claim is not None:
                claim.release()
            if executor is not None:
                executor.shutdown()
            raise
        try:
            return drive(store_obj, record, problem, run_ref, search, executor, settings, callbacks,
                         history=history, rerun_running=running == "rerun", claim=claim,
                         store_arg=store if store_arg is None else store_arg, stopper=stopper)
        finally:
            executor.shutdown()
    finally:
        if own_store:
            store_obj.close()


def _executor(evaluator: Any, workers: Optional[int], dask_address: Optional[str]) -> Optional[Executor]:
    if isinstance(evaluator, Executor):
        return evaluator
    if isinstance(evaluator, str):
        return make_executor(evaluator, workers, dask_address=dask_address)
    from hyperfleet.execute.dask import DaskExecutor  # a Dask Client or cluster object

    return DaskExecutor(client=evaluator)
