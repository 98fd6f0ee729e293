"""What travels to a worker and what comes back: no database access on the worker side."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


@dataclass(frozen=True)
class EvalTask:
    """One evaluation to run.

    Attributes:
        eval_id: the evaluation's id in the store.
        run_path, run_attr: where the run function is.
        config: the hyperparameters.
        folder: the evaluation's folder (its stdout/stderr files go there).
        timeout: wall-clock seconds after which the evaluation is killed (TIMEOUT).
        isolate: run the evaluation in a child process of its own, so that a crash, a hang or a
            memory blow-up cannot take the worker down.
        env: environment variables for the evaluation (e.g. ``CUDA_VISIBLE_DEVICES``); an
            evaluation with its own environment always runs in a child process.
        function_bytes: the run function pickled by value (cloudpickle), for a function no file
            defines (a notebook's, a closure); ``run_path`` is then ``"<by value>"``.
        live_reports: send each ``hyperfleet.report`` to the driver as it happens and wait for its
            decision (a stopper is set); False: buffer them and send them with the outcome.
        memory_limit: GB (10^9 bytes) of memory the evaluation's processes may use together
            (``--eval-memory``); over it, they are killed and the evaluation is FAILED. An
            evaluation with a limit runs in a child process, watched by its worker.
    """

    eval_id: str
    run_path: str
    run_attr: str
    config: dict
    folder: Optional[str] = None
    timeout: Optional[float] = None
    isolate: bool = False
    env: dict = field(default_factory=dict)
    function_bytes: Optional[bytes] = field(default=None, repr=False)
    live_reports: bool = False
    memory_limit: Optional[float] = None

    @property
    def needs_child_process(self) -> bool:
        return self.isolate or self.timeout is not None or bool(self.env) or self.memory_limit is not None


@dataclass
class EvalOutcome:
    """How an evaluation ended.

    ``state`` is ``DONE`` (``objective`` is a finite float), ``STOPPED`` (the driver said stop:
    ``objective`` is the last reported value, ``last_step`` its step), ``FAILED`` (``error`` says
    why), ``TIMEOUT`` or ``CANCELLED``. ``reports``: the ``(step, value, time)`` reported and not
    yet sent live; ``last_step``: the step of the last report (None: it never reported).
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
    reports: list = field(default_factory=list)
    last_step: Optional[int] = None
    #: several objectives or constraints: ``{"objectives": [...] or {name: v}, "constraints":
    #: [...] or {name: v}}`` as the run function returned them (numbers checked finite; the
    #: driver checks them against the problem); None: a single number in ``objective``
    values: Optional[dict] = None
