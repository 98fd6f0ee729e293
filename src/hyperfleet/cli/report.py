"""``hyperfleet report``: plots and an HTML page of a search, written into its folder."""

from __future__ import annotations

from pathlib import Path

import click

from hyperfleet.cli.options import store_option


@click.command("report")
@click.argument("ref", metavar="LABEL|ID")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True,
              help="Rows of the table of the best evaluations in report.html.")
@store_option
def command(ref: str, top: int, store) -> None:
    """Write PNG plots and report.html for search REF (label or id prefix); works while it runs."""
    from hyperfleet.report.html_report import write_report
    from hyperfleet.store import StoreError, open_store

    db = open_store(store, create=False)
    search = db.resolve_search(ref)
    if not Path(search.folder).is_dir():
        raise StoreError(f"the folder of search {search.label}, {search.folder}, does not exist any more; "
                         f"the report is written there (restore the folder, or create it empty)")
    summary = db.summary(search.id)
    files = write_report(db, search, top=top)
    if summary.failed and not summary.done:
        click.echo(f"search {search.label}: no evaluation succeeded ({summary.failed} failed); the report "
                   f"says so and lists the errors (hyperfleet ls {search.label} shows them too)")
    for name, path in files.items():
        click.echo(f"{name:12s} {path}")
