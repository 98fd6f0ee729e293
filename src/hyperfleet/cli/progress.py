"""The live progress display of ``hyperfleet search`` (a driver callback)."""

from __future__ import annotations

import sys
import time

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class ProgressDisplay:
    """Prints the search's id and folder at the start, then a bar: done / running / failed, best, rate."""

    def __init__(self, max_evals: int, enabled: bool = True) -> None:
        self.max_evals = max_evals
        self.enabled = enabled and sys.stderr.isatty()
        self._progress = None
        self._task = None

    def on_start(self, record, stats) -> None:
        click.echo(f"search {record.id} ({record.label})")
        click.echo(f"folder {record.folder}")
        if not self.enabled:
            return
        self._progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TextColumn("{task.fields[info]}"), TimeElapsedColumn(),
                                  console=Console(stderr=True), transient=False)
        self._task = self._progress.add_task("evaluations", total=self.max_evals, info="")
        self._progress.start()

    def on_launch(self, record, stats) -> None:
        self._refresh(stats)

    def on_done(self, record, stats) -> None:
        self._refresh(stats)

    def _refresh(self, stats) -> None:
        if self._progress is None:
            return
        elapsed = max(time.time() - stats.start_time, 1e-9)
        best = "-" if stats.best is None else f"{stats.best:.6g}"
        stopped = f"stopped {stats.stopped} · " if stats.stopped else ""
        info = (f"done {stats.done} · {stopped}running {stats.running} · failed {stats.failed} · best {best} · "
                f"{stats.finished / elapsed:.2f}/s")
        self._progress.update(self._task, completed=stats.finished, info=info)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
