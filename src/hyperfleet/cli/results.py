"""``hyperfleet results``: the best evaluations of a search as a table."""

from __future__ import annotations

import click

from hyperfleet.cli.main import store_option
from hyperfleet.cli.tables import console, fmt_number, fmt_value, new_table, print_table


@click.command("results")
@click.argument("ref")
@click.option("--top", "top", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many of the best evaluations to show.")
@store_option
def command(ref: str, top: int, store) -> None:
    """Show the best evaluations of search REF (label or id prefix)."""
    from hyperfleet.api import best_evaluations
    from hyperfleet.store import open_store

    db = open_store(store)
    search = db.resolve_search(ref)
    best = best_evaluations(db, search.id, top)
    names = [d["name"] for d in search.problem.get("dims", [])]
    out = console()
    if not best:
        out.print(f"search {search.label} has no successful evaluation yet")
        return
    table = new_table("rank", "id", "objective", *names,
                      title=f"best {len(best)} of search {search.id} ({search.label})")
    for rank, e in enumerate(best, 1):
        table.add_row(str(rank), e.id[:8], fmt_number(e.objective),
                      *(fmt_value(e.config.get(n)) for n in names))
    print_table(table)
