"""GPUs handed to evaluations: each running evaluation gets its own, never shared."""

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


def parse_gpu_ids(text: Optional[str]) -> Optional[list[str]]:
    """``"0,1,3"`` -> ``["0", "1", "3"]``; ``None`` stays ``None`` (detect)."""
    if text is None:
        return None
    ids = [g.strip() for g in str(text).split(",") if g.strip()]
    if len(set(ids)) != len(ids):
        raise ValueError(f"--gpus {text!r} names a GPU twice")
    return ids


class GpuPool:
    """Hands out ``per_eval`` GPU ids at a time from a fixed set.

    Args:
        per_eval: GPUs for each evaluation (>= 1).
        ids: the GPU ids to use (default: :func:`detect_gpus`).

    Raises:
        ValueError: when there are fewer GPUs than one evaluation needs.
    """

    def __init__(self, per_eval: int, ids: Optional[Sequence[str]] = None) -> None:
        if per_eval < 1:
            raise ValueError(f"--gpus-per-eval must be >= 1, got {per_eval}")
        self.ids = list(ids) if ids is not None else detect_gpus()
        if len(self.ids) < per_eval:
            found = ", ".join(self.ids) or "none"
            raise ValueError(f"{per_eval} GPU(s) per evaluation asked, but GPUs found: {found}; "
                             f"declare them with --gpus 0,1,... (or CUDA_VISIBLE_DEVICES)")
        self.per_eval = per_eval
        self._free = list(self.ids)

    @property
    def capacity(self) -> int:
        """How many more evaluations can get GPUs now."""
        return len(self._free) // self.per_eval

    def acquire(self) -> list[str]:
        if self.capacity < 1:
            raise RuntimeError("no free GPUs")
        taken, self._free = self._free[: self.per_eval], self._free[self.per_eval:]
        return taken

    def release(self, ids: Sequence[str]) -> None:
        for gpu in ids:
            if gpu in self.ids and gpu not in self._free:
                self._free.append(gpu)
        self._free.sort(key=self.ids.index)
