"""The behaviour every stopper must show, as plain check functions.

Each check takes ``make``, a function ``make(seed) -> Stopper`` building a fresh stopper whose
full training is :data:`MAX_STEP` steps, and raises ``AssertionError`` when the stopper
misbehaves. ``tests/stop/test_stopper_conformance.py`` runs them for every registered stopper; a
new stopper passes them all before it is registered::

    from hyperfleet.testing import stopper_kit
    for check in stopper_kit.CHECKS:
        check(lambda seed: MyStopper(seed=seed, max_step=stopper_kit.MAX_STEP))
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Callable, Optional

import numpy as np
import pytest

from hyperfleet.stop import Stopper

MAX_STEP = 27
Make = Callable[[Optional[int]], Stopper]


def curve(quality: float, tau: float, t: int, noise: float = 0.0,
          rng: np.random.Generator | None = None) -> float:
    """A saturating learning curve: 0.1 at the start, ``quality`` at the end."""
    value = quality - (quality - 0.1) * math.exp(-t / tau)
    return value + (rng.normal(0, noise) if rng is not None and noise else 0.0)


def curve_params(n_evals: int, rng: np.random.Generator) -> dict[str, tuple[float, float]]:
    """Quality and time scale of the curves ``e0``, ``e1``, ... of :func:`interleaved_run`."""
    return {f"e{i}": (rng.uniform(0.3, 0.95), rng.uniform(2, 12)) for i in range(n_evals)}


def interleaved_run(stopper: Stopper, n_evals: int = 24, workers: int = 4, seed: int = 0,
                    protect: tuple[str, ...] = ()) -> list[tuple]:
    """Drive ``stopper`` with ``n_evals`` noisy curves, ``workers`` at a time, reports of the
    running ones interleaved in a seeded order; returns the log of calls and decisions."""
    rng = np.random.default_rng(seed)
    params = curve_params(n_evals, rng)
    queue = list(params)
    running: dict[str, int] = {}
    log: list[tuple] = []
    for eval_id in protect:
        stopper.protect(eval_id)
        log.append(("protect", eval_id))
    while queue or running:
        while queue and len(running) < workers:
            running[queue.pop(0)] = 0
        eval_id = sorted(running)[int(rng.integers(len(running)))]
        running[eval_id] += 1
        step = running[eval_id]
        value = curve(*params[eval_id], step, noise=0.01, rng=rng)
        go = stopper.report(eval_id, step, value)
        log.append(("report", eval_id, step, value, go))
        if not go or step >= MAX_STEP:
            stopper.finish(eval_id, stopped=not go)
            log.append(("finish", eval_id, not go))
            del running[eval_id]
    return log


def replay(stopper: Stopper, log: list[tuple]) -> list[tuple]:
    """Replay a log's calls through ``stopper`` (as ``resume`` does); returns the new log."""
    out: list[tuple] = []
    for entry in log:
        if entry[0] == "protect":
            stopper.protect(entry[1])
            out.append(entry)
        elif entry[0] == "report":
            out.append(entry[:4] + (stopper.report(*entry[1:4]),))
        else:
            stopper.finish(entry[1], stopped=entry[2])
            out.append(entry)
    return out


def check_deterministic_under_replay(make: Make) -> None:
    """Same seed and same calls: same decisions; a stopper rebuilt by replaying the first half
    of the calls decides the second half as the original did."""
    first = interleaved_run(make(3), seed=1)
    assert interleaved_run(make(3), seed=1) == first, "two runs with the same seed differ"
    half = len(first) // 2
    rebuilt = make(3)
    assert replay(rebuilt, first[:half]) == first[:half]
    assert replay(rebuilt, first[half:]) == first[half:], \
        "a stopper rebuilt from replayed calls decides differently"


def check_protect_honoured(make: Make) -> None:
    """Protected evaluations are never stopped, however bad; the others still are judged."""
    stopper = make(0)
    stopper.protect("bad")
    for i in range(6):  # good curves first, fully trained
        for t in range(1, MAX_STEP + 1):
            stopper.report(f"good{i}", t, curve(0.9, 3, t))
        stopper.finish(f"good{i}", stopped=False)
    for t in range(1, MAX_STEP + 1):
        assert stopper.report("bad", t, curve(0.2, 3, t)), f"protected evaluation stopped at {t}"
    stopper.finish("bad", stopped=False)
    log = interleaved_run(make(0), protect=("e0", "e1"))
    assert all(e[4] for e in log if e[0] == "report" and e[1] in ("e0", "e1"))


def check_decisions_stable(make: Make) -> None:
    """Once told to stop, an evaluation stays stopped: its later reports return False."""
    stopper = make(0)
    for i in range(6):
        for t in range(1, MAX_STEP + 1):
            stopper.report(f"good{i}", t, curve(0.9, 3, t))
        stopper.finish(f"good{i}", stopped=False)
    stopped_at = None
    for t in range(1, MAX_STEP + 1):
        go = stopper.report("bad", t, curve(0.2, 3, t))
        if stopped_at is None and not go:
            stopped_at = t
        elif stopped_at is not None:
            assert not go, f"stopped at step {stopped_at}, then told to continue at step {t}"
    assert stopped_at is not None, "a curve far below six finished ones was never stopped"


