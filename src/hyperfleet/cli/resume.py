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
@click.option("--eval-memory", type=click.FloatRange(min=0, min_open=True), default=None, metavar="GB",
              help="A new memory limit: kill an evaluation whose processes use more than GB of memory together (FAILED, "
                   "out of memory); each evaluation then runs in a child process.")
@click.option("--quiet", is_flag=True, help="No progress display.")
@click.option("--queued-only", is_flag=True, hidden=True, help="Start a QUEUED search (batch jobs use it).")
@store_option
def command(ref, max_evals, timeout, running, evaluator, workers, eval_memory, quiet, queued_only, store):
    """Continue search REF (label or id prefix): finished evaluations are kept, the budget counts them."""
    from hyperfleet.api import continue_search
    from hyperfleet.store import open_store

    db = open_store(store)
    try:
        total = max_evals or db.resolve_search(ref).settings.get("max_evals", 0)
    finally:
        db.close()
    display = ProgressDisplay(total, enabled=not quiet)
    try:
        result = continue_search(ref, store=store, max_evals=max_evals, timeout=timeout, running=running,
                                 evaluator=evaluator, workers=workers, callbacks=[display],
                                 queued_only=queued_only, eval_memory=eval_memory)
    finally:
        display.close()
    if result is not None:
        report_result(result)
