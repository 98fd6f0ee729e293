"""Pin numpy/BLAS/OpenMP/torch to one thread, as the benchmark protocol asks.

Importing this module sets the thread-count variables, so it must be imported before
numpy (or anything that imports numpy). Variables already set to other values are
overwritten: a benchmark run is always single-threaded.
"""
import os
import sys

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "BLIS_NUM_THREADS",
)

for _name in THREAD_VARIABLES:
    os.environ[_name] = "1"


def pin_torch() -> None:
    """Also limit torch's intra- and inter-op pools, if something has imported torch."""
    torch = sys.modules.get("torch")
    if torch is None:
        return
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # only settable before torch's first parallel work
        pass
