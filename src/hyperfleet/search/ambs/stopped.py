"""How the results of trainings stopped early enter AMBS's surrogate.

A stopped training's last value is not a full training's objective: it is lower (the curve
was still rising) and it was stopped because it looked worse than others. Told as if it were
a full result (``last``), the surrogate takes a configuration stopped after one epoch of a
slow-starting network for a poor one *and* ranks it against full results on the wrong
scale; left out (``drop``), the surrogate loses what the stopper learned, and proposes again
near configurations that were stopped.

``rank`` keeps what is known for sure: a stopped training is worse than the full ones (the
stopper judged it so) and, among stopped ones, one stopped later got further (it passed more
comparisons), and at equal steps the higher value is better. They are placed below the worst
full training, spread over one standard deviation of the full results in that order.
"""

from __future__ import annotations

import numpy as np

#: the band below the worst full training that stopped ones occupy, in standard deviations
#: of the full results
BAND = 1.0


def stopped_as(mode: str, U: np.ndarray, y: np.ndarray, step: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """The surrogate's training data for told vectors ``U``, objectives ``y`` (NaN: failed)
    and ``step`` (0: trained to the end; k > 0: stopped at step k), per ``mode``."""
    stopped = step > 0
    if mode == "last" or not stopped.any():
        return U, y
    if mode == "drop":
        return U[~stopped], y[~stopped]
    full = ~stopped & ~np.isnan(y)
    if not full.any():
        return U, y  # nothing to place them below: their values are all we have
    lo = float(y[full].min())
    spread = float(y[full].std()) or float(np.abs(y[full]).mean()) or 1.0
    idx = np.flatnonzero(stopped)
    order = np.lexsort((y[idx], step[idx]))  # by step, then value; the last is the best
    q = np.empty(len(idx))
    q[order] = (np.arange(len(idx)) + 1) / (len(idx) + 1)  # in (0, 1)
    out = y.copy()
    out[idx] = lo - BAND * spread * (1.0 - q)
    return U, out
