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

from hyperfleet.simulate.api import simulate
from hyperfleet.simulate.durations import DURATION_KINDS, Duration, parse_duration
from hyperfleet.simulate.records import CallStats, DriverCycle, SimEvaluation, SimulationProgress
from hyperfleet.simulate.result import SimulationResult

__all__ = ["simulate", "SimulationResult", "SimulationProgress", "CallStats", "DriverCycle",
           "SimEvaluation", "Duration", "parse_duration", "DURATION_KINDS"]
