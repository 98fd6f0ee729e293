"""``hyperfleet ls``: searches, one search's evaluations, or one evaluation in full."""

from __future__ import annotations

import sys
import time
from typing import Optional

import click

from hyperfleet.cli.evaluation import show_evaluation
from hyperfleet.cli.options import store_option
from hyperfleet.cli.tables import Column, first_line, fmt_config, fmt_number, fmt_time, print_table

#: the values of hyperfleet.store.EvaluationState, spelled out so `hyperfleet --help` does not import the store
STATE_NAMES = ["CREATED", "RUNNING", "DONE", "FAILED", "TIMEOUT", "CANCELLED", "STOPPED"]


@click.command("ls")
@click.argument("ref", required=False, metavar="[LABEL|ID]")
@click.option("--state", "states", multiple=True, type=click.Choice(STATE_NAMES, case_sensitive=False),
              help=f"Only evaluations in this state: {', '.join(STATE_NAMES)} (any case; repeatable).")
@click.option("--watch", is_flag=True, help="Refresh the listing until Ctrl-C.")
@click.option("--interval", type=click.FloatRange(min=0.2), default=2.0, show_default=True,
              help="Seconds between refreshes with --watch.")
@store_option
def command(ref: Optional[str], states: tuple[str, ...], watch: bool, interval: float, store) -> None:
    """List the searches; with LABEL or a search id prefix, that search's evaluations (a failed
    one's first error line included); with an evaluation id prefix (as listed), that evaluation
    in full: configuration, state, objective, times, worker, error, output tails, folder."""
    from hyperfleet.store import open_store

    db = open_store(store, create=False)
    if not watch:
        show(db, ref, states)
        return
    try:
        while True:
            if sys.stdout.isatty():
                click.clear()
            click.echo(f"hyperfleet ls{' ' + ref if ref else ''} (every {interval:g} s, Ctrl-C to stop) "
                       f"{time.strftime('%H:%M:%S')}")
            show(db, ref, states)
            sys.stdout.flush()
            time.sleep(interval)
    except KeyboardInterrupt:
        pass


def show(db, ref: Optional[str], states: tuple[str, ...]) -> None:
    """Print the listing once."""
    from hyperfleet.store import SearchRecord

    if ref is None:
        show_searches(db)
        return
    item = db.resolve_item(ref)
    if isinstance(item, SearchRecord):
        show_search(db, item, states)
    else:
        show_evaluation(db, item)


def show_searches(db) -> None:
    """One line per search: id, label, state (with the scheduler's view), counts, best, start."""
    summaries = db.summaries()
    if not summaries:
        click.echo(f"no searches yet in store {db.where}; start one with: "
                   f"hyperfleet search -p problem.py -r run.py")
        return
    stopped = any(s.stopped for s in summaries)  # a column only where early stopping was used
    columns = [Column("id"), Column("label"),
               Column("state", flexible=True, wrap=True, min_width=11),
               Column("done", right=True), *([Column("stop", right=True, priority=6)] if stopped else []),
               Column("run", right=True), Column("fail", right=True),
               Column("best", right=True), Column("started", priority=5)]
    rows, notes = [], []
    for s in summaries:
        record = s.search
        rows.append([record.id[:8], record.label, search_state(record), str(s.done),
                     *([str(s.stopped)] if stopped else []), str(s.running),
                     str(s.failed), fmt_number(s.best), fmt_time(record.start_time or record.created_time,
                                                                  short=True)])
        if record.state.value == "FAILED" and record.message:
            notes.append(f"{record.label} ({record.id[:8]}) FAILED: {record.message}")
    print_table(columns, rows)
    for note in notes:
        click.echo(note)


