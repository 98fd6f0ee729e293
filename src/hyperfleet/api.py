"""The Python face of a whole search: everything ``hyperfleet search`` does, as one call."""

from __future__ import annotations

import inspect
import os
import re
import socket
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Optional, Sequence, Union

from hyperfleet.driver import Driver, SearchResult
from hyperfleet.driver_settings import DriverSettings, Resources
from hyperfleet.execute import Executor, make_executor
from hyperfleet.execute.resources import GpuPool
from hyperfleet.files import folder_mode, make_folder  # noqa: F401 - folder_mode: once defined here
from hyperfleet.problem import HpProblem
from hyperfleet.search import SEARCHES, Search, make_search
from hyperfleet.store import SearchRecord, SearchState, Store, open_store
from hyperfleet.user_code import CodeRef, UserCodeError

_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
SEARCHES_FOLDER = "searches"


def check_label(label: str) -> str:
    if not _LABEL.match(label or ""):
        raise ValueError(f"label {label!r} is not usable: use letters, digits, '.', '_' and '-' "
                         f"(up to 128, starting with a letter or digit)")
    return label


def run_ref_of(run: Union[str, Callable, CodeRef]) -> CodeRef:
    """Where a run function lives: from ``file.py[:func]``, a ``CodeRef`` or a module-level function."""
    if isinstance(run, CodeRef):
        return run
    if isinstance(run, (str, Path)):
        from hyperfleet.user_code import load_run

        return load_run(str(run))[1]
    if callable(run):
        path = inspect.getsourcefile(run)
        name = getattr(run, "__qualname__", "")
        if path is None or not name.isidentifier():
            raise UserCodeError(f"{run!r} must be a function defined at the top level of a .py file, "
                                f"so that worker processes can import it")
        return CodeRef(str(Path(path).resolve()), name)
    raise UserCodeError(f"run must be a path 'file.py[:func]' or a function, got {type(run).__name__}")


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
               max_failures: Optional[int] = None, drain: bool = True) -> Optional[SearchResult]:
    """Run a whole search and return its result.

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
        seed: random seed of the search.
        store: a store, or its path/URL (default ``$HYPERFLEET_STORE`` or ``./hyperfleet.db``).
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

    Returns:
        :class:`~hyperfleet.driver.SearchResult` with the search record, counts and best
        evaluation; ``None`` on the worker ranks of an MPI run.

    Examples:
        >>> result = run_search(problem, "model_run.py", search="random", max_evals=30,
        ...                     evaluator="process", workers=2)  # doctest: +SKIP
        >>> result.best.objective, result.folder  # doctest: +SKIP
    """
    run_ref = run_ref_of(run)
    Resources(gpus_per_eval=gpus_per_eval, gpus=gpus)  # checks the GPU options before detecting any
    gpu_ids = GpuPool(gpus_per_eval, gpus).ids if gpus_per_eval else None
    search_settings = dict(search_settings or {})
    if isinstance(search, Search):
        search_obj, search_name = search, type(search).__name__
    else:
        search_obj, search_name = make_search(search, problem, seed=seed, **search_settings), search
    executor = _executor(evaluator, workers, dask_address)
    if executor is None:  # an MPI worker rank, done serving evaluations
        return None
    evaluator_name = evaluator if isinstance(evaluator, str) else type(executor).__name__
    settings = {"search": search_name, "search_settings": search_settings, "seed": seed,
                "evaluator": evaluator_name, "workers": workers, "dask_address": dask_address,
                "max_evals": max_evals, "timeout": timeout, "eval_timeout": eval_timeout,
                "isolate": evaluator_name == "mpi" if isolate is None else isolate,
                "gpus_per_eval": gpus_per_eval, "gpus": gpu_ids, "prefetch": prefetch,
                "max_failures": max_failures, "drain": bool(drain)}
    DriverSettings.from_dict(settings)  # bad values are refused before anything is recorded
    own_store = not isinstance(store, Store)
    try:
        store_obj = open_store(store) if own_store else store
        try:
            record = create_search_record(store_obj, problem, run_ref, label, settings, problem_path)
            return drive(store_obj, record, problem, run_ref, search_obj, executor, settings, callbacks)
        finally:
            if own_store:
                store_obj.close()
    finally:
        executor.shutdown()


def drive(store: Store, record: SearchRecord, problem: HpProblem, run_ref: CodeRef, search: Search,
          executor: Executor, settings: dict, callbacks: Sequence[object] = (),
          history: Sequence = (), rerun_running: bool = True) -> SearchResult:
    """Run the driver for ``record`` with the recorded ``settings``."""
    executor.use_folder(record.folder)  # e.g. a Dask cluster's TLS credentials, before it starts
    driver = Driver(record, problem, run_ref, search, executor, store, DriverSettings.from_dict(settings),
                    callbacks, history=history, rerun_running=rerun_running)
    return driver.run()


