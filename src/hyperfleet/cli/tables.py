"""Plain-text tables of ``ls`` and ``results``, laid out for the terminal's width.

Designed for 80 columns and using more when there is more: short fixed columns (ids, states,
counts, numbers) are never cut; the flexible ones (a configuration, an error) take what is
left and are cut with ``…`` (or wrapped at spaces); columns of low priority are left out when
even that does not fit. Without a terminal (a pipe, a file) rows are never cut, unless
``$COLUMNS`` says how wide to be. Cells are plain text: values are printed as they are (no
markup, so ``[relu]`` stays ``[relu]``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
import sys
import textwrap
from dataclasses import dataclass
from typing import Optional, Sequence

import click

GAP = "  "


@dataclass(frozen=True)
class Column:
    """One column of a table.

    Attributes:
        header: its title (printed whole, never abbreviated by the layout).
        right: right-aligned (numbers).
        flexible: may be narrower than its longest cell (cut with ``…``, or wrapped with ``wrap``).
        wrap: a flexible column wraps at spaces over several lines instead of being cut.
        min_width: the narrowest a flexible column gets (its header's width at least).
        priority: columns of lower priority are left out first when the table cannot fit.
    """

    header: str
    right: bool = False
    flexible: bool = False
    wrap: bool = False
    min_width: int = 8
    priority: int = 10


def terminal_width() -> Optional[int]:
    """The width to lay tables out for: ``$COLUMNS``, else the terminal's, else ``None`` (no limit)."""
    text = os.environ.get("COLUMNS", "")
    if text.isdigit() and int(text) > 0:
        return int(text)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def layout(columns: Sequence[Column], rows: Sequence[Sequence[str]], width: Optional[int]) -> list[int]:
    """Each column's width (0 for a column left out) so that the table fits in ``width``."""
    natural = [max([len(c.header), *(len(r[i]) for r in rows)]) for i, c in enumerate(columns)]
    shown = list(range(len(columns)))
    while True:
        widths = _fit(columns, natural, shown, width)
        if widths is not None:
            return widths
        droppable = [i for i in shown if columns[i].priority < 10]
        if not droppable:  # nothing left to drop: the terminal wraps what is too wide
            return [natural[i] if i in shown else 0 for i in range(len(columns))]
        shown.remove(min(droppable, key=lambda i: (columns[i].priority, -i)))


def _fit(columns: Sequence[Column], natural: list[int], shown: list[int], width: Optional[int]
         ) -> Optional[list[int]]:
    widths = [natural[i] if i in shown else 0 for i in range(len(columns))]
    if width is None:
        return widths
    total = sum(widths) + len(GAP) * (len(shown) - 1)
    if total <= width:
        return widths
    flexible = [i for i in shown if columns[i].flexible]
    floor = {i: min(natural[i], max(columns[i].min_width, len(columns[i].header))) for i in flexible}
    fixed = sum(widths[i] for i in shown if i not in flexible) + len(GAP) * (len(shown) - 1)
    room = width - fixed
    if room < sum(floor.values()):
        return None
    # give each flexible column its floor, then share the rest in proportion to what each wants
    extra = room - sum(floor.values())
    wants = {i: natural[i] - floor[i] for i in flexible}
    total_wants = sum(wants.values()) or 1
    for i in flexible:
        widths[i] = floor[i] + min(wants[i], math.floor(extra * wants[i] / total_wants))
    return widths


def render(columns: Sequence[Column], rows: Sequence[Sequence[str]], width: Optional[int] = None) -> str:
    """The table as text: a header, a rule, one line per row (more for wrapped cells)."""
    widths = layout(columns, rows, width)
    shown = [i for i, w in enumerate(widths) if w > 0]

    def line(cells: dict[int, str]) -> str:
        parts = []
        for i in shown:
            text = cells.get(i, "")
            parts.append(text.rjust(widths[i]) if columns[i].right else text.ljust(widths[i]))
        return GAP.join(parts).rstrip()

    out = [line({i: columns[i].header for i in shown}), line({i: "─" * widths[i] for i in shown})]
    for row in rows:
        cells: dict[int, list[str]] = {}
        for i in shown:
            text = row[i]
            if len(text) <= widths[i]:
                cells[i] = [text]
            elif columns[i].wrap:
                cells[i] = textwrap.wrap(text, widths[i], break_on_hyphens=False) or [""]
            else:
                cells[i] = [cut(text, widths[i])]
        for k in range(max(len(v) for v in cells.values())):
            out.append(line({i: v[k] for i, v in cells.items() if k < len(v)}))
    return "\n".join(out)


def print_table(columns: Sequence[Column], rows: Sequence[Sequence[str]], title: Optional[str] = None) -> None:
    """Print a table (and its title, wrapped to the width) on stdout."""
    width = terminal_width()
    if title:
        click.echo(textwrap.fill(title, width, break_on_hyphens=False) if width else title)
    click.echo(render(columns, rows, width))


def cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, ``…`` marking a cut."""
    return text if len(text) <= width else text[:max(width - 1, 0)] + "…"


def fmt_time(ts: Optional[float], short: bool = False) -> str:
    """A local time: ``2026-12-01 21:13:05``, or ``12-01 21:13`` when ``short``."""
    if ts is None:
        return "-"
    return dt.datetime.fromtimestamp(ts).strftime("%m-%d %H:%M" if short else "%Y-%m-%d %H:%M:%S")


def fmt_number(value: Optional[float], digits: int = 6) -> str:
    """A number in ``digits`` significant digits (``0.912``, not ``0.9120000004768372``)."""
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}g}"


def fmt_value(value) -> str:
    """A hyperparameter's value as a cell: numbers rounded, strings as they are, the rest as JSON."""
    if isinstance(value, float):
        return fmt_number(value, 4)
    if isinstance(value, str):
        return value
    return json.dumps(value)


def fmt_config(config: dict) -> str:
    """A configuration in one compact cell: ``name=value name=value``."""
    parts = []
    for key, value in config.items():
        text = fmt_value(value)
        if isinstance(value, str) and (" " in value or value == ""):
            text = json.dumps(value)
        parts.append(f"{key}={text}")
    return " ".join(parts)


def first_line(text: Optional[str]) -> str:
    """The first non-empty line of an error (its last line when it is a traceback)."""
    if not text:
        return ""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    if lines[0].startswith("Traceback"):
        return lines[-1]
    return lines[0]
