"""One evaluation in full, as ``hyperfleet ls EVAL-ID`` prints it."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Optional

import click

from hyperfleet.cli.tables import fmt_number, fmt_time, fmt_value, terminal_width

#: lines of stdout.txt / stderr.txt shown
TAIL_LINES = 15


def show_evaluation(db, evaluation) -> None:
    """Print configuration, state, objective, times, worker, error, output tails and folder."""
    search = db.get_search(evaluation.search_id)
    e = evaluation
    width = terminal_width() or 100
    click.echo(f"evaluation {e.id} (#{e.number} of search {search.label}, {search.id[:8]})")
    click.echo(f"  state      {e.state.value}")
    click.echo(f"  objective  {fmt_number(e.objective)}")
    click.echo("  config")
    for name, value in e.config.items():
        click.echo(f"    {name} = {fmt_value(value)}")
    duration = "" if e.start_time is None or e.end_time is None else f" ({e.end_time - e.start_time:.3f} s)"
    click.echo(f"  created    {fmt_time(e.created_time)}")
    click.echo(f"  started    {fmt_time(e.start_time)}")
    click.echo(f"  ended      {fmt_time(e.end_time)}{duration}")
    click.echo(f"  worker     {e.worker or '-'} on {e.host or '-'}")
    if e.metadata:
        click.echo("  metadata   " + _short(json.dumps(e.metadata, default=repr), width - 13))
    if e.error:
        click.echo("  error")
        for line in e.error.rstrip().splitlines():
            click.echo("    " + line)
    for name in ("stdout.txt", "stderr.txt"):
        tail = _tail(e.folder, name)
        if tail is None:
            continue
        click.echo(f"  {name} (last {TAIL_LINES} lines)" if tail.count("\n") >= TAIL_LINES - 1
                   else f"  {name}")
        click.echo(textwrap.indent(tail.rstrip("\n") or "(empty)", "    "))
    click.echo(f"  folder     {e.folder or '-'}")


def _tail(folder: Optional[str], name: str) -> Optional[str]:
    if not folder:
        return None
    path = Path(folder) / name
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            data = f.read().decode(errors="replace")
    except OSError:
        return None
    return "\n".join(data.splitlines()[-TAIL_LINES:])


def _short(text: str, width: int) -> str:
    width = max(width, 20)
    return text if len(text) <= width else text[:width - 1] + "…"
