"""What travels to a worker and what comes back: no database access on the worker side."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


@dataclass(frozen=True)
class EvalTask:
    """One evaluation to run: the run function's location, the configuration, the folder."""

    eval_id: str
    run_path: str
    run_attr: str
    config: dict
    folder: Optional[str] = None


@dataclass
class EvalOutcome:
    """How an evaluation ended.

    ``state`` is ``DONE`` (``objective`` is a finite float), ``FAILED`` (``error`` says why),
    ``TIMEOUT`` or ``CANCELLED``.
    """

    eval_id: str
    state: str
    objective: Optional[float] = None
    metadata: dict = field(default_factory=dict)
    error: Optional[str] = None
    start_time: Optional[float] = None
    end_time: Optional[float] = None
    worker: Optional[str] = None
    host: Optional[str] = None
