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

    from hyperfleet.store import EvaluationRecord, EvaluationState, open_store

    db = open_store(store, create=False)
    item = db.resolve_item(ref)
    if isinstance(item, EvaluationRecord) and item.folder and not Path(item.folder).exists():
        if item.start_time is None and item.state != EvaluationState.RUNNING:  # made when it starts
            raise click.ClickException(f"evaluation {item.number} ({item.state.value}) has not started, so "
                                       f"it has no folder yet; it will be {item.folder}")
        # a thread or serial evaluation's folder is made when it first prints: made now, empty
        from hyperfleet.files import make_folder

        try:
            make_folder(item.folder)
        except OSError as err:
            raise click.ClickException(f"evaluation {item.number} printed nothing, so its folder "
                                       f"{item.folder} was never made, and it cannot be made now: "
                                       f"{err.strerror}") from None
    click.echo(item.folder)