def continue_search(ref: str, *, store: Union[str, Store, None] = None, max_evals: Optional[int] = None,
                    timeout: Optional[float] = None, running: str = "rerun", evaluator: Optional[str] = None,
                    workers: Optional[int] = None, search: Optional[Search] = None,
                    callbacks: Sequence[object] = (), queued_only: bool = False,
                    dask_address: Optional[str] = None) -> Optional[SearchResult]:
    """Continue a search from the store alone (``hyperfleet resume``; also how a batch job starts).

    Finished evaluations are kept and told to the search; the ones a dead driver left RUNNING are
    re-run (``running="rerun"``) or marked FAILED (``running="fail"``); ``max_evals`` counts
    what is done.

    Args:
        ref: the search's label (latest with it) or id prefix.
        store: the store or its location.
        max_evals: a new total budget (default: the recorded one).
        timeout: wall-clock seconds for this run (default: none, or the recorded one).
        running: what to do with evaluations left RUNNING: ``"rerun"`` or ``"fail"``.
        evaluator, workers: run on another evaluator than the recorded one.
        dask_address: with ``evaluator="dask"``, the running Dask scheduler to use.
        search: a search instance, for searches started with a custom ``Search`` object.
        callbacks: driver callbacks (progress display).
        queued_only: refuse unless the search is QUEUED or CREATED (a batch job starting it).

    Raises:
        ValueError: the search is running elsewhere, its problem file changed incompatibly, or
            an option is wrong.
    """
    if running not in ("rerun", "fail"):
        raise ValueError(f"--running must be 'rerun' or 'fail', got {running!r}")
    own_store = not isinstance(store, Store)
    store_obj = open_store(store) if own_store else store
    try:
        record = store_obj.resolve_search(ref)
        check_not_running(record)
        if queued_only and record.state not in (SearchState.QUEUED, SearchState.CREATED):
            raise ValueError(f"search {record.label} ({record.id[:8]}) is {record.state.value}, not QUEUED; "
                             f"continue it with: hyperfleet resume {record.label}")
        problem = recorded_problem(record)
        settings = dict(record.settings)
        if max_evals is not None:
            settings["max_evals"] = max_evals
        if timeout is not None:
            settings["timeout"] = timeout
        if evaluator is not None:
            settings["evaluator"], settings["workers"] = evaluator, workers
            settings["dask_address"] = dask_address
        elif dask_address is not None:
            settings["dask_address"] = dask_address
        elif workers is not None:
            settings["workers"] = workers
        if search is None:
            if settings["search"] not in SEARCHES:
                raise ValueError(f"search {record.label} used a custom search ({settings['search']}); "
                                 f"continue it from Python with continue_search(..., search=...)")
            search = make_search(settings["search"], problem, seed=settings.get("seed"),
                                 **settings.get("search_settings", {}))
        executor = make_executor(settings["evaluator"], settings.get("workers"),
                                 dask_address=settings.get("dask_address"))
        if executor is None:
            return None
        try:
            store_obj.update_search(record.id, settings=settings)
            history = store_obj.list_evaluations(record.id)
            run_ref = CodeRef.parse(record.run_path, "run")
            return drive(store_obj, record, problem, run_ref, search, executor, settings, callbacks,
                         history=history, rerun_running=running == "rerun")
        finally:
            executor.shutdown()
    finally:
        if own_store:
            store_obj.close()


def check_not_running(record: SearchRecord) -> None:
    """Refuse to drive a search whose driver is alive on this host (or RUNNING on another)."""
    if record.state != SearchState.RUNNING:
        return
    here = socket.gethostname()
    if record.driver_host == here and record.driver_pid and _alive(record.driver_pid):
        raise ValueError(f"search {record.label} ({record.id[:8]}) is running (driver pid {record.driver_pid}); "
                         f"wait for it or stop it with: hyperfleet cancel {record.label}")
    if record.driver_host not in (None, here) and record.scheduler is None:
        raise ValueError(f"search {record.label} ({record.id[:8]}) is RUNNING on {record.driver_host}; "
                         f"resume it there, or stop it with: hyperfleet cancel {record.label}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recorded_problem(record: SearchRecord) -> HpProblem:
    """The problem as recorded; refuses when its file now declares an incompatible space."""
    problem = HpProblem.from_dict(record.problem)
    if record.problem_path:
        ref = CodeRef.parse(record.problem_path, "Problem")
        if Path(ref.path).is_file():
            from hyperfleet.user_code import load_problem

            current, _ = load_problem(str(ref))
            if current.to_dict()["dims"] != problem.to_dict()["dims"]:
                raise ValueError(f"the problem in {ref.path} has changed since search {record.label} started "
                                 f"(now: {', '.join(map(str, current.dims))}); restore it, or start a new search")
    return problem


def _executor(evaluator: Any, workers: Optional[int], dask_address: Optional[str]) -> Optional[Executor]:
    if isinstance(evaluator, Executor):
        return evaluator
    if isinstance(evaluator, str):
        return make_executor(evaluator, workers, dask_address=dask_address)
    from hyperfleet.execute.dask import DaskExecutor  # a Dask Client or cluster object

    return DaskExecutor(client=evaluator)


def best_evaluations(store: Store, search_id: str, top: int = 10) -> list:
    """The ``top`` successful evaluations of a search, best objective first."""
    from hyperfleet.store import EvaluationState

    done = store.list_evaluations(search_id, [EvaluationState.DONE])
    return sorted(done, key=lambda e: (-e.objective, e.number))[:top]
