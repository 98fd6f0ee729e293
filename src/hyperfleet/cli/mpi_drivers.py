"""``hyperfleet search --mpi-drivers`` under ``mpiexec -n K``: K drivers on one search.

Rank 0 starts the search (``--name`` and the other options as usual) and, once it runs, tells
the other ranks its id; each of them then joins it (``--join``) with workers of its own on its
node (``--evaluator`` and ``--workers`` as given: the process or thread evaluator). The ranks
talk once, through mpi4py; the search is shared through the store, like drivers started by hand.
"""

from __future__ import annotations

from typing import Optional

import click


class _Announce:
    """Rank 0's driver callback: tells the other ranks the search's id when it starts."""

    def __init__(self, comm) -> None:
        self.comm = comm
        self.sent = False

    def on_start(self, record, stats) -> None:
        if not self.sent:
            self.sent = True
            self.comm.bcast(record.id, root=0)


def mpi_driver_start(label: Optional[str], store, wait: float, evaluator: str, workers: Optional[int],
                     timeout: Optional[float], quiet: bool) -> Optional[_Announce]:
    """On rank 0: the callback that announces the search (rank 0 then runs ``search`` as usual).
    On the other ranks: join the search once announced, and return None (their work is done)."""
    if evaluator in ("mpi", "dask"):
        raise click.UsageError(f"--mpi-drivers gives every rank workers of its own: use --evaluator process "
                               f"or thread, not {evaluator}")
    try:
        from mpi4py import MPI
    except ImportError as err:
        raise click.UsageError(f"--mpi-drivers needs mpi4py ({err}); install it with: "
                               f"pip install 'hyperfleet[mpi]'") from None
    comm = MPI.COMM_WORLD
    if comm.Get_rank() == 0:
        return _Announce(comm)
    search_id = comm.bcast(None, root=0)
    from hyperfleet.cli.search import join_command

    join_command(search_id, wait, evaluator, workers, None, timeout, True, store)
    return None
