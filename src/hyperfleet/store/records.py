"""What the store holds: searches and evaluations, with their states."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Optional


class EvaluationState(str, enum.Enum):
    """Life cycle of one evaluation."""

    CREATED = "CREATED"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"
    TIMEOUT = "TIMEOUT"
    CANCELLED = "CANCELLED"
    #: stopped early by the stopper: finished, not failed; its objective is the last value it
    #: reported (at ``last_step``), not a full training's
    STOPPED = "STOPPED"

    @property
    def finished(self) -> bool:
        return self in (EvaluationState.DONE, EvaluationState.FAILED, EvaluationState.TIMEOUT,
                        EvaluationState.CANCELLED, EvaluationState.STOPPED)


class SearchState(str, enum.Enum):
    """Life cycle of one search."""

    CREATED = "CREATED"
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    INTERRUPTED = "INTERRUPTED"
    CANCELLED = "CANCELLED"


@dataclass
class SearchRecord:
    """One search: where its code is, how it was set up, and how far it got."""

    id: str
    label: str
    state: SearchState
    folder: str
    problem_path: Optional[str] = None
    run_path: Optional[str] = None
    problem: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    created_time: Optional[float] = None
    start_time: Optional[float] = None
    end_time: Optional[float] = None
    message: Optional[str] = None
    scheduler: Optional[str] = None
    job_id: Optional[str] = None
    driver_host: Optional[str] = None
    driver_pid: Optional[int] = None
    driver_started: Optional[float] = None
    driver_boot_id: Optional[str] = None
    driver_token: Optional[str] = None
    lease_expires: Optional[float] = None


@dataclass
class EvaluationRecord:
    """One evaluation of one configuration."""

    id: str
    search_id: str
    number: int
    config: dict
    state: EvaluationState
    objective: Optional[float] = None
    metadata: dict = field(default_factory=dict)
    error: Optional[str] = None
    created_time: Optional[float] = None
    start_time: Optional[float] = None
    end_time: Optional[float] = None
    worker: Optional[str] = None
    host: Optional[str] = None
    folder: Optional[str] = None
    #: the step of its last intermediate value (``hyperfleet.report``); None: it reported none
    last_step: Optional[int] = None
    #: how many intermediate values of its search the driver had received when it ended (its
    #: place among them, so that ``resume`` replays the stopper's calls in their order)
    finish_seq: Optional[int] = None
    #: the driver (``drivers`` row) that created it; None before schema version 6
    driver_id: Optional[str] = None
    #: a digest of :meth:`HpProblem.key` of its configuration (the duplicate check of shared searches)
    config_key: Optional[str] = None
    #: its place among the ends of its search's evaluations, across all drivers (assigned by the store)
    done_seq: Optional[int] = None
    #: several objectives: their values in declared order (``objective`` holds the first)
    objectives: Optional[list] = None
    #: constraint values (feasible when all <= 0), in declared order; None: no constraint
    constraints: Optional[list] = None
    #: whether every constraint holds (None: the problem has no constraint)
    feasible: Optional[bool] = None

    def to_json(self) -> dict[str, Any]:
        """The record as written to ``results.json``."""
        return {"id": self.id, "number": self.number, "state": self.state.value,
                "config": self.config, "objective": self.objective, "metadata": self.metadata,
                "error": self.error, "start_time": self.start_time, "end_time": self.end_time,
                "worker": self.worker, "host": self.host, "folder": self.folder,
                "last_step": self.last_step, "objectives": self.objectives,
                "constraints": self.constraints, "feasible": self.feasible}


class MemberState(str, enum.Enum):
    """Life cycle of one driver of a search (a row of the ``drivers`` table)."""

    RUNNING = "RUNNING"
    LEFT = "LEFT"  # it ended and said so
    LOST = "LOST"  # it died (SIGKILL, a lost node); another driver recovered what it ran


@dataclass
class MemberRecord:
    """One driver of a search: the first (``role="primary"``, it holds the search's claim) or one
    that joined it (``"member"``), with its own lease."""

    id: str
    search_id: str
    role: str
    state: MemberState
    host: Optional[str] = None
    pid: Optional[int] = None
    started: Optional[float] = None
    boot_id: Optional[str] = None
    workers: Optional[int] = None
    joined_time: Optional[float] = None
    left_time: Optional[float] = None
    lease_expires: Optional[float] = None


@dataclass(frozen=True)
class ReportRecord:
    """One intermediate value of one evaluation (``hyperfleet.report(value, step)``).

    ``seq``: its place among all the reports of its search, in the order the driver received them.
    With several objectives (or constraints), ``objectives`` and ``constraints`` hold the values
    in declared order and ``value`` is the first objective; None for a one-number report.
    """

    evaluation_id: str
    seq: int
    step: int
    value: float
    time: float
    objectives: Optional[list] = None
    constraints: Optional[list] = None


@dataclass
class SearchSummary:
    """Counts by state and the best objective of one search."""

    search: SearchRecord
    counts: dict[str, int]
    best: Optional[float]

    @property
    def done(self) -> int:
        return self.counts.get(EvaluationState.DONE.value, 0)

    @property
    def failed(self) -> int:
        return sum(self.counts.get(s.value, 0) for s in
                   (EvaluationState.FAILED, EvaluationState.TIMEOUT))

    @property
    def stopped(self) -> int:
        return self.counts.get(EvaluationState.STOPPED.value, 0)

    @property
    def running(self) -> int:
        return self.counts.get(EvaluationState.RUNNING.value, 0)

    @property
    def total(self) -> int:
        return sum(self.counts.values())