def check_stops_bad_not_good(make: Make) -> None:
    """Among many curves, some are stopped before the end, and the stopped ones are worse on
    average than the fully trained ones."""
    log = interleaved_run(make(0), n_evals=30, workers=3, seed=5)
    params = curve_params(30, np.random.default_rng(5))
    ended = {e[1]: e[2] for e in log if e[0] == "finish"}
    stopped = [params[eid][0] for eid, s in ended.items() if s]
    full = [params[eid][0] for eid, s in ended.items() if not s]
    assert stopped, "nothing was stopped among 30 curves of widely different quality"
    if full:
        assert np.mean(stopped) < np.mean(full), \
            f"stopped curves ({np.mean(stopped):.2f}) are better than full ones ({np.mean(full):.2f})"


def check_bad_reports(make: Make) -> None:
    """A non-finite or non-number value, a step that does not increase or is not a positive
    integer: ValueError with one line, nothing recorded; the evaluation goes on normally."""
    stopper = make(0)
    assert stopper.report("a", 1, 0.5) in (True, False)
    for step, value, words in [(2, math.nan, "finite"), (2, math.inf, "finite"),
                               (2, "high", "number"), (2, None, "number"), (1, 0.6, "increase"),
                               (0, 0.6, "positive"), (2.5, 0.6, "integer"), ("x", 0.6, "integer")]:
        with pytest.raises(ValueError, match=words) as info:
            stopper.report("a", step, value)
        assert "\n" not in str(info.value)
    assert stopper.curves["a"].steps == [1]
    stopper.report("a", 2, 0.6)
    assert stopper.curves["a"].steps == [1, 2]


def check_bad_settings(make: Make) -> None:
    """An unknown setting: ValueError naming it and listing the known ones, in one line."""
    stopper = make(0)
    cls = type(stopper)
    with pytest.raises(ValueError, match="no_such_setting") as info:
        cls(seed=0, no_such_setting=1)
    message = str(info.value)
    assert "\n" not in message and cls.name in message
    current = dataclasses.asdict(stopper.settings)
    for name in ("max_step", "min_step"):
        if name in current:
            assert name in message, f"the error does not list the setting {name!r}: {message}"
            for bad in (-3, "lots"):
                with pytest.raises(ValueError, match=name) as info:
                    cls(seed=0, **{**current, name: bad})
                assert "\n" not in str(info.value)


def check_report_after_finish(make: Make) -> None:
    """A report arriving after ``finish`` is ignored (False); finishing twice, or an
    evaluation that never reported (failed at once), is harmless."""
    stopper = make(0)
    for t in range(1, 4):
        stopper.report("a", t, 0.1 * t)
    stopper.finish("a", stopped=False)
    assert stopper.report("a", 4, 0.9) is False
    assert stopper.curves["a"].steps == [1, 2, 3]
    stopper.finish("a", stopped=True)
    assert stopper.curves["a"].completed
    stopper.finish("never-reported", stopped=False)
    assert stopper.report("b", 1, 0.5) in (True, False)


def check_full_training_allowed(make: Make) -> None:
    """The first evaluation, alone, is never stopped by a stopper that compares curves (nothing
    to compare it with)."""
    stopper = make(0)
    if not stopper.compares_curves:
        return
    for t in range(1, MAX_STEP + 1):
        assert stopper.report("only", t, curve(0.5, 4, t)), f"a lone curve was stopped at {t}"


def check_many_curves_cheap(make: Make, n_curves: int = 1000, limit_ms: float = 5.0) -> None:
    """With ``n_curves`` evaluations running (and as many finished), a decision costs under
    ``limit_ms`` (median over a thousand reports)."""
    stopper = make(0)
    rng = np.random.default_rng(0)
    for i in range(n_curves):
        for t in range(1, 6):
            stopper.report(f"done{i}", t, curve(rng.uniform(0.3, 0.9), 4, t))
        stopper.finish(f"done{i}", stopped=False)
    qualities = rng.uniform(0.3, 0.9, n_curves)
    for t in range(1, 3):
        for i in range(n_curves):
            stopper.report(f"run{i}", t, curve(qualities[i], 4, t))
    times = []
    for i in range(n_curves):
        start = time.perf_counter()
        stopper.report(f"run{i}", 3, curve(qualities[i], 4, 3))
        times.append(time.perf_counter() - start)
    median_ms = 1000 * float(np.median(times))
    assert median_ms < limit_ms, f"a decision takes {median_ms:.2f} ms at {n_curves} curves"


CHECKS = [check_deterministic_under_replay, check_protect_honoured, check_decisions_stable,
          check_stops_bad_not_good, check_bad_reports, check_bad_settings,
          check_report_after_finish, check_full_training_allowed, check_many_curves_cheap]
