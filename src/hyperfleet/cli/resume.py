"""``hyperfleet resume``: continue a search from the store alone."""

from __future__ import annotations

import click

from hyperfleet.cli.options import SectionedCommand, store_option
from hyperfleet.cli.progress import ProgressDisplay
from hyperfleet.cli.search import report_result
from hyperfleet.execute import EXECUTORS
from hyperfleet.interrupt import EXIT_INTERRUPTED


class _Resume(SectionedCommand):
    sections = {"Options of batch jobs (the job script of `hyperfleet submit` runs resume with them)":
                ("queued_only", "dask_address", "store_file")}


@click.command("resume", cls=_Resume)
@click.argument("ref", metavar="LABEL|ID")
@click.option("--max-evals", type=click.IntRange(min=1), default=None,
              help="New total budget, counting what is done [default: the recorded one].")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Stop this run after this many wall-clock seconds.")
@click.option("--running", type=click.Choice(["rerun", "fail"]), default="rerun", show_default=True,
              help="What to do with evaluations the stopped driver left RUNNING.")
@click.option("--evaluator", type=click.Choice(EXECUTORS), default=None,
              help="Run on another evaluator than the recorded one.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Workers for this run.")
@click.option("--max-failures", type=click.IntRange(min=1), default=None,
              help="Stop once this many evaluations have failed in this run (earlier failures do not "
                   "count) [default: the recorded limit].")
@click.option("--eval-memory", type=click.FloatRange(min=0, min_open=True), default=None, metavar="GB",
              help="A new memory limit: kill an evaluation whose processes use more than GB of memory together (FAILED, "
                   "out of memory); each evaluation then runs in a child process.")
@click.option("--quiet", is_flag=True, help="No progress display (the closing lines only).")
@store_option
@click.option("--queued-only", is_flag=True,
              help="Start the search only if it is QUEUED (or CREATED), as a batch job does; refuse otherwise.")
@click.option("--dask-address", default=None, metavar="ADDRESS|FILE",
              help="With --evaluator dask: the Dask scheduler to use (tcp://HOST:PORT or a scheduler file).")
@click.option("--store-file", type=click.Path(dir_okay=False), default=None,
              help="Read the store URL from this file (keeps a password off the command line, "
                   "where `ps` shows it to every user).")
def command(ref, max_evals, timeout, running, evaluator, workers, max_failures, eval_memory, quiet, store,
            queued_only, dask_address, store_file):
    """Continue search REF (label or id prefix): finished evaluations are kept, the budget counts them."""
    from pathlib import Path

    from hyperfleet.api import continue_search
    from hyperfleet.store import StoreError, open_store

    if store_file is not None:
        store = read_store_file(store_file)
    db = open_store(store, create=False)
    try:
        record = db.resolve_search(ref)
        total = max_evals or record.settings.get("max_evals", 0)
    finally:
        db.close()
    if not Path(record.folder).is_dir():
        raise StoreError(f"the folder of search {record.label}, {record.folder}, does not exist any more; "
                         f"restore it (its results.csv and log are continued there) or create it empty")
    display = ProgressDisplay(total, enabled=not quiet)
    try:
        result = continue_search(ref, store=store, max_evals=max_evals, timeout=timeout, running=running,
                                 evaluator=evaluator, workers=workers, callbacks=[display],
                                 queued_only=queued_only, dask_address=dask_address,
                                 max_failures=max_failures, eval_memory=eval_memory)
    except KeyboardInterrupt:  # continue_search printed the best so far and the resume command
        raise SystemExit(EXIT_INTERRUPTED) from None
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
