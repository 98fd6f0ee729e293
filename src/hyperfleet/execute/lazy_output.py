"""An evaluation's ``stdout.txt`` / ``stderr.txt`` for output captured at the Python level
(threads, the serial evaluator, Dask), created only when the evaluation first writes to it.

Creating a folder and two files per evaluation costs more than a short evaluation itself on many
file systems (a network one above all); most evaluations print nothing. The file, and the
evaluation's folder, are made on the first write, or when something asks for the file's descriptor.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from hyperfleet.files import make_folder, open_output


class LazyOutput:
    """A text stream that opens ``path`` (append, with hyperfleet's file mode) on first use."""

    encoding = "utf-8"
    errors = "strict"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._file: Optional[object] = None

    def _open(self):
        if self._file is None:
            make_folder(self.path.parent)  # the evaluation's folder too is made on its first write
            self._file = os.fdopen(open_output(self.path), "a", encoding=self.encoding)
        return self._file

    def write(self, text: str) -> int:
        if not text:
            return 0
        return self._open().write(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def fileno(self) -> int:
        return self._open().fileno()

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    @property
    def opened(self) -> bool:
        """Whether the file exists because something was written."""
        return self._file is not None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    def __enter__(self) -> "LazyOutput":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __getattr__(self, name: str):
        return getattr(self._open(), name)
