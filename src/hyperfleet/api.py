"""The Python face of a whole search: everything ``hyperfleet search`` does, as one call."""

from __future__ import annotations

import inspect
import re
import time
import uuid
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

from hyperfleet.driver import Driver, SearchResult
from hyperfleet.execute import Executor, make_executor
from hyperfleet.problem import HpProblem
from hyperfleet.search import Search, make_search
from hyperfleet.store import SearchRecord, Store, open_store
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
        folder.mkdir(parents=True, exist_ok=False)
    except OSError as err:
        raise OSError(f"cannot create the search folder {folder}: {err.strerror}; "
                      f"choose a writable place for the store with --store") from None
    return store.create_search(label, str(folder), problem.to_dict(), settings,
                               problem_path=problem_path, run_path=str(run_ref),
                               search_id=search_id)


def run_search(problem: HpProblem, run: Union[str, Callable, CodeRef], *,
               search: Union[str, Search] = "ambs", max_evals: int = 100,
               timeout: Optional[float] = None, evaluator: Union[str, Executor] = "process",
               workers: Optional[int] = None, label: Optional[str] = None, seed: Optional[int] = None,
               store: Union[str, Store, None] = None, search_settings: Optional[dict] = None,
               problem_path: Optional[str] = None, callbacks: Sequence[object] = ()) -> SearchResult:
    """Run a whole search and return its result.

    Args:
        problem: the search space.
        run: the run function (``"file.py"``, ``"file.py:func"`` or a top-level function);
            it takes a dict of hyperparameters and returns the objective to maximize (or a dict
            with ``objective`` and metadata).
        search: ``"ambs"``, ``"random"`` or a :class:`~hyperfleet.Search` instance.
        max_evals: number of evaluations (never exceeded).
        timeout: wall-clock seconds after which the search stops.
        evaluator: ``"serial"``, ``"process"`` or an :class:`~hyperfleet.execute.Executor`.
        workers: worker count for ``"process"`` (default: CPU count).
        label: a name for the search (default: ``search-DATE-TIME``).
        seed: random seed of the search.
        store: a store, or its path/URL (default ``$HYPERFLEET_STORE`` or ``./hyperfleet.db``).
        search_settings: settings passed to the search by name (e.g. AMBS's ``kappa``).
        problem_path: where the problem came from, recorded for reference.
        callbacks: objects with ``on_launch``/``on_done`` methods.

    Returns:
        :class:`~hyperfleet.driver.SearchResult` with the search record, counts and best evaluation.

    Examples:
        >>> result = run_search(problem, "model_run.py", search="random", max_evals=30,
        ...                     evaluator="process", workers=2)  # doctest: +SKIP
        >>> result.best.objective, result.folder  # doctest: +SKIP
    """
    run_ref = run_ref_of(run)
    own_store = not isinstance(store, Store)
    store_obj = open_store(store) if own_store else store
    search_settings = dict(search_settings or {})
    if isinstance(search, Search):
        search_obj, search_name = search, type(search).__name__
    else:
        search_obj, search_name = make_search(search, problem, seed=seed, **search_settings), search
    executor = evaluator if isinstance(evaluator, Executor) else make_executor(evaluator, workers)
    settings = {"search": search_name, "search_settings": search_settings, "seed": seed,
                "evaluator": evaluator if isinstance(evaluator, str) else type(evaluator).__name__,
                "workers": executor.num_workers, "max_evals": max_evals, "timeout": timeout}
    try:
        record = create_search_record(store_obj, problem, run_ref, label, settings, problem_path)
        driver = Driver(record, problem, run_ref, search_obj, executor, store_obj, max_evals, timeout,
                        callbacks)
        return driver.run()
    finally:
        executor.shutdown()
        if own_store:
            store_obj.close()


def best_evaluations(store: Store, search_id: str, top: int = 10) -> list:
    """The ``top`` successful evaluations of a search, best objective first."""
    from hyperfleet.store import EvaluationState

    done = store.list_evaluations(search_id, [EvaluationState.DONE])
    return sorted(done, key=lambda e: (-e.objective, e.number))[:top]