def show_search(db, search, states: tuple[str, ...]) -> None:
    """The evaluations of one search, with the first line of each error."""
    from hyperfleet.store import EvaluationState

    wanted = [EvaluationState(s.upper()) for s in states] if states else None
    evaluations = db.list_evaluations(search.id, wanted)
    summary = db.summary(search.id)
    title = (f"search {search.id[:8]} ({search.label}) {search_state(search)}: {summary.done} done, "
             f"{f'{summary.stopped} stopped, ' if summary.stopped else ''}{summary.running} running, {summary.failed} failed, best {fmt_number(summary.best)}")
    if search.message and search.state.value in ("FAILED", "CANCELLED", "INTERRUPTED"):
        title += f"\n  {search.message}"
    warm = (search.settings or {}).get("warm_start")
    if warm:  # told before the start, not rows of this search
        dropped = f", {warm['dropped']} dropped" if warm.get("dropped") else ""
        title += (f"\n  warm start: {warm.get('told', 0)} results from {warm.get('label')} "
                  f"({str(warm.get('search'))[:8]}){dropped}")
    title += _drivers_line(db, search.id)
    errors = any(e.error for e in evaluations)
    objectives = [o["name"] for o in search.problem.get("objectives", [])]
    heading = ", ".join(objectives) if len(objectives) > 1 else "objective"
    if search.problem.get("constraints"):
        heading += " (feasible?)"
    columns = [Column("id"), Column("#", right=True), Column("state"), Column(heading, right=True),
               Column("step", right=True, priority=6), Column("seconds", right=True, priority=4), Column("worker", priority=3),
               Column("config", flexible=True, min_width=30)]
    if errors:
        columns.append(Column("error", flexible=True, min_width=24))
    steps = _running_steps(db, search.id, evaluations)
    rows = []
    for e in evaluations:
        seconds = "-" if e.start_time is None or e.end_time is None else f"{e.end_time - e.start_time:.2f}"
        step = e.last_step if e.last_step is not None else steps.get(e.id)
        row = [e.id[:8], str(e.number), e.state.value, _objectives_cell(e), "-" if step is None else str(step),
               seconds, e.worker or "-", fmt_config(e.config)]
        if errors:
            row.append(first_line(e.error))
        rows.append(row)
    for line in title.split("\n"):
        click.echo(line)
    if not rows:
        click.echo("no evaluations" + (" in that state" if states else " yet"))
        return
    print_table(columns, rows)
    if errors:
        click.echo(f"one evaluation in full: hyperfleet ls ID (e.g. hyperfleet ls "
                   f"{next(e.id[:8] for e in evaluations if e.error)})")


def _drivers_line(db, search_id: str) -> str:
    """``  drivers: 2 running, 1 left: node1 pid 41 (primary, 8 workers), ...`` for a search that
    several drivers share (``--join``, ``submit --drivers``, ``--mpi-drivers``); empty otherwise."""
    members = db.list_members(search_id) if hasattr(db, "list_members") else []
    if len(members) < 2:
        return ""
    counts: dict[str, int] = {}
    for m in members:
        counts[m.state.value.lower()] = counts.get(m.state.value.lower(), 0) + 1
    shown = [f"{m.host or '?'} pid {m.pid or '?'} ({m.role}{f', {m.workers} workers' if m.workers else ''}"
             f"{'' if m.state.value == 'RUNNING' else ', ' + m.state.value.lower()})" for m in members[:6]]
    more = f", and {len(members) - 6} more" if len(members) > 6 else ""
    return f"\n  drivers: {', '.join(f'{n} {state}' for state, n in counts.items())}: {', '.join(shown)}{more}"


def _objectives_cell(e) -> str:
    """The objective, or the objectives joined by ", "; ``(infeasible)`` after a result that
    breaks a constraint."""
    text = fmt_number(e.objective) if e.objectives is None or len(e.objectives) < 2 \
        else ", ".join(fmt_number(v) for v in e.objectives)
    if e.feasible is False:
        text += " (infeasible)"
    elif e.feasible:
        text += " (feasible)"
    return text


def search_state(search) -> str:
    """``FINISHED``, ``STALE (driver lost)`` for a dead driver's search, or for a batch search ``QUEUED — slurm 42 PENDING (PartitionConfig)``."""
    from hyperfleet.driver_lifecycle import shown_state

    job, state = job_state(search), shown_state(search)
    return state if job == "-" else f"{state} — {job}"


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
            state = " " + get_scheduler(search.scheduler).describe(search.job_id)
        except SchedulerError:
            state = " UNKNOWN"
    return f"{search.scheduler} {search.job_id}{state}"
