"""Resources handed to evaluations, each running evaluation its own: GPUs, and nodes of a job.

A :class:`ResourcePool` hands out ``per_eval`` ids at a time from a fixed set and tells the
evaluation which ones through environment variables; the driver never starts more evaluations
than the pool can serve, and the assignment is recorded in each evaluation's metadata.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Optional, Sequence


def detect_gpus() -> list[str]:
    """GPU ids visible here: ``CUDA_VISIBLE_DEVICES`` if set, else those ``nvidia-smi -L`` lists."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [g.strip() for g in visible.split(",") if g.strip() and g.strip() != "-1"]
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20).stdout
        except (OSError, subprocess.SubprocessError):
            return []
        return [str(i) for i, line in enumerate(out.splitlines()) if line.startswith("GPU ")]
    return []


def detect_nodes() -> list[str]:
    """The nodes of the current batch job (Slurm, PBS, LSF), or this host outside a job."""
    if os.environ.get("SLURM_JOB_NODELIST") and shutil.which("scontrol"):
        out = subprocess.run(["scontrol", "show", "hostnames", os.environ["SLURM_JOB_NODELIST"]],
                             capture_output=True, text=True, timeout=30).stdout
        return out.split()
    if os.environ.get("PBS_NODEFILE") and os.path.exists(os.environ["PBS_NODEFILE"]):
        with open(os.environ["PBS_NODEFILE"]) as f:
            return list(dict.fromkeys(line.strip() for line in f if line.strip()))
    if os.environ.get("LSB_HOSTS"):
        return list(dict.fromkeys(os.environ["LSB_HOSTS"].split()))
    import socket

    return [socket.gethostname()]


def parse_gpu_ids(text: Optional[str]) -> Optional[list[str]]:
    """``"0,1,3"`` -> ``["0", "1", "3"]``; ``None`` stays ``None`` (detect)."""
    if text is None:
        return None
    ids = [g.strip() for g in str(text).split(",") if g.strip()]
    if len(set(ids)) != len(ids):
        raise ValueError(f"--gpus {text!r} names a GPU twice")
    return ids


class ResourcePool:
    """Hands out ``per_eval`` ids at a time from ``ids``.

    Subclasses say which environment variables carry an assignment (:meth:`env`) and under which
    key it is recorded in the evaluation's metadata (:attr:`key`).
    """

    key = "resource"
    what = "resources"

    def __init__(self, per_eval: int, ids: Sequence[str]) -> None:
        if per_eval < 1:
            raise ValueError(f"{self.what} per evaluation must be >= 1, got {per_eval}")
        self.ids = list(ids)
        if len(self.ids) < per_eval:
            found = ", ".join(self.ids) or "none"
            raise ValueError(f"{per_eval} {self.what} per evaluation asked, but found: {found}; {self.hint}")
        self.per_eval = per_eval
        self._free = list(self.ids)

    hint = ""

    @property
    def capacity(self) -> int:
        """How many more evaluations can be served now."""
        return len(self._free) // self.per_eval

    def acquire(self) -> list[str]:
        if self.capacity < 1:
            raise RuntimeError(f"no free {self.what}")
        taken, self._free = self._free[: self.per_eval], self._free[self.per_eval:]
        return taken

    def release(self, ids: Sequence[str]) -> None:
        for item in ids:
            if item in self.ids and item not in self._free:
                self._free.append(item)
        self._free.sort(key=self.ids.index)

    def env(self, ids: Sequence[str]) -> dict[str, str]:  # pragma: no cover - abstract
        raise NotImplementedError


class GpuPool(ResourcePool):
    """GPUs through ``CUDA_VISIBLE_DEVICES``; never shared by two running evaluations.

    Args:
        per_eval: GPUs for each evaluation (>= 1).
        ids: the GPU ids to use (default: :func:`detect_gpus`).
    """

    key = "gpus"
    what = "GPU(s)"
    hint = "declare them with --gpus 0,1,... (or CUDA_VISIBLE_DEVICES)"

    def __init__(self, per_eval: int, ids: Optional[Sequence[str]] = None) -> None:
        if per_eval < 1:
            raise ValueError(f"--gpus-per-eval must be >= 1, got {per_eval}")
        super().__init__(per_eval, detect_gpus() if ids is None else ids)

    def env(self, ids: Sequence[str]) -> dict[str, str]:
        return {"CUDA_VISIBLE_DEVICES": ",".join(ids)}


class NodePool(ResourcePool):
    """Whole nodes of a batch job for MPI evaluations (job mode ``mpi``).

    Each evaluation gets ``HYPERFLEET_NODES`` (its nodes, comma-separated) and
    ``HYPERFLEET_LAUNCH``, a launcher prefix for its MPI program on exactly those nodes, e.g.
    ``srun --nodes=2 --ntasks-per-node=4 --nodelist=n1,n2``; the run function starts its program
    with it (``subprocess.run(shlex.split(os.environ['HYPERFLEET_LAUNCH']) + [...])``).

    Args:
        per_eval: nodes for each evaluation.
        ranks_per_node: MPI ranks on each node.
        ids: the nodes (default: :func:`detect_nodes`).
        launcher: ``srun`` or ``mpiexec``.
    """

    key = "nodes"
    what = "node(s)"
    hint = "ask for more nodes with -n, or fewer per evaluation"

    def __init__(self, per_eval: int, ranks_per_node: int = 1, ids: Optional[Sequence[str]] = None,
                 launcher: str = "srun") -> None:
        if launcher not in ("srun", "mpiexec"):
            raise ValueError(f"launcher must be srun or mpiexec, got {launcher!r}")
        super().__init__(per_eval, detect_nodes() if ids is None else ids)
        self.ranks_per_node = ranks_per_node
        self.launcher = launcher

    def env(self, ids: Sequence[str]) -> dict[str, str]:
        nodes = ",".join(ids)
        if self.launcher == "srun":
            launch = (f"srun --nodes={len(ids)} --ntasks-per-node={self.ranks_per_node} --nodelist={nodes}")
        else:
            launch = f"mpiexec -n {len(ids) * self.ranks_per_node} --host {nodes}"
        return {"HYPERFLEET_NODES": nodes, "HYPERFLEET_LAUNCH": launch}
