"""The anchor virtual environment (Optuna, moocore, pymoo, Ray Tune, ...) that the side-by-side
benchmarks run in. Tests that call into it skip unless it exists *and* imports what they need: a
half-built anchor venv is a machine fact, not a hyperfleet failure."""
from __future__ import annotations

import functools
import subprocess
from pathlib import Path

ANCHOR_PYTHON = Path("/work/venvs/anchors/bin/python")


@functools.lru_cache(maxsize=None)
def anchor_has(*modules: str) -> bool:
    """Whether the anchor venv exists and imports every one of ``modules``."""
    if not ANCHOR_PYTHON.exists():
        return False
    code = "import " + ", ".join(modules)
    proc = subprocess.run([str(ANCHOR_PYTHON), "-c", code], cwd="/", capture_output=True,
                          timeout=120)
    return proc.returncode == 0
