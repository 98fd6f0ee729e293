"""``hyperfleet path``: the folder of a search or an evaluation, for ``cd "$(hyperfleet path X)"``."""

from __future__ import annotations

import click

from hyperfleet.cli.options import store_option


@click.command("path")
@click.argument("ref", metavar="LABEL|ID")
@store_option
def command(ref: str, store) -> None:
    """Print the folder of search REF (label, or id prefix) or of an evaluation (id prefix)."""
    from pathlib import Path

    from hyperfleet.store import EvaluationRecord, open_store

    db = open_store(store, create=False)
    item = db.resolve_item(ref)
    if isinstance(item, EvaluationRecord) and item.folder and not Path(item.folder).exists():
        # an evaluation's folder is made by its worker when it starts
        raise click.ClickException(f"evaluation {item.number} ({item.state.value}) has not started, so "
                                   f"it has no folder yet; it will be {item.folder}")
    click.echo(item.folder)
