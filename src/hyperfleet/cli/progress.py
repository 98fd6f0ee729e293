"""The progress display of ``hyperfleet search`` and ``resume`` (a driver callback).

On a terminal: one live line laid out for its width (80 columns and up): the counts are never
cut, the bar takes what is left, and the less important figures go first when it is narrow.
Without a terminal (redirected, a batch job's log): a plain line every 10 % of the budget or
every 30 s, whichever comes first, and one at the end.
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import Optional

import click

#: a plain progress line at least this often (seconds) without a terminal
PLAIN_EVERY_S = 30.0


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def progress_line(stats, max_evals: int, width: int, now: Optional[float] = None) -> str:
    """The live line in at most ``width`` characters: ``[━━━━   ] 20/100 ok 18 run 2 fail 0 best …``."""
    now = time.time() if now is None else now
    elapsed = max(now - stats.start_time, 1e-9)
    best = "-" if stats.best is None else f"{stats.best:.6g}"
    count = f"{stats.finished}/{max_evals}"
    stopped = stats.stopped
    long = [f"done {stats.done}", *([f"stopped {stopped}"] if stopped else []), f"running {stats.running}", f"failed {stats.failed}", f"best {best}",
            f"{stats.finished / elapsed:.2f}/s", _clock(elapsed)]
    short = [f"ok {stats.done}", *([f"stop {stopped}"] if stopped else []), f"run {stats.running}", f"fail {stats.failed}", f"best {best}",
             f"{stats.finished / elapsed:.2g}/s", _clock(elapsed)]
    for parts, sep in ((long, " · "), (short, " "), (short[:5], " "), (short[:4], " "), (short[:3], " ")):
        text = f"{count} {sep.join(parts)}"
        bar = width - len(text) - 3  # "[" "]" and a space
        if bar >= 10:
            break
    else:
        return text[:width]
    bar = min(bar, 40)
    full = 0 if max_evals <= 0 else min(bar, round(bar * stats.finished / max_evals))
    return f"[{'━' * full}{' ' * (bar - full)}] {text}"


class ProgressDisplay:
    """Prints the search's id and folder at the start, then its progress (see the module)."""

    def __init__(self, max_evals: int, enabled: bool = True, stream=None) -> None:
        self.max_evals = max_evals
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.live = enabled and self.stream.isatty()
        self._stats = None
        self._next_time = 0.0
        self._next_count = 0
        self._drawn = False
        self._printed: Optional[int] = None

    def on_start(self, record, stats) -> None:
        click.echo(f"search {record.id} ({record.label})")
        click.echo(f"folder {record.folder}")
        self._stats = stats
        self.max_evals = self.max_evals or stats.max_evals  # a joined search's budget, known now
        self._next_time = time.time() + PLAIN_EVERY_S
        self._next_count = self._step(stats.finished)

    def on_launch(self, record, stats) -> None:
        self._refresh(stats)

    def on_done(self, record, stats) -> None:
        self._refresh(stats)

    def _step(self, finished: int) -> int:
        step = max(1, -(-self.max_evals // 10))
        return (finished // step + 1) * step

    def _refresh(self, stats) -> None:
        self._stats = stats
        if not self.enabled:
            return
        if self.live:
            width = shutil.get_terminal_size().columns - 1
            self.stream.write("\r" + progress_line(stats, self.max_evals, width).ljust(width) + "\r")
            self.stream.flush()
            self._drawn = True
            return
        now = time.time()
        if stats.finished >= self._next_count or now >= self._next_time:
            self._plain(stats, now)

    def _plain(self, stats, now: float) -> None:
        elapsed = max(now - stats.start_time, 1e-9)
        best = "-" if stats.best is None else f"{stats.best:.6g}"
        self.stream.write(f"progress {stats.finished}/{self.max_evals}: {stats.done} done, "
                          f"{f'{stats.stopped} stopped, ' if stats.stopped else ''}{stats.running} running, {stats.failed} failed, best {best}, {stats.finished / elapsed:.2f}/s, "
                          f"{elapsed:.0f} s\n")
        self.stream.flush()
        self._next_time = now + PLAIN_EVERY_S
        self._next_count = self._step(stats.finished)
        self._printed = stats.finished

    def close(self) -> None:
        if not self.enabled or self._stats is None:
            return
        if self.live and self._drawn:
            width = shutil.get_terminal_size().columns - 1
            self.stream.write(progress_line(self._stats, self.max_evals, width) + "\n")
            self.stream.flush()
        elif not self.live and self._printed != self._stats.finished:
            self._plain(self._stats, time.time())
        self._stats = None
