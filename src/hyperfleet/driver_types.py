"""What the driver hands out: its live counts, its hooks and what a run returns."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Optional, Protocol

from hyperfleet.store import EvaluationRecord, SearchRecord


class Launch(NamedTuple):
    """A configuration the driver asked to start: ``outcome`` ``"ok"`` (``record`` created, RUNNING),
    ``"full"`` (no slot of the budget left) or ``"duplicate"`` (another driver runs it)."""

    config: dict
    outcome: str
    record: Optional[EvaluationRecord]
    env: dict


class Callback(Protocol):
    """Hooks the driver calls; implement any subset (see :class:`DriverStats`).

    ``on_start`` receives the :class:`SearchRecord`; the others an :class:`EvaluationRecord`.
    """

    def on_launch(self, record: EvaluationRecord, stats: "DriverStats") -> None: ...

    def on_done(self, record: EvaluationRecord, stats: "DriverStats") -> None: ...

    def on_start(self, record: SearchRecord, stats: "DriverStats") -> None: ...


@dataclass
class DriverStats:
    """Live counts of one search run."""

    max_evals: int
    submitted: int = 0
    done: int = 0
    failed: int = 0
    stopped: int = 0
    running: int = 0
    best: Optional[float] = None
    best_record: Optional[EvaluationRecord] = None
    start_time: float = field(default_factory=time.time)

    @property
    def finished(self) -> int:
        return self.done + self.failed + self.stopped


@dataclass
class SearchResult:
    """What a finished ``run`` returns."""

    search: SearchRecord
    stats: DriverStats
    stop_reason: str
    signal: Optional[int] = None  # the signal that stopped it (SIGTERM, SIGHUP), if any

    @property
    def best(self) -> Optional[EvaluationRecord]:
        return self.stats.best_record

    @property
    def folder(self) -> Path:
        return Path(self.search.folder)


__all__ = ["Callback", "DriverStats", "SearchResult"]
