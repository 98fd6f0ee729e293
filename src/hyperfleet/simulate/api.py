"""``simulate()``: check the arguments, build the search, run the simulation, account for it."""

from __future__ import annotations

import math
import time
from typing import Any, Callable, Optional, Union

import numpy as np

from hyperfleet.problem import HpProblem
from hyperfleet.search import Search, make_search
from hyperfleet.simulate.accounting import account
from hyperfleet.simulate.drivers import run_drivers
from hyperfleet.simulate.durations import Duration, parse_duration
from hyperfleet.simulate.loop import run_one_driver
from hyperfleet.simulate.records import SimulationProgress
from hyperfleet.simulate.result import SimulationResult

__all__ = ["simulate"]


def simulate(problem: HpProblem, objective: Callable[[dict], Any],
             search: Union[str, Search] = "ambs", *, workers: int, max_evals: int,
             duration: Union[str, Duration, Callable] = "lognormal:60:0.5",
             seed: Optional[int] = None, search_settings: Optional[dict] = None,
             overhead_scale: float = 1.0, latency: float = 0.0, charge: str = "wall",
             progress: Optional[Callable[[SimulationProgress], None]] = None,
             drain: bool = True, drivers: int = 1, store_latency: float = 0.01,
             release_idle: bool = False) -> SimulationResult:
    """Run a search against a virtual clock and ``workers`` virtual workers.

    Args:
        problem: the search space.
        objective: ``objective(config) -> float`` (or a dict with ``"objective"``, like a run
            function), evaluated for real when an evaluation starts — make it cheap; its real time
            is not charged, the evaluation's virtual ``duration`` is. An exception or a
            non-finite value makes a failed evaluation (told as ``None``).
        search: ``"ambs"``, ``"random"`` or a fresh :class:`~hyperfleet.Search` instance.
        workers: virtual workers (evaluations running at once).
        max_evals: evaluations to run (never exceeded with a drain).
        duration: ``"lognormal:MEAN:SIGMA"``, ``"uniform:LOW:HIGH"``, ``"constant:S"``,
            ``"exponential:MEAN"`` (seconds; MEAN is the distribution's mean), or a function
            ``duration(rng, config) -> seconds``.
        seed: seeds the search (when built here) and the durations.
        search_settings: settings of the search when ``search`` is a name (e.g. AMBS's ``kappa``).
        overhead_scale: the virtual clock advances by ``overhead_scale`` x the measured real time
            of each ``tell`` + ``ask`` (1: as measured here; 2: a driver twice as slow; 0: a free
            driver — the run is then reproducible with a seed).
        latency: virtual seconds added to every driver cycle (e.g. a database round trip).
        charge: ``"wall"`` charges the measured wall time of ``tell`` + ``ask``; ``"cpu"`` their
            CPU time (this process's), which other programs competing for this machine's cores
            do not inflate — use it on a busy machine (with numpy threads pinned to 1).
        progress: called with a :class:`SimulationProgress` after every driver cycle.
        drain: True (like ``hyperfleet search``'s default): start ``max_evals`` evaluations at
            most, so workers run out of work at the end while the last evaluations finish.
            False (``--no-drain``): keep every worker busy until ``max_evals`` evaluations have
            finished, then cancel the evaluations still running.
        drivers: K > 1 simulates K drivers cooperating on one search through a shared store
            (see :mod:`hyperfleet.simulate.drivers`): each with its own search instance (seeded
            ``seed + 7919 k``), its own share of the workers and its own charged CPU, telling its
            search every result recorded by the others.
        store_latency: with several drivers, virtual seconds before a result one driver records
            is visible to the others.
        release_idle: with a drain, release a worker as soon as the budget has no more work for
            it (as ``hyperfleet search --elastic`` ends its idle worker jobs), so that the drain's
            idle workers are not held until the last evaluation ends (``held_utilization``).

    Returns:
        A :class:`SimulationResult`: utilization, makespan, idle time waiting for the driver, the
        search's ask/tell time, the best objective and its trace against virtual time.

    Raises:
        ValueError: for a bad argument (a bad duration spec, workers < 1, ...).
    """
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    if isinstance(max_evals, bool) or not isinstance(max_evals, (int, np.integer)) or max_evals < 1:
        raise ValueError(f"max_evals must be an integer >= 1, got {max_evals!r}")
    workers, max_evals = int(workers), int(max_evals)
    if not callable(objective):
        raise ValueError(f"objective must be a function config -> float, got {type(objective).__name__}")
    overhead_scale, latency = float(overhead_scale), float(latency)
    if not (math.isfinite(overhead_scale) and overhead_scale >= 0):
        raise ValueError(f"overhead_scale must be >= 0, got {overhead_scale}")
    if not (math.isfinite(latency) and latency >= 0):
        raise ValueError(f"latency must be >= 0 seconds, got {latency}")
    if charge not in ("wall", "cpu"):
        raise ValueError(f"charge must be 'wall' or 'cpu', got {charge!r}")
    if isinstance(drivers, bool) or not isinstance(drivers, (int, np.integer)) or drivers < 1:
        raise ValueError(f"drivers must be an integer >= 1, got {drivers!r}")
    drivers, store_latency = int(drivers), float(store_latency)
    if drivers > workers:
        raise ValueError(f"{drivers} drivers for {workers} workers: every driver needs at least one "
                         f"worker; use --drivers {workers} or fewer")
    if not (math.isfinite(store_latency) and store_latency >= 0):
        raise ValueError(f"store_latency must be >= 0 seconds, got {store_latency}")
    if release_idle and not drain:
        raise ValueError("release_idle needs a drain: without one every worker is busy until the "
                         "end (drop --no-drain, or --release-idle)")
    draw = parse_duration(duration)
    if isinstance(search, Search) and drivers > 1:
        raise ValueError("several drivers need a search by name (each driver builds its own), not "
                         "a Search instance")
    if isinstance(search, Search):
        if search_settings:
            raise ValueError("search_settings apply to a search given by name, not to a Search instance")
        if search.pending:
            raise ValueError(f"the search has {len(search.pending)} pending configurations from "
                             f"earlier asks; give simulate() a fresh search")
        search_obj, search_name = search, type(search).__name__
    elif isinstance(search, str):
        search_obj = make_search(search, problem, seed=seed, **dict(search_settings or {}))
        search_name = search
    else:
        raise ValueError(f"search must be a name or a Search instance, got {type(search).__name__}")
    search_obj.set_budget(max_evals)  # as the driver does
    rng = np.random.default_rng(None if seed is None else [int(seed), 0x5EED])

    wall_start = time.perf_counter()
    if drivers == 1:
        run = run_one_driver(search_obj, objective, draw, rng, workers=workers, max_evals=max_evals,
                             overhead_scale=overhead_scale, latency=latency, charge=charge,
                             drain=drain, progress=progress, release_idle=bool(release_idle))
    else:
        searches = [search_obj]
        for k in range(1, drivers):
            seed_k = None if seed is None else (int(seed) + 7919 * k) % 2**32
            searches.append(make_search(search, problem, seed=seed_k, **dict(search_settings or {})))
            searches[-1].set_budget(max_evals)
        run = run_drivers(searches, objective, draw, rng, workers=workers, max_evals=max_evals,
                          overhead_scale=overhead_scale, latency=latency,
                          store_latency=store_latency, charge=charge, drain=drain, progress=progress,
                          release_idle=bool(release_idle))
    return account(run, workers=workers, search_name=search_name, max_evals=max_evals,
                   duration=draw.spec, seed=seed, overhead_scale=overhead_scale, latency=latency,
                   charge=charge, drain=bool(drain), wall_time=time.perf_counter() - wall_start,
                   search=search_obj, drivers=drivers, release_idle=bool(release_idle),
                   store_latency=store_latency if drivers > 1 else 0.0)
