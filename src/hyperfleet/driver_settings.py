"""The driver's settings, grouped in frozen objects built once by the CLI, the API, resume and submit.

A search's settings are recorded in the store as a flat dict (``SearchRecord.settings``);
:meth:`DriverSettings.from_dict` reads them back and :meth:`DriverSettings.to_dict` writes
them, so ``resume`` runs a search with exactly what it was started with.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, ClassVar, Optional


@dataclass(frozen=True)
class Budget:
    """How much to run and when to stop.

    Attributes:
        max_evals: evaluations to create at most (never exceeded with ``drain``).
        timeout: wall-clock seconds after which running evaluations are cancelled.
        drain: True (default): never create more than ``max_evals`` evaluations, so the last
            workers to finish have nothing left to run while the longest last evaluations end
            (the drain). False: keep every worker busy until ``max_evals`` evaluations have
            finished, then cancel the ones still running (state CANCELLED).
    """

    max_evals: int = 100
    timeout: Optional[float] = None
    drain: bool = True

    def __post_init__(self):
        if isinstance(self.max_evals, bool) or not isinstance(self.max_evals, int) or self.max_evals < 1:
            raise ValueError(f"max_evals must be an integer >= 1, got {self.max_evals!r}")
        _positive("timeout", self.timeout)


@dataclass(frozen=True)
class FailurePolicy:
    """When failures end a search.

    Attributes:
        max_failures: stop the search (state FAILED) once this many evaluations have failed or
            timed out.
    """

    max_failures: Optional[int] = None

    def __post_init__(self):
        if self.max_failures is not None and (not isinstance(self.max_failures, int) or self.max_failures < 1):
            raise ValueError(f"max_failures must be an integer >= 1, got {self.max_failures!r}")


@dataclass(frozen=True)
class EvalPolicy:
    """How each evaluation runs.

    Attributes:
        eval_timeout: seconds after which one evaluation is killed and recorded as TIMEOUT.
        isolate: run each evaluation in a child process of its own.
        prefetch: configurations asked ahead and kept ready, so that a worker that frees up
            restarts at once instead of waiting for the search's ``tell`` and ``ask``. The price:
            a prefetched configuration was chosen before the latest results came in.
            Default (None): 1 with several workers, 0 with one.
        eval_memory: GB (10^9 bytes) of memory one evaluation's processes may use together;
            over it they are killed and the evaluation is FAILED ("out of memory"). Evaluations
            with a limit run in a child process of their own, watched by their worker.
    """

    eval_timeout: Optional[float] = None
    isolate: bool = False
    prefetch: Optional[int] = None
    eval_memory: Optional[float] = None

    def __post_init__(self):
        _positive("eval_timeout", self.eval_timeout)
        if self.eval_memory is not None and (isinstance(self.eval_memory, bool)
                                             or not isinstance(self.eval_memory, (int, float))
                                             or not self.eval_memory > 0):
            raise ValueError(f"eval_memory must be a number of GB > 0, got {self.eval_memory!r}")
        if self.prefetch is not None and (not isinstance(self.prefetch, int) or self.prefetch < 0):
            raise ValueError(f"prefetch must be an integer >= 0, got {self.prefetch!r}")


@dataclass(frozen=True)
class Resources:
    """Resources handed to each running evaluation, its own.

    Attributes:
        gpus_per_eval: GPUs per evaluation through ``CUDA_VISIBLE_DEVICES`` (0: none).
        gpus: the GPU ids to hand out (None: detected).
        nodes_per_eval: whole nodes of a batch job per evaluation (``-j mpi``; 0: none).
        ranks_per_node: MPI ranks per node for ``nodes_per_eval``.
        launcher: the launcher named in ``HYPERFLEET_LAUNCH`` (``srun``, ``mpiexec``).
    """

    gpus_per_eval: int = 0
    gpus: Optional[tuple] = None
    nodes_per_eval: int = 0
    ranks_per_node: int = 1
    launcher: str = "srun"

    def __post_init__(self):
        if self.gpus is not None:
            object.__setattr__(self, "gpus", tuple(str(g) for g in self.gpus))
        if self.gpus is not None and not self.gpus_per_eval:
            raise ValueError("--gpus needs --gpus-per-eval K")
        if self.gpus_per_eval < 0 or self.nodes_per_eval < 0:
            raise ValueError("gpus_per_eval and nodes_per_eval must be >= 0")

    def pools(self) -> list:
        """The resource pools the driver hands out from."""
        from hyperfleet.execute.resources import GpuPool, NodePool

        pools = []
        if self.gpus_per_eval:
            pools.append(GpuPool(self.gpus_per_eval, list(self.gpus) if self.gpus else None))
        if self.nodes_per_eval:
            pools.append(NodePool(self.nodes_per_eval, self.ranks_per_node or 1, launcher=self.launcher or "srun"))
        return pools


@dataclass(frozen=True)
class StopPolicy:
    """Early stopping of bad trainings (recorded as the flat keys ``stopper`` and ``stopper_settings``).

    Attributes:
        stopper: a stopper's registry name (``asha``, ``median``, ``fixed`` ...; see
            :mod:`hyperfleet.stop`), or None: every training runs to its end (its reports are
            still recorded, buffered, at no cost).
        settings: the stopper's settings by name (``--stopper-setting KEY=VALUE``).
    """

    stopper: Optional[str] = None
    settings: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.stopper is not None and (not isinstance(self.stopper, str) or not self.stopper.strip()):
            raise ValueError(f"stopper must be a stopper's name, got {self.stopper!r}")
        if not isinstance(self.settings, dict):
            raise ValueError(f"stopper_settings must be a dict, got {type(self.settings).__name__}")
        if self.settings and self.stopper is None:
            raise ValueError("--stopper-setting needs --stopper NAME")
        object.__setattr__(self, "settings", dict(self.settings))

    def __hash__(self) -> int:
        return hash((self.stopper, tuple(sorted(self.settings.items(), key=str))))

    def make(self, seed: Optional[int] = None):
        """The stopper (None without one). Raises ValueError for an unknown name or setting."""
        if self.stopper is None:
            return None
        from hyperfleet.stop import make_stopper

        return make_stopper(self.stopper, seed=seed, **self.settings)

    @classmethod
    def from_flat(cls, flat: dict[str, Any]) -> "StopPolicy":
        return cls(flat.get("stopper"), dict(flat.get("stopper_settings") or {}))

    def to_flat(self) -> dict[str, Any]:
        return {"stopper": self.stopper, "stopper_settings": dict(self.settings)}


@dataclass(frozen=True)
class DriverSettings:
    """Everything the driver needs to know besides what to run, grouped by concern."""

    budget: Budget = field(default_factory=Budget)
    failures: FailurePolicy = field(default_factory=FailurePolicy)
    evals: EvalPolicy = field(default_factory=EvalPolicy)
    resources: Resources = field(default_factory=Resources)
    stop: StopPolicy = field(default_factory=StopPolicy)

    _GROUPS: ClassVar[dict] = {"budget": Budget, "failures": FailurePolicy, "evals": EvalPolicy, "resources": Resources}

    @classmethod
    def from_dict(cls, flat: dict[str, Any]) -> "DriverSettings":
        """Read the flat, recorded settings of a search (unknown keys are ignored)."""
        groups = {}
        for name, kind in cls._GROUPS.items():
            values = {f.name: flat[f.name] for f in fields(kind) if flat.get(f.name) is not None}
            groups[name] = kind(**values)
        return cls(**groups, stop=StopPolicy.from_flat(flat))

    def to_dict(self) -> dict[str, Any]:
        """The flat form recorded in the store."""
        flat: dict[str, Any] = {}
        for name in self._GROUPS:
            flat.update(asdict(getattr(self, name)))
        if flat.get("gpus") is not None:
            flat["gpus"] = list(flat["gpus"])
        flat.update(self.stop.to_flat())
        return flat

    def with_budget(self, **changes) -> "DriverSettings":
        """A copy with some budget fields changed (``resume --max-evals``)."""
        return replace(self, budget=replace(self.budget, **changes))



def _positive(name: str, value) -> None:
    if value is not None and not value > 0:
        raise ValueError(f"{name} must be > 0 seconds, got {value!r}")
