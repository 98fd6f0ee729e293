"""Simulated time: how a search would use a large allocation, studied on one machine.

:func:`simulate` runs a real search (AMBS, random search or any :class:`~hyperfleet.Search`)
against a *virtual* clock and a set of virtual workers:

* every evaluation takes a duration drawn from a distribution (``"lognormal:60:0.5"``) or a
  function ``duration(rng, config) -> seconds``; its objective comes from a cheap stand-in
  function evaluated for real;
* a centralized driver, like :class:`~hyperfleet.driver.Driver`, tells the search every
  evaluation that has finished, in one ``tell``, then asks for as many configurations as there
  are free workers, in one ``ask``. The *real* wall time of that ``tell`` + ``ask`` is measured
  and the virtual clock advances by it: the driver is busy, workers that are free meanwhile wait,
  and evaluations finishing meanwhile queue up for the next cycle.

The result says how busy the workers were (utilization), how long the whole budget takes
(makespan), how much of the idle time was spent waiting for the driver, and what the search's
``ask``/``tell`` calls cost — the numbers needed to size an allocation before asking for it.

Examples:
    >>> from hyperfleet import HpProblem
    >>> from hyperfleet.simulate import simulate
    >>> p = HpProblem(); _ = p.add_dim('x', (0.0, 1.0))
    >>> r = simulate(p, lambda c: -c['x'] ** 2, search='random', workers=8, max_evals=40,
    ...              duration='constant:60', seed=0)
    >>> r.n_evals, round(r.makespan / 60)
    (40, 5)
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple, Optional, Union

import numpy as np

from hyperfleet.problem import HpProblem
from hyperfleet.search import Search, make_search

__all__ = ["simulate", "SimulationResult", "SimulationProgress", "CallStats", "DriverCycle",
           "SimEvaluation", "Duration", "parse_duration", "DURATION_KINDS"]

#: the duration distributions a text spec can name, with their parameters
DURATION_KINDS = {
    "lognormal": "lognormal:MEAN:SIGMA (MEAN is the mean duration, SIGMA the std of its log)",
    "uniform": "uniform:LOW:HIGH",
    "constant": "constant:SECONDS",
    "exponential": "exponential:MEAN",
}


# ----------------------------------------------------------------------------- durations

class Duration:
    """A distribution of evaluation durations in (virtual) seconds: ``duration(rng, config)``.

    Build one with :func:`parse_duration` from a spec such as ``"lognormal:60:0.5"``, or wrap a
    function ``f(rng, config) -> seconds``.
    """

    def __init__(self, sample: Callable[[np.random.Generator, dict], float], spec: str,
                 mean: Optional[float] = None) -> None:
        self._sample = sample
        self.spec = spec
        #: the distribution's mean, when known (``None`` for a user function)
        self.mean = mean

    def __call__(self, rng: np.random.Generator, config: dict) -> float:
        value = self._sample(rng, config)
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"duration {self.spec} returned {value!r}, not a number of seconds") \
                from None
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"duration {self.spec} returned {seconds!r}; durations must be finite "
                             f"and >= 0 seconds")
        return seconds

    def __repr__(self) -> str:
        return f"Duration({self.spec!r})"


def parse_duration(spec: Union[str, Duration, Callable]) -> Duration:
    """A :class:`Duration` from a spec (``lognormal:MEAN:SIGMA``, ``uniform:LOW:HIGH``,
    ``constant:S``, ``exponential:MEAN``; seconds) or a function ``f(rng, config) -> seconds``.

    Raises:
        ValueError: naming the problem, for an unknown kind or bad parameters.
    """
    if isinstance(spec, Duration):
        return spec
    if callable(spec):
        name = getattr(spec, "__name__", type(spec).__name__)
        return Duration(spec, f"{name}(rng, config)")
    if not isinstance(spec, str):
        raise ValueError(f"duration must be a spec like 'lognormal:60:0.5' or a function "
                         f"f(rng, config) -> seconds, got {type(spec).__name__}")
    text = spec.strip()
    kind, *params = [part.strip() for part in text.split(":")]
    kind = kind.lower()
    kinds = "; ".join(DURATION_KINDS.values())
    if kind not in DURATION_KINDS:
        raise ValueError(f"unknown duration distribution {kind!r} in {spec!r}; use one of: {kinds}")
    expected = DURATION_KINDS[kind]
    n_params = expected.split(" ")[0].count(":")
    if len(params) != n_params:
        raise ValueError(f"duration {spec!r}: {kind} takes {n_params} parameter"
                         f"{'s' if n_params > 1 else ''}, written {expected}")
    try:
        values = [float(p) for p in params]
    except ValueError:
        raise ValueError(f"duration {spec!r}: parameters must be numbers, written {expected}") from None
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"duration {spec!r}: parameters must be finite numbers")

    def need(ok: bool, why: str) -> None:
        if not ok:
            raise ValueError(f"duration {spec!r}: {why}")

    if kind == "lognormal":
        mean, sigma = values
        need(mean > 0, "the mean must be > 0 seconds")
        need(sigma >= 0, "sigma must be >= 0")
        mu = math.log(mean) - sigma ** 2 / 2  # so that the distribution's mean is `mean`
        return Duration(lambda rng, c: rng.lognormal(mu, sigma), text, mean)
    if kind == "uniform":
        low, high = values
        need(0 <= low <= high, "needs 0 <= LOW <= HIGH")
        need(high > 0, "HIGH must be > 0 seconds")
        return Duration(lambda rng, c: rng.uniform(low, high), text, (low + high) / 2)
    if kind == "constant":
        (seconds,) = values
        need(seconds > 0, "the duration must be > 0 seconds")
        return Duration(lambda rng, c: seconds, text, seconds)
    (mean,) = values  # exponential
    need(mean > 0, "the mean must be > 0 seconds")
    return Duration(lambda rng, c: rng.exponential(mean), text, mean)


# ----------------------------------------------------------------------------- results

@dataclass(frozen=True)
class CallStats:
    """Real wall-clock seconds of a kind of call: count, total, mean, median, p95, max."""

    calls: int
    total: float
    mean: float
    median: float
    p95: float
    max: float

    @classmethod
    def of(cls, seconds) -> "CallStats":
        values = np.asarray(list(seconds), dtype=float)
        if len(values) == 0:
            return cls(0, 0.0, 0.0, 0.0, 0.0, 0.0)
        return cls(int(len(values)), float(values.sum()), float(values.mean()),
                   float(np.median(values)), float(np.percentile(values, 95)), float(values.max()))

    def to_dict(self) -> dict:
        return dict(calls=self.calls, total=self.total, mean=self.mean, median=self.median,
                    p95=self.p95, max=self.max)


@dataclass(frozen=True)
class DriverCycle:
    """One cycle of the driver: ``tell`` what finished, ``ask`` for the free workers.

    Times in seconds: ``start`` is virtual, ``tell_s``/``ask_s`` are the measured real (wall)
    times, ``cpu_s`` the process CPU time of both, ``charged`` what the virtual clock advanced by
    (``(tell_s + ask_s) * overhead_scale + latency``, or ``cpu_s`` instead of the wall times
    with ``charge="cpu"``). ``asked`` is the ``n`` of ``ask(n)`` (0: no ask call), ``launched`` how many
    configurations it returned, ``history`` the results told before this cycle's ask,
    ``free`` the free workers at the cycle's start.
    """

    start: float
    tell_s: float
    ask_s: float
    charged: float
    cpu_s: float
    told: int
    asked: int
    launched: int
    history: int
    free: int


@dataclass(frozen=True)
class SimEvaluation:
    """One simulated evaluation: virtual ``start``/``end``, its worker, its objective
    (``None``: failed, ``error`` says why)."""

    number: int
    config: dict
    worker: int
    start: float
    end: float
    objective: Optional[float]
    error: Optional[str] = None
    cancelled: bool = False  #: still running when a search without a drain reached its budget

    @property
    def duration(self) -> float:
        return self.end - self.start


class SimulationProgress(NamedTuple):
    """What a progress callback receives after each driver cycle."""

    clock: float        #: virtual seconds since the start
    finished: int       #: evaluations finished (told or about to be)
    launched: int       #: evaluations started
    max_evals: int
    running: int
    best: Optional[float]
    cycles: int
    last_cycle_s: float  #: real seconds of the last tell + ask
    wall_s: float        #: real seconds since the simulation began


@dataclass
class SimulationResult:
    """What a simulation measured. Times are virtual seconds unless named ``*_s``/real.

    Attributes:
        utilization: busy worker time / (workers x makespan).
        useful_utilization: the same, counting only evaluations that finished (without a drain,
            the partial work of the evaluations cancelled at the end is left out); equal to
            ``utilization`` with a drain.
        drain: whether the budget ended with a drain (see :func:`simulate`).
        n_cancelled: evaluations cancelled at the end (without a drain).
        makespan: virtual time from the start until the last evaluation finished.
        steady_utilization: utilization from the start until ``last_start``, the start of the
            last evaluation (while the budget still had work for every worker): what a run
            bounded by time rather than by an evaluation count would see, without the drain
            at the end of a fixed budget, when the longest last evaluations keep a few workers
            busy and the others have nothing left to run.
        busy_time: total duration of all evaluations (worker-seconds).
        idle_driver: worker-seconds that free workers (with budget left for them) spent waiting
            while the driver was busy in ``tell``/``ask`` — including the wait of a finished
            evaluation for the driver's next cycle to notice it.
        idle_no_work: the rest of the idle time (``workers x makespan - busy_time -
            idle_driver``): free workers while the driver had nothing to give them (the end of the
            budget, or the search proposing fewer configurations than asked).
        launch_wait: :class:`CallStats` of how long a worker waited, from becoming free to its
            next evaluation (virtual seconds; only waits that ended in a launch).
        tell, ask, cycle: real wall-clock :class:`CallStats` of the search's ``tell`` calls,
            ``ask`` calls and of each driver cycle that asked (``tell`` + ``ask``; the cycles
            that only tell, in the drain at the end of the budget, are left out);
            ``cycle_cpu``: the CPU time of the same cycles (unaffected by other programs
            competing for the machine's cores).
        charge: ``"wall"`` or ``"cpu"``: which of the two the virtual clock was charged.
        trace: ``(virtual time, evaluations finished, best objective)`` at each improvement.
        cycles: every :class:`DriverCycle`; evaluations: every :class:`SimEvaluation`.
    """

    search_name: str
    workers: int
    max_evals: int
    duration: str
    seed: Optional[int]
    overhead_scale: float
    latency: float
    charge: str
    n_evals: int
    n_failed: int
    makespan: float
    busy_time: float
    utilization: float
    steady_utilization: float
    last_start: float
    useful_utilization: float
    idle_driver: float
    idle_no_work: float
    driver_busy: float
    launch_wait: CallStats
    tell: CallStats
    ask: CallStats
    cycle: CallStats
    cycle_cpu: CallStats
    best_objective: Optional[float]
    best_config: Optional[dict]
    best_time: Optional[float]
    trace: list
    cycles: list
    evaluations: list
    stop_reason: str
    wall_time: float
    first_error: Optional[str] = None
    drain: bool = True
    n_cancelled: int = 0
    search: Optional[Search] = field(default=None, repr=False)

    @property
    def evals_per_hour(self) -> float:
        return self.n_evals / self.makespan * 3600 if self.makespan > 0 else float("nan")

    @property
    def mean_duration(self) -> float:
        """Mean duration of the evaluations that finished."""
        useful = self.useful_utilization * self.workers * self.makespan
        return useful / self.n_evals if self.n_evals else float("nan")

    @property
    def ideal_makespan(self) -> float:
        """Makespan with a free driver and perfect packing: busy time / workers."""
        return self.busy_time / self.workers

    def summary(self) -> str:
        """A short text report."""
        total = self.workers * self.makespan
        pct = (lambda x: 100 * x / total) if total > 0 else (lambda x: float("nan"))
        lines = [
            f"simulated {self.n_evals:,} evaluations ({self.search_name}) on {self.workers:,} virtual "
            f"workers, durations {self.duration} (mean of those run {self.mean_duration:.3g} s)",
            f"utilization         {self.utilization:.4f}  (until the last evaluation started, "
            f"before the budget's drain: {self.steady_utilization:.4f})" if self.drain else
            f"utilization         {self.utilization:.4f}  (no drain: {self.n_cancelled:,} evaluations "
            f"cancelled at the end; counting only finished work: {self.useful_utilization:.4f})",
            f"makespan            {self.makespan / 3600:.4g} h virtual  "
            f"(ideal {self.ideal_makespan / 3600:.4g} h)  {self.evals_per_hour:,.0f} evaluations/hour",
            f"idle, driver busy   {pct(self.idle_driver):.2f} % of worker time; a free worker waited "
            f"{self.launch_wait.mean:.3g} s on average for its next evaluation "
            f"(p95 {self.launch_wait.p95:.3g} s, max {self.launch_wait.max:.3g} s)",
            f"idle, no work       {pct(self.idle_no_work):.2f} % of worker time "
            f"(the end of the budget; the search proposing fewer than asked)",
        ]
        if self.best_objective is None:
            lines.append("best objective      none: no evaluation succeeded")
        else:
            lines.append(f"best objective      {self.best_objective:.6g} at {self.best_time / 3600:.4g} h "
                         f"virtual")
        if self.n_failed:
            lines.append(f"failed evaluations  {self.n_failed:,} (first: {self.first_error})")
        scale = "" if self.overhead_scale == 1 else f" x {self.overhead_scale:g}"
        latency = "" if not self.latency else f" + {self.latency:g} s latency"
        lines += [
            f"driver ({self.charge} time charged{scale}{latency}): {len(self.cycles):,} cycles "
            f"({self.cycle.calls:,} with an ask), busy {self.driver_busy / 3600:.3g} h virtual",
            f"  tell+ask per cycle  {_call_line(self.cycle)}",
            f"  (its CPU time)      {_call_line(self.cycle_cpu)}",
            f"  ask per call        {_call_line(self.ask)}",
            f"  tell per call       {_call_line(self.tell)}",
            f"stopped: {self.stop_reason}; wall time {self.wall_time:.1f} s",
        ]
        return "\n".join(lines)

    def to_dict(self, evaluations: bool = True, cycles: bool = True) -> dict:
        """JSON-ready dict of the result (every evaluation and cycle unless told otherwise)."""
        out = {
            "search": self.search_name, "workers": self.workers, "max_evals": self.max_evals,
            "duration": self.duration, "seed": self.seed, "overhead_scale": self.overhead_scale,
            "latency": self.latency, "charge": self.charge, "n_evals": self.n_evals,
            "n_failed": self.n_failed,
            "makespan": self.makespan, "makespan_hours": self.makespan / 3600,
            "busy_time": self.busy_time, "utilization": self.utilization,
            "steady_utilization": self.steady_utilization, "last_start": self.last_start,
            "useful_utilization": self.useful_utilization, "drain": self.drain,
            "n_cancelled": self.n_cancelled,
            "evals_per_hour": self.evals_per_hour, "idle_driver": self.idle_driver,
            "idle_no_work": self.idle_no_work, "driver_busy": self.driver_busy,
            "launch_wait": self.launch_wait.to_dict(), "tell": self.tell.to_dict(),
            "ask": self.ask.to_dict(), "cycle": self.cycle.to_dict(),
            "cycle_cpu": self.cycle_cpu.to_dict(),
            "best_objective": self.best_objective, "best_config": _jsonable(self.best_config),
            "best_time": self.best_time, "trace": [list(t) for t in self.trace],
            "stop_reason": self.stop_reason, "wall_time": self.wall_time,
            "first_error": self.first_error,
        }
        if cycles:
            out["cycles"] = [[c.start, c.tell_s, c.ask_s, c.charged, c.cpu_s, c.told, c.asked,
                              c.launched, c.history, c.free] for c in self.cycles]
            out["cycle_columns"] = ["start", "tell_s", "ask_s", "charged", "cpu_s", "told", "asked",
                                    "launched", "history", "free"]
        if evaluations:
            out["evaluations"] = [[e.start, e.end, e.worker, e.objective] for e in self.evaluations]
            out["evaluation_columns"] = ["start", "end", "worker", "objective"]
        return out

    def busy_workers(self, times) -> np.ndarray:
        """How many workers were running an evaluation at each of the given virtual times."""
        times = np.asarray(times, dtype=float)
        starts = np.sort([e.start for e in self.evaluations])
        ends = np.sort([e.end for e in self.evaluations])
        return (np.searchsorted(starts, times, side="right")
                - np.searchsorted(ends, times, side="right"))


def _call_line(stats: CallStats) -> str:
    if not stats.calls:
        return "no calls"
    return (f"median {_ms(stats.median)}, p95 {_ms(stats.p95)}, max {_ms(stats.max)}, "
            f"total {stats.total:.4g} s over {stats.calls:,} calls")


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return value


# ----------------------------------------------------------------------------- the simulation

def _objective_of(objective: Callable[[dict], Any], config: dict) -> tuple[Optional[float], Optional[str]]:
    from hyperfleet.execute.worker import judge_result

    try:
        value = objective(dict(config))
    except Exception as err:  # noqa: BLE001 - a failed evaluation, as in a real run
        return None, f"{type(err).__name__}: {err}"
    y, _, error = judge_result(value)
    return y, error


def simulate(problem: HpProblem, objective: Callable[[dict], Any],
             search: Union[str, Search] = "ambs", *, workers: int, max_evals: int,
             duration: Union[str, Duration, Callable] = "lognormal:60:0.5",
             seed: Optional[int] = None, search_settings: Optional[dict] = None,
             overhead_scale: float = 1.0, latency: float = 0.0, charge: str = "wall",
             progress: Optional[Callable[[SimulationProgress], None]] = None,
             drain: bool = True) -> SimulationResult:
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
    draw = parse_duration(duration)
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
    clock = 0.0
    free: list[int] = list(range(workers - 1, -1, -1))  # a stack: worker 0 is used first
    free_since = [0.0] * workers
    heap: list[tuple] = []  # (end, number, worker)
    started: list[SimEvaluation] = []
    launched = finished = n_failed = 0
    best: Optional[float] = None
    best_config: Optional[dict] = None
    best_time: Optional[float] = None
    first_error: Optional[str] = None
    trace: list[tuple[float, int, float]] = []
    cycles: list[DriverCycle] = []
    tell_times: list[float] = []
    ask_times: list[float] = []
    gaps: list[tuple[float, float]] = []  # (finished, noticed by the driver)
    launch_waits: list[float] = []
    stop_reason = "max_evals reached"
    n_cancelled = 0

    while True:
        told: list[tuple[dict, Optional[float]]] = []
        # workers freed beyond the budget have no work to wait for
        budget_left = max_evals - launched if drain else (workers if finished < max_evals else 0)
        while heap and heap[0][0] <= clock:
            end, number, worker = heapq.heappop(heap)
            evaluation = started[number]
            told.append((evaluation.config, evaluation.objective))
            free.append(worker)
            free_since[worker] = end
            if end < clock and len(told) <= budget_left:
                gaps.append((end, clock))
            finished += 1
            if evaluation.objective is None:
                n_failed += 1
            elif best is None or evaluation.objective > best:
                best, best_config, best_time = evaluation.objective, evaluation.config, end
                trace.append((end, finished, best))
        n = min(len(free), budget_left)
        if not drain and finished >= max_evals:
            if told:
                search_obj.tell(told)  # after the end: not charged
            n_cancelled = len(heap)
            for _, number, _worker in heap:  # cancelled now: busy until this moment
                e = started[number]
                started[number] = SimEvaluation(e.number, e.config, e.worker, e.start, clock, None,
                                                "cancelled: max_evals finished (no drain)", True)
            heap.clear()
            break
        if told or n:
            n_free, history = len(free), len(search_obj.history) + len(told)
            c0, t0 = time.process_time(), time.perf_counter()
            if told:
                search_obj.tell(told)
            t1 = time.perf_counter()
            configs = search_obj.ask(n) if n else []
            t2, c2 = time.perf_counter(), time.process_time()
            if len(configs) > n:
                raise RuntimeError(f"{search_name}.ask({n}) returned {len(configs)} configurations")
            if told:
                tell_times.append(t1 - t0)
            if n:
                ask_times.append(t2 - t1)
            charged = ((t2 - t0) if charge == "wall" else (c2 - c0)) * overhead_scale + latency
            cycles.append(DriverCycle(clock, t1 - t0, t2 - t1, charged, c2 - c0, len(told), n,
                                      len(configs), history, n_free))
            clock += charged
            for config in configs:
                worker = free.pop()
                seconds = draw(rng, config)
                y, error = _objective_of(objective, config)
                if error is not None and first_error is None:
                    first_error = error
                started.append(SimEvaluation(launched, config, worker, clock, clock + seconds, y, error))
                heapq.heappush(heap, (clock + seconds, launched, worker))
                launch_waits.append(clock - free_since[worker])
                launched += 1
            if progress is not None:
                progress(SimulationProgress(clock, finished, launched, max_evals, len(heap), best,
                                            len(cycles), t2 - t0, time.perf_counter() - wall_start))
        if not heap:
            if (launched if drain else finished) < max_evals:
                stop_reason = (f"the search proposed no configuration with nothing running, after "
                               f"{launched} evaluations")
            break
        clock = max(clock, heap[0][0])

    evaluations = started
    makespan = max((e.end for e in evaluations), default=0.0)
    busy = float(sum(e.end - e.start for e in evaluations))
    # idle time of workers with work to get while the driver was busy, within [0, makespan]
    idle_driver = sum(c.asked * max(0.0, min(c.start + c.charged, makespan) - c.start) for c in cycles)
    idle_driver += sum(max(0.0, min(noticed, makespan) - end) for end, noticed in gaps)
    total = workers * makespan
    last_start = max((e.start for e in evaluations), default=0.0)
    busy_early = float(sum(min(e.end, last_start) - e.start for e in evaluations if e.start < last_start))
    steady = busy_early / (workers * last_start) if last_start > 0 else float("nan")
    idle_no_work = max(0.0, total - busy - idle_driver)
    useful = float(sum(e.end - e.start for e in evaluations if not e.cancelled))
    driver_busy = sum(c.charged for c in cycles)
    return SimulationResult(
        search_name=search_name, workers=workers, max_evals=max_evals, duration=draw.spec, seed=seed,
        overhead_scale=overhead_scale, latency=latency, charge=charge, n_evals=finished, n_failed=n_failed,
        makespan=makespan, busy_time=busy, utilization=busy / total if total > 0 else float("nan"),
        steady_utilization=steady, last_start=last_start,
        useful_utilization=useful / total if total > 0 else float("nan"), drain=bool(drain),
        n_cancelled=n_cancelled,
        idle_driver=idle_driver, idle_no_work=idle_no_work, driver_busy=driver_busy,
        launch_wait=CallStats.of(launch_waits), tell=CallStats.of(tell_times),
        ask=CallStats.of(ask_times), cycle=CallStats.of(c.tell_s + c.ask_s for c in cycles if c.asked),
        cycle_cpu=CallStats.of(c.cpu_s for c in cycles if c.asked),
        best_objective=best, best_config=best_config, best_time=best_time, trace=trace,
        cycles=cycles, evaluations=evaluations, stop_reason=stop_reason,
        wall_time=time.perf_counter() - wall_start, first_error=first_error, search=search_obj)
