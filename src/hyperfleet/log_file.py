"""The search's log file, written without a flush per line.

A driver logs two lines per evaluation (launched, ended). ``logging.FileHandler`` flushes after
every line, a system call each: with short evaluations that costs the driver more than the rest
of its bookkeeping for an evaluation. :class:`LogFile` lets lines collect in the file's buffer
and writes them out at most :data:`FLUSH_S` seconds later (a daemon thread), at once for a
warning or an error, and when it is closed. A search killed by SIGKILL may lose the last
fraction of a second of its log; its evaluations are in the store regardless.
"""

from __future__ import annotations

import logging
import threading

#: the longest a line waits in the buffer before it is written to the file
FLUSH_S = 0.5


class LogFile(logging.FileHandler):
    """A ``FileHandler`` that flushes every :data:`FLUSH_S` seconds, or at once from WARNING up."""

    def __init__(self, path, interval: float = FLUSH_S) -> None:
        super().__init__(path)
        self.interval = float(interval)
        self._dirty = False
        self._closing = threading.Event()
        self._flusher = threading.Thread(target=self._flush_now_and_then, name="hyperfleet-log-flush",
                                         daemon=True)
        self._flusher.start()

    def emit(self, record: logging.LogRecord) -> None:
        super().emit(record)  # StreamHandler.emit writes the line, then calls self.flush()
        if record.levelno >= logging.WARNING:
            self.flush_now()

    def flush(self) -> None:
        """Called by ``emit`` after every line: only mark the buffer as holding something."""
        self._dirty = True

    def flush_now(self) -> None:
        """Write what the buffer holds to the file."""
        self.acquire()
        try:
            self._dirty = False
            if self.stream is not None and not self.stream.closed:
                self.stream.flush()
        finally:
            self.release()

    def _flush_now_and_then(self) -> None:
        while not self._closing.wait(self.interval):
            if self._dirty:
                self.flush_now()

    def close(self) -> None:
        self._closing.set()
        self.flush_now()
        super().close()
