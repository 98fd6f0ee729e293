"""Joining a running search with another driver (``hyperfleet search --join LABEL``).

The joiner takes the problem, the run function and the settings from the store; only where its
evaluations run is its own (``evaluator``, ``workers``, ``dask_address``) and how long it drives
(``timeout``). Its search algorithm gets a seed of its own (the recorded seed plus its place
among the drivers), so that drivers do not propose the same points. See
:mod:`hyperfleet.driver_shared` for how the drivers share the search.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Callable, Optional, Sequence, Union

from hyperfleet.store import SearchRecord, SearchState, Store, StoreError, open_store

#: seconds a joiner waits for a QUEUED or CREATED search to start (a batch job's first driver)
JOIN_WAIT_S = 120.0
#: the seed of the k-th driver's search is the recorded seed plus k times this
SEED_STRIDE = 7919


def wait_until_running(store: Store, ref: str, wait: float = JOIN_WAIT_S) -> SearchRecord:
    """The search named by ``ref`` once it is RUNNING (waiting up to ``wait`` s while it is
    QUEUED or CREATED); a ValueError saying what to do when it is not."""
    deadline = time.monotonic() + wait
    told = False
    while True:
        try:
            record = store.resolve_search(ref)
        except StoreError:  # not created yet (drivers started together)?
            if time.monotonic() >= deadline:
                raise
            if not told:
                told = True
                print(f"waiting up to {wait:g} s for search {ref} to be created (--join-wait)", file=sys.stderr,
                      flush=True)
            time.sleep(0.2)
            continue
        if record.state == SearchState.RUNNING:
            return record
        if record.state not in (SearchState.QUEUED, SearchState.CREATED):
            raise ValueError(f"search {record.label} ({record.id[:8]}) is {record.state.value}: there is no "
                             f"driver to join; continue it with: hyperfleet resume {record.label}")
        if time.monotonic() >= deadline:
            raise ValueError(f"search {record.label} ({record.id[:8]}) is still {record.state.value} after "
                             f"{wait:g} s; start it (hyperfleet resume {record.label}) or wait longer "
                             f"(--join-wait)")
        time.sleep(0.2)


def _open_waiting(store, wait: float) -> Store:
    """Open the store, waiting up to ``wait`` s for the first driver to create it."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return open_store(store, create=False)
        except StoreError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.2)


def join_search(ref: str, *, store: Union[str, Store, None] = None, evaluator: Any = None,
                workers: Optional[int] = None, dask_address: Optional[str] = None,
                timeout: Optional[float] = None, callbacks: Sequence[object] = (),
                wait: float = JOIN_WAIT_S, search=None, run: Union[str, Callable, None] = None,
                stopper: Any = None):
    """Drive the running search ``ref`` together with its other drivers, with workers of its own.

    Args:
        ref: the search's label (the latest with it) or id prefix.
        store: the store or its location (never created).
        evaluator, workers, dask_address: where this driver's evaluations run (default: as recorded).
        timeout: wall-clock seconds this driver runs at most (the others go on).
        callbacks: driver callbacks (progress display).
        wait: seconds to wait for a QUEUED or CREATED search to start.
        search: a search instance (a search started with a custom ``Search``).
        run: the run function, for a search started with a function no file defines.
        stopper: a stopper instance, for a search started with a custom ``Stopper``.

    Returns:
        :class:`~hyperfleet.driver.SearchResult` when this driver stops (the counts are the
        whole search's); ``None`` on the worker ranks of an MPI evaluator.

    Raises:
        ValueError: the search is not running (and not about to), or a setting is wrong.
    """
    from hyperfleet.api import _executor, recorded_problem, recorded_run
    from hyperfleet.driver import Driver
    from hyperfleet.driver_lifecycle import ClaimedStore
    from hyperfleet.driver_settings import DriverSettings
    from hyperfleet.driver_shared import Membership
    from hyperfleet.main_guard import check_main_guard
    from hyperfleet.search import SEARCHES, make_search

    own_store = not isinstance(store, Store)
    store_obj = _open_waiting(store, wait) if own_store else store
    try:
        record = wait_until_running(store_obj, ref, wait)
        problem = recorded_problem(record)
        settings = dict(record.settings)
        if evaluator is not None:
            settings["evaluator"] = evaluator if isinstance(evaluator, str) else type(evaluator).__name__
            settings["workers"], settings["dask_address"] = workers, dask_address
        elif workers is not None:
            settings["workers"] = workers
        if dask_address is not None:
            settings["dask_address"] = dask_address
        settings["timeout"] = timeout
        driver_settings = DriverSettings.from_dict(settings)
        place = len(store_obj.list_members(record.id))
        if search is None:
            if settings["search"] not in SEARCHES:
                raise ValueError(f"search {record.label} used a custom search ({settings['search']}); "
                                 f"join it from Python with join_search(..., search=...)")
            seed = settings.get("seed")
            search = make_search(settings["search"], problem,
                                 seed=None if seed is None else seed + SEED_STRIDE * place,
                                 **settings.get("search_settings", {}))
        name = settings.get("evaluator")
        check_main_guard(name == "process" or (name == "dask" and not settings.get("dask_address")))
        run_ref = recorded_run(record, run, settings)
        executor = _executor(evaluator if evaluator is not None and not isinstance(evaluator, str)
                             else settings["evaluator"], settings.get("workers"), settings.get("dask_address"))
        if executor is None:  # an MPI worker rank, done serving evaluations
            return None
        member = None
        try:
            executor.use_folder(record.folder)
            member = Membership.join(store_obj, record, "member", executor.num_workers)
            history = store_obj.list_evaluations(record.id)
            driver = Driver(record, problem, run_ref, search, executor, ClaimedStore(store_obj, member),
                            driver_settings, callbacks, history=history, stopper=stopper, member=member)
            return driver.run()
        finally:
            if member is not None:
                member.leave()
            executor.shutdown()
    finally:
        if own_store:
            store_obj.close()
