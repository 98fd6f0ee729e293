"""Options shared by several commands (imported by the command modules; imports none of them)."""

from __future__ import annotations

import click

store_option = click.option(
    "--store", "store", default=None, envvar="HYPERFLEET_STORE", show_envvar=True, metavar="PATH|URL",
    help="Job database: a SQLite file or a SQLAlchemy URL [default: the first hyperfleet.db in this "
         "folder or a parent; search and submit create ./hyperfleet.db if there is none].")

drain_option = click.option(
    "--drain/--no-drain", default=True, show_default=True,
    help="--no-drain: keep every worker busy until --max-evals evaluations have finished, then "
         "cancel those still running (no idle workers at the end of the budget).")

seed_option = click.option(
    "--seed", type=click.IntRange(min=0, max=2**32 - 1), default=None, metavar="N",
    help="Random seed of the search (0 to 2**32-1) [default: one is drawn, printed and recorded].")


class SectionedCommand(click.Command):
    """A command whose ``--help`` shows some options in sections of their own.

    ``sections`` maps a section title to the parameter names listed under it; the others are
    listed under "Options".
    """

    sections: dict[str, tuple[str, ...]] = {}

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        placed = {name for names in self.sections.values() for name in names}
        rows = [p.get_help_record(ctx) for p in self.get_params(ctx) if p.name not in placed]
        with formatter.section("Options"):
            formatter.write_dl([r for r in rows if r])
        for title, names in self.sections.items():
            records = [p.get_help_record(ctx) for p in self.get_params(ctx) if p.name in names]
            with formatter.section(title):
                formatter.write_dl([r for r in records if r])

