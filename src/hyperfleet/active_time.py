"""A search's active time: the seconds its drivers ran, leaving out the time it was stopped.

Each run of a driver records the interval it was active in the search's settings, under
``active_intervals`` (a list of ``[start, end]`` in Unix seconds; ``end`` is ``None`` while it
runs). ``elapsed_sec`` in ``results.csv``, the report's time axes and its utilization map wall-clock
times through :class:`ActiveClock`, so a search interrupted on Monday and resumed on Tuesday shows
no gap of a day. No schema change: the settings are a JSON column already.
"""

from __future__ import annotations

from typing import Iterable, Optional, Sequence

INTERVALS_KEY = "active_intervals"


class ActiveClock:
    """Maps a wall-clock time to the active seconds of a search up to that time.

    Args:
        intervals: ``[start, end]`` pairs (``end`` None: still running); overlapping intervals
            (several drivers sharing a search) count once.
        origin: used when no interval is recorded (searches from older versions): plain
            ``t - origin``.
    """

    def __init__(self, intervals: Iterable[Sequence[Optional[float]]] = (), origin: Optional[float] = None) -> None:
        spans = sorted((float(s), float("inf") if e is None else float(e)) for s, e in intervals)
        merged: list[list[float]] = []
        for start, end in spans:
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self.spans = merged
        self.origin = merged[0][0] if merged else origin

    def __call__(self, t: float) -> float:
        """Active seconds from the first start to ``t`` (a time in a gap maps to the gap's start)."""
        if not self.spans:
            return t - (self.origin or 0.0)
        if t <= self.spans[0][0]:
            return t - self.spans[0][0]
        total = 0.0
        for start, end in self.spans:
            if t <= start:
                break
            total += min(t, end) - start
        return total

    @classmethod
    def of(cls, settings: dict, origin: Optional[float] = None) -> "ActiveClock":
        """The clock of a search from its recorded settings."""
        return cls((settings or {}).get(INTERVALS_KEY) or (), origin)


def opened(settings: dict, start: float, history_times: Iterable[Optional[float]] = (),
           first_start: Optional[float] = None) -> dict:
    """The settings with a new active interval starting at ``start``.

    An interval left open by a driver that died is closed at the last time its evaluations show
    (``history_times``: their start and end times), or at its own start if none. A search
    recorded before intervals were (``first_start`` earlier than ``start``, none recorded) gets
    one from ``first_start`` to its last evaluation time.
    """
    intervals = [list(i) for i in (settings or {}).get(INTERVALS_KEY) or ()]
    times = [t for t in history_times if t is not None]
    if not intervals and first_start is not None and first_start < start:
        intervals.append([first_start, None])
    for interval in intervals:
        if interval[1] is None:
            inside = [t for t in times if interval[0] <= t <= start]
            interval[1] = max(inside, default=interval[0])
    intervals.append([start, None])
    return {**(settings or {}), INTERVALS_KEY: intervals}


def closed(settings: dict, start: float, end: float) -> dict:
    """The settings with the interval that began at ``start`` ending at ``end``."""
    intervals = [list(i) for i in (settings or {}).get(INTERVALS_KEY) or ()]
    for interval in intervals:
        if interval[0] == start:
            interval[1] = end
            break
    else:
        intervals.append([start, end])
    return {**(settings or {}), INTERVALS_KEY: intervals}
