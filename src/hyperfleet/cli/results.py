"""``hyperfleet results``: the best evaluations of a search as a table, or all of them as CSV/JSON."""

from __future__ import annotations

import click

from hyperfleet.cli.options import store_option
from hyperfleet.cli.tables import (
    Column,
    fmt_config,
    fmt_number,
    fmt_value,
    layout,
    print_table,
    terminal_width,
)


@click.command("results")
@click.argument("ref", metavar="LABEL|ID")
@click.option("--top", "top", type=click.IntRange(min=1), default=None,
              help="How many of the best evaluations to show [default: 10 in a table; csv and json "
                   "give every evaluation unless --top is given].")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True,
              help="table: the best evaluations; csv / json: one row (object) per evaluation with "
                   "hyperparameters, objective(s), state, times and metadata (needs pandas: "
                   "pip install 'hyperfleet[data]').")
@click.option("--pareto", is_flag=True,
              help="Show the Pareto front: every feasible non-dominated evaluation (the rows of "
                   "pareto.csv); the default with several objectives.")
@store_option
def command(ref: str, top, fmt: str, pareto: bool, store) -> None:
    """Show the best evaluations of search REF (label or id prefix), best first (infeasible
    ones never count; with several objectives: the Pareto front)."""
    from hyperfleet.search_records import best_evaluations, pareto_evaluations
    from hyperfleet.store import open_store

    db = open_store(store, create=False)
    search = db.resolve_search(ref)
    if fmt != "table":
        _print_frame(db, search, top, fmt)
        return
    top = 10 if top is None else top
    multi = len(search.problem.get("objectives", [])) > 1
    if pareto or multi:
        best = pareto_evaluations(db, search.id)
        if best:
            click.echo(f"Pareto front of search {search.id[:8]} ({search.label}): {len(best)} "
                       f"feasible non-dominated evaluation(s)")
            columns, rows = results_table(search, best)
            print_table(columns, rows)
            return
    else:
        best = best_evaluations(db, search.id, top)
    if not best:
        summary = db.summary(search.id)
        if summary.failed and not summary.running:
            click.echo(f"search {search.label}: no evaluation succeeded, {summary.failed} failed; see the "
                       f"errors with: hyperfleet ls {search.label}")
        else:
            click.echo(f"search {search.label} has no successful evaluation yet")
        return
    click.echo(f"best {len(best)} of search {search.id[:8]} ({search.label})")
    columns, rows = results_table(search, best)
    print_table(columns, rows)


def _print_frame(db, search, top, fmt: str) -> None:
    """Every evaluation (or the best ``top``) of ``search`` as CSV or JSON records on stdout."""
    from hyperfleet.report.frame import results_frame, top_rows

    frame = top_rows(results_frame(db, search), top)
    if fmt == "csv":
        click.echo(frame.to_csv(index=False), nl=False)
    else:
        click.echo(frame.to_json(orient="records", date_format="iso", indent=1))


def results_table(search, best) -> tuple[list[Column], list[list[str]]]:
    """Rank, id, objective, then the hyperparameters as columns when they fit, else one
    ``name=value`` cell per row (wrapped)."""
    names = [d["name"] for d in search.problem.get("dims", [])]
    objectives = [o["name"] for o in search.problem.get("objectives", [])] or ["objective"]
    constraints = list(search.problem.get("constraints", []))
    head = [Column("rank", right=True), Column("id"),
            *(Column(n, right=True) for n in [*objectives, *constraints])]

    def values(e) -> list[str]:
        ys = e.objectives if e.objectives is not None and len(e.objectives) == len(objectives) \
            else [e.objective] + [None] * (len(objectives) - 1)
        cs = e.constraints if e.constraints is not None else [None] * len(constraints)
        return [fmt_number(v) if v is not None else "" for v in [*ys, *cs]]

    lead = [[str(rank), e.id[:8], *values(e)] for rank, e in enumerate(best, 1)]
    wide = head + [Column(n, right=not isinstance(best[0].config.get(n), str)) for n in names]
    # "-": inactive in that configuration (its condition does not hold)
    wide_rows = [row + [fmt_value(e.config[n]) if n in e.config else "-" for n in names]
                 for row, e in zip(lead, best)]
    width = terminal_width()
    if width is None or sum(layout(wide, wide_rows, None)) + 2 * (len(wide) - 1) <= width:
        return wide, wide_rows
    compact = head + [Column("configuration", flexible=True, wrap=True, min_width=20)]
    return compact, [row + [fmt_config({n: e.config[n] for n in names if n in e.config})] for row, e in zip(lead, best)]

