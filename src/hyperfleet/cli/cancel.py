"""``hyperfleet cancel``: stop a queued or running search."""

from __future__ import annotations

import click

from hyperfleet.cli.options import store_option


@click.command("cancel")
@click.argument("ref", metavar="LABEL|ID")
@store_option
def command(ref: str, store) -> None:
    """Cancel search REF's batch job (or stop its driver here) and mark what was running CANCELLED."""
    from hyperfleet.batch import cancel_search
    from hyperfleet.store import open_store

    db = open_store(store, create=False)
    record = db.resolve_search(ref)
    what = cancel_search(db, record)
    click.echo(f"search {record.id} ({record.label}) CANCELLED: {what}")
