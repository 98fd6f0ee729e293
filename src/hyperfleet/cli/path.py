"""``hyperfleet path``: the folder of a search or an evaluation, for ``cd "$(hyperfleet path X)"``."""

from __future__ import annotations

import click

from hyperfleet.cli.options import store_option


@click.command("path")
@click.argument("ref", metavar="LABEL|ID")
@store_option
def command(ref: str, store) -> None:
    """Print the folder of search REF (label, or id prefix) or of an evaluation (id prefix)."""
    from hyperfleet.store import open_store

    db = open_store(store, create=False)
    click.echo(db.resolve_item(ref).folder)
