"""HTML pages from Jinja2 templates with autoescaping on: every value from the store is escaped."""

from __future__ import annotations

import datetime
import functools
from pathlib import Path
from typing import Any, Optional

from starlette.requests import Request
from starlette.responses import HTMLResponse

TEMPLATES = Path(__file__).parent / "templates"


@functools.lru_cache(maxsize=1)
def environment():
    """The template environment (autoescape everywhere, undefined names are errors)."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["number"] = fmt_number
    env.filters["when"] = fmt_time
    return env


def render(name: str, request: Request, status_code: int = 200, **context: Any) -> HTMLResponse:
    """The template ``name`` with ``context`` as an HTML response."""
    html = environment().get_template(name).render(status_code=status_code, **context)
    return HTMLResponse(html, status_code=status_code)


def fmt_number(value: Optional[float]) -> str:
    """A number as ``hyperfleet ls`` shows it (``-`` when missing)."""
    if value is None:
        return "-"
    return f"{value:.6g}"


def fmt_time(value: Optional[float]) -> str:
    """A timestamp in local time, to the second."""
    if value is None:
        return "-"
    return datetime.datetime.fromtimestamp(value).strftime("%Y-%m-%d %H:%M:%S")
