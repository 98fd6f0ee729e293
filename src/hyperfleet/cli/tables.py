"""Tables printed by ``ls`` and ``results`` (rich, full width when piped)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Optional

from rich import box
from rich.console import Console
from rich.table import Table


def console() -> Console:
    """stdout, with a wide fixed width when it is not a terminal so pipes get whole rows."""
    if sys.stdout.isatty():
        return Console()
    return Console(width=250, no_color=True, highlight=False)


def print_table(table: Table) -> None:
    """Print a table; when piped, without the trailing padding of each line."""
    out = console()
    if sys.stdout.isatty():
        out.print(table)
        return
    with out.capture() as captured:
        out.print(table)
    text = "\n".join(line.rstrip() for line in captured.get().splitlines())
    sys.stdout.write(text.strip("\n") + "\n")


def new_table(*columns: str, title: Optional[str] = None) -> Table:
    table = Table(*columns, title=title, box=box.SIMPLE_HEAD, title_justify="left")
    return table


def fmt_time(ts: Optional[float]) -> str:
    if ts is None:
        return "-"
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def fmt_number(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.6g}"


def fmt_config(config: dict) -> str:
    return ", ".join(f"{k}={v if not isinstance(v, float) else f'{v:.4g}'}" for k, v in config.items())


def fmt_value(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return value if isinstance(value, str) else json.dumps(value)
