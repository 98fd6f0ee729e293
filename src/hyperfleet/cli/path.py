"""``hyperfleet path``: the folder of a search or an evaluation, for ``cd "$(hyperfleet path X)"``."""

from __future__ import annotations

import click

from hyperfleet.cli.main import store_option


@click.command("path")
@click.argument("ref")
@store_option
def command(ref: str, store) -> None:
    """Print the folder of search REF (label, or id prefix) or of an evaluation (id prefix)."""
    from hyperfleet.store import StoreError, open_store

    db = open_store(store)
    searches = db.find_searches(ref)
    evaluations = db.find_evaluations(ref)
    labelled = [s for s in searches if s.label == ref]
    if labelled:
        click.echo(labelled[-1].folder)
        return
    matches = [("search", s.id, s.folder) for s in searches] + \
              [("evaluation", e.id, e.folder) for e in evaluations]
    if len(matches) == 1:
        click.echo(matches[0][2])
        return
    if not matches:
        raise StoreError(f"no search label, search id or evaluation id matches {ref!r}; "
                         f"`hyperfleet ls` lists them")
    listed = ", ".join(f"{kind} {ident[:12]}" for kind, ident, _ in matches[:6])
    raise StoreError(f"{ref!r} matches {len(matches)} items ({listed}); give more characters of the id")
