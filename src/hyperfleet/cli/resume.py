"""``hyperfleet resume``: continue a search from the store alone."""

from __future__ import annotations

import click

from hyperfleet.cli.main import store_option
from hyperfleet.cli.progress import ProgressDisplay
from hyperfleet.cli.search import report_result
from hyperfleet.execute import EXECUTORS


@click.command("resume")
@click.argument("ref")
@click.option("--max-evals", type=click.IntRange(min=1), default=None,
              help="New total budget, counting what is done [default: the recorded one].")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Stop this run after this many wall-clock seconds.")
@click.option("--running", type=click.Choice(["rerun", "fail"]), default="rerun", show_default=True,
              help="What to do with evaluations the stopped driver left RUNNING.")
@click.option("--evaluator", type=click.Choice(EXECUTORS), default=None,
              help="Run on another evaluator than the recorded one.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Workers for this run.")
@click.option("--dask-address", default=None,
              help="With --evaluator dask: a running Dask scheduler (address or scheduler file).")
@click.option("--store-file", type=click.Path(dir_okay=False), default=None,
              help="Read the store URL from this file (keeps a password off the command line, "
                   "where `ps` shows it to every user).")
@click.option("--quiet", is_flag=True, help="No progress display.")
@click.option("--queued-only", is_flag=True, hidden=True, help="Start a QUEUED search (batch jobs use it).")
@store_option
def command(ref, max_evals, timeout, running, evaluator, workers, dask_address, store_file, quiet, queued_only,
            store):
    """Continue search REF (label or id prefix): finished evaluations are kept, the budget counts them."""
    from hyperfleet.api import continue_search
    from hyperfleet.store import open_store

    if store_file is not None:
        store = read_store_file(store_file)
    db = open_store(store)
    try:
        total = max_evals or db.resolve_search(ref).settings.get("max_evals", 0)
    finally:
        db.close()
    display = ProgressDisplay(total, enabled=not quiet)
    try:
        result = continue_search(ref, store=store, max_evals=max_evals, timeout=timeout, running=running,
                                 evaluator=evaluator, workers=workers, dask_address=dask_address,
                                 callbacks=[display],
                                 queued_only=queued_only)
    finally:
        display.close()
    if result is not None:
        report_result(result)


def read_store_file(path: str) -> str:
    """The store URL written in ``path`` (one line)."""
    try:
        text = open(path).read().strip()
    except OSError as err:
        raise click.BadParameter(f"cannot read {path}: {err.strerror}", param_hint="--store-file") from None
    if not text:
        raise click.BadParameter(f"{path} is empty; write the store URL in it", param_hint="--store-file")
    return text
