"""Store calls that a signal does not cut in half.

A signal handler that raises (the driver's SIGTERM/SIGHUP handler, Python's Ctrl-C) can interrupt
the main thread anywhere, also between a database's ``BEGIN`` and its ``COMMIT`` or while
SQLAlchemy hands a connection back to its pool. A connection caught there keeps its transaction
open, held alive by the exception's traceback, and SQLite's write lock with it: the driver's own
clean-up then waits for that lock for ever. So each attempt of a store method runs inside
:func:`critical`, and a handler that finds :func:`active` true calls :func:`defer` instead of
raising; the exception is raised as soon as the store call returns (or fails).
"""

from __future__ import annotations

import contextlib
import threading
from typing import Callable, Iterator, Optional

_depth = 0
_pending: Optional[Callable[[], None]] = None


def active() -> bool:
    """Whether the main thread is inside a store call now (call it from a signal handler)."""
    return _depth > 0


def defer(raise_it: Callable[[], None]) -> None:
    """Run ``raise_it`` (which raises the signal's exception) once the store call ends; the first one wins."""
    global _pending
    if _pending is None:
        _pending = raise_it


@contextlib.contextmanager
def critical() -> Iterator[None]:
    """Signals handled with :func:`defer` wait until the block ends (main thread only; elsewhere a no-op)."""
    global _depth, _pending
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0 and _pending is not None:
            raise_it, _pending = _pending, None
            raise_it()
