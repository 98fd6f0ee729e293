"""``hyperfleet report``: plots and an HTML page of a search, written into its folder."""

from __future__ import annotations

import click

from hyperfleet.cli.main import store_option


@click.command("report")
@click.argument("ref")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="Rows of the top table.")
@store_option
def command(ref: str, top: int, store) -> None:
    """Write PNG plots and report.html for search REF (label or id prefix); works while it runs."""
    from hyperfleet.report.html_report import write_report
    from hyperfleet.store import open_store

    db = open_store(store)
    search = db.resolve_search(ref)
    files = write_report(db, search, top=top)
    for name, path in files.items():
        click.echo(f"{name:12s} {path}")
