"""``hyperfleet ls``: searches, or one search's evaluations, with their states."""

from __future__ import annotations

import sys
from typing import Optional

import click

from hyperfleet.cli.main import store_option
from hyperfleet.cli.tables import console, fmt_config, fmt_number, fmt_time, new_table, print_table


@click.command("ls")
@click.argument("ref", required=False)
@click.option("--state", "states", multiple=True, help="Only evaluations in this state (repeatable).")
@click.option("--watch", is_flag=True, help="Refresh the listing until Ctrl-C.")
@click.option("--interval", type=click.FloatRange(min=0.2), default=2.0, show_default=True,
              help="Seconds between refreshes with --watch.")
@store_option
def command(ref: Optional[str], states: tuple[str, ...], watch: bool, interval: float, store) -> None:
    """List searches, or the evaluations of the search REF (label or id prefix)."""
    from hyperfleet.store import open_store

    db = open_store(store)
    if not watch:
        show(db, ref, states)
        return
    import time

    out = console()
    try:
        while True:
            if out.is_terminal:
                out.clear()
            out.print(f"hyperfleet ls{' ' + ref if ref else ''} (every {interval:g} s, Ctrl-C to stop) "
                      f"{time.strftime('%H:%M:%S')}")
            show(db, ref, states)
            sys.stdout.flush()
            time.sleep(interval)
    except KeyboardInterrupt:
        pass


def show(db, ref: Optional[str], states: tuple[str, ...]) -> None:
    """Print the listing once."""
    from hyperfleet.store import EvaluationState

    out = console()
    if ref is None:
        summaries = db.summaries()
        if not summaries:
            out.print("no searches yet; start one with: hyperfleet search -p problem.py -r run.py")
            return
        table = new_table("id", "label", "state", "batch job", "done", "stopped", "running", "failed", "total",
                          "best", "started")
        for s in summaries:
            table.add_row(s.search.id, s.search.label, s.search.state.value, job_state(s.search), str(s.done),
                          str(s.stopped), str(s.running), str(s.failed), str(s.total), fmt_number(s.best),
                          fmt_time(s.search.start_time or s.search.created_time))
        print_table(table)
        return
    search = db.resolve_search(ref)
    try:
        wanted = [EvaluationState(s.upper()) for s in states] if states else None
    except ValueError:
        raise click.BadParameter(f"choose from {', '.join(s.value for s in EvaluationState)}",
                                 param_hint="--state") from None
    evaluations = db.list_evaluations(search.id, wanted)
    summary = db.summary(search.id)
    job = job_state(search)
    title = (f"search {search.id} ({search.label}) {search.state.value}"
             f"{'' if job == '-' else ', batch job ' + job}: {summary.done} done, {summary.stopped} stopped, "
             f"{summary.running} running, {summary.failed} failed, best {fmt_number(summary.best)}")
    steps = _running_steps(db, search.id, evaluations)
    table = new_table("id", "#", "state", "objective", "step", "seconds", "worker", "config", title=title)
    for e in evaluations:
        seconds = "-" if e.start_time is None or e.end_time is None else f"{e.end_time - e.start_time:.2f}"
        step = e.last_step if e.last_step is not None else steps.get(e.id)
        table.add_row(e.id, str(e.number), e.state.value, fmt_number(e.objective), "-" if step is None else str(step),
                      seconds, e.worker or "-", fmt_config(e.config))
    print_table(table)


def _running_steps(db, search_id: str, evaluations) -> dict:
    """The step each running evaluation has reached (from its recorded intermediate values)."""
    running = [e.id for e in evaluations if not e.state.finished]
    if not running:
        return {}
    return {r.evaluation_id: r.step for r in db.list_reports(search_id, running)}


def job_state(search) -> str:
    """``slurm 42 RUNNING`` for a batch search (asked of the scheduler while it is active)."""
    if not search.job_id:
        return "-"
    from hyperfleet.store import SearchState

    state = ""
    if search.state in (SearchState.QUEUED, SearchState.RUNNING):
        from hyperfleet.batch import SchedulerError, get_scheduler

        try:
            state = " " + get_scheduler(search.scheduler).state(search.job_id)
        except SchedulerError:
            state = " UNKNOWN"
    return f"{search.scheduler} {search.job_id}{state}"
