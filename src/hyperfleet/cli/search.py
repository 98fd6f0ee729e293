"""``hyperfleet search``: run a search here and now."""

from __future__ import annotations

from pathlib import Path

import click

from hyperfleet.cli.options import drain_option, seed_option, store_option
from hyperfleet.cli.progress import ProgressDisplay
from hyperfleet.cli.stop_options import parse_stopper_settings, stopper_options
from hyperfleet.execute import EXECUTORS
from hyperfleet.interrupt import EXIT_INTERRUPTED, exit_code
from hyperfleet.search import SEARCHES


def parse_settings(items: tuple[str, ...]) -> dict:
    """``key=value`` pairs; values parsed as int, float, true/false/none, else kept as text."""
    settings = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not key=value", param_hint="--setting")
        settings[key.strip()] = _value(text.strip())
    return settings


def _value(text: str):
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


@click.command("search")
@click.option("-p", "--problem", default=None, help="problem.py (attribute Problem) or file.py:attr.")
@click.option("-r", "--run", "run", default=None, help="run.py (function run) or file.py:func.")
@click.option("--join", "join", default=None, metavar="LABEL|ID",
              help="Drive the running search LABEL together with its drivers, with workers of its own "
                   "(its problem, run function and settings come from the store).")
@click.option("--join-wait", type=click.FloatRange(min=0), default=120.0, show_default=True,
              help="With --join: seconds to wait for a QUEUED search to start.")
@click.option("--mpi-drivers", is_flag=True,
              help="Under mpiexec: every rank is a driver with its own workers; rank 0 starts the "
                   "search, the others join it.")
@click.option("--search", "search_name", type=click.Choice(SEARCHES), default="ambs", show_default=True,
              help="Search algorithm.")
@click.option("--max-evals", type=click.IntRange(min=1), default=100, show_default=True,
              help="Evaluations to run at most.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Stop after this many wall-clock seconds.")
@click.option("--evaluator", type=click.Choice(EXECUTORS), default="process", show_default=True,
              help="Where evaluations run.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Parallel evaluations (thread, process, dask) [default: CPU count].")
@click.option("--dask-address", default=None, metavar="tcp://HOST:PORT",
              help="Join a running Dask cluster (with --evaluator dask) instead of starting one.")
@click.option("--eval-timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Kill an evaluation after this many seconds (state TIMEOUT).")
@click.option("--eval-memory", type=click.FloatRange(min=0, min_open=True), default=None, metavar="GB",
              help="Kill an evaluation whose processes use more than GB of memory together (FAILED, "
                   "out of memory); each evaluation then runs in a child process.")
@click.option("--isolate/--no-isolate", default=None,
              help="Run each evaluation in a child process of its own [default: only with mpi].")
@click.option("--gpus-per-eval", type=click.IntRange(min=0), default=0,
              help="GPUs for each running evaluation, through CUDA_VISIBLE_DEVICES.")
@click.option("--gpus", default=None, metavar="IDS",
              help="GPU ids to hand out, e.g. 0,1,2,3 [default: detected].")
@click.option("--prefetch", type=click.IntRange(min=0), default=None,
              help="Configurations asked ahead so a free worker restarts at once [default: 1 with "
                   "several workers, 0 with one].")
@click.option("--max-failures", type=click.IntRange(min=1), default=None,
              help="Stop the search once this many evaluations have failed or timed out.")
@drain_option
@click.option("--name", "label", default=None,
              help="Label of the search [default: search-DATE-TIME]. A label that exists continues "
                   "that search (--max-evals is the new total), unless --new.")
@click.option("--new", "new", is_flag=True,
              help="Start another search even if --name is the label of an existing one.")
@seed_option
@click.option("--setting", "settings", multiple=True, metavar="KEY=VALUE",
              help="A setting of the search algorithm (repeatable), e.g. --setting kappa=1.5.")
@stopper_options
@click.option("--warm-start", "warm_start", default=None, metavar="LABEL|ID",
              help="Tell this search the finished results of an earlier one first (not re-run, not "
                   "counted in --max-evals; fitted to a changed space, what is dropped is said).")
@click.option("--quiet", is_flag=True, help="No progress display (the id, folder and closing lines only).")
@store_option
def command(problem, run, join, join_wait, mpi_drivers, search_name, max_evals, timeout, evaluator, workers, dask_address, eval_timeout,
            eval_memory, isolate, gpus_per_eval, gpus, prefetch, max_failures, drain, label, new, seed, settings,
            stopper, stopper_settings, warm_start, quiet, store):
    """Run a search of PROBLEM's space with the RUN function, here and now."""
    from hyperfleet.api import run_search
    from hyperfleet.execute.resources import parse_gpu_ids
    from hyperfleet.user_code import load_problem

    if join is not None:
        _refuse_with_join(click.get_current_context())
        return join_command(join, join_wait, evaluator, workers, dask_address, timeout, quiet, store)
    for value, name in ((problem, "'-p' / '--problem'"), (run, "'-r' / '--run'")):
        if value is None:
            raise click.UsageError(f"Missing option {name}.")
    mpi_start = None
    if mpi_drivers:
        from hyperfleet.cli.mpi_drivers import mpi_driver_start

        mpi_start = mpi_driver_start(label, store, join_wait, evaluator, workers, timeout, quiet)
        if mpi_start is None:  # a joining rank: done
            return
    problem_obj, problem_ref = load_problem(problem)
    display = ProgressDisplay(max_evals, enabled=not quiet)
    try:
        result = run_search(problem_obj, run, search=search_name, max_evals=max_evals, timeout=timeout,
                            evaluator=evaluator, workers=workers, label=label, seed=seed, store=store,
                            search_settings=parse_settings(settings), problem_path=str(problem_ref),
                            callbacks=[display, *([mpi_start] if mpi_start else [])], dask_address=dask_address, eval_timeout=eval_timeout,
                            isolate=isolate, gpus_per_eval=gpus_per_eval, gpus=parse_gpu_ids(gpus), prefetch=prefetch,
                            max_failures=max_failures, drain=drain, new=new, stopper=stopper,
                            stopper_settings=parse_stopper_settings(stopper_settings), eval_memory=eval_memory,
                            warm_start=warm_start)
    except KeyboardInterrupt:  # run_search printed the best so far and the resume command
        raise SystemExit(EXIT_INTERRUPTED) from None
    finally:
        display.close()
    if result is not None:  # None on MPI worker ranks
        report_result(result)


#: options that shape a search: a joiner takes them from the store
_SEARCH_SHAPING = ("problem", "run", "search_name", "max_evals", "eval_timeout", "eval_memory", "isolate",
                   "gpus_per_eval", "gpus", "prefetch", "max_failures", "drain", "label", "new", "seed", "settings",
                   "stopper", "stopper_settings", "mpi_drivers")


def _refuse_with_join(ctx: click.Context) -> None:
    given = [name for name in _SEARCH_SHAPING
             if ctx.get_parameter_source(name) not in (None, click.core.ParameterSource.DEFAULT)]
    if given:
        flags = ", ".join("--" + next(p for p in ctx.command.params if p.name == n).opts[-1].lstrip("-")
                          for n in given)
        raise click.UsageError(f"--join takes the problem, the run function and the settings from the running "
                               f"search; drop {flags} (only --evaluator, --workers, --dask-address, --timeout, "
                               f"--join-wait, --quiet and --store go with it)")


def join_command(ref, wait, evaluator, workers, dask_address, timeout, quiet, store) -> None:
    """``hyperfleet search --join REF``: one more driver of a running search."""
    from hyperfleet.join import join_search

    evaluator = evaluator if click.get_current_context().get_parameter_source("evaluator") \
        != click.core.ParameterSource.DEFAULT else None
    display = ProgressDisplay(0, enabled=not quiet)
    try:
        result = join_search(ref, store=store, evaluator=evaluator, workers=workers, dask_address=dask_address,
                             timeout=timeout, callbacks=[display], wait=wait)
    except KeyboardInterrupt:
        raise SystemExit(EXIT_INTERRUPTED) from None
    finally:
        display.close()
    if result is not None:
        report_result(result)


def report_result(result) -> None:
    """The closing lines of a search: how it ended, the best configuration, where results are.

    Exits 1 when the search FAILED or when every evaluation failed.
    """
    from hyperfleet.cli.tables import fmt_number, fmt_value

    stats = result.stats
    label = result.search.label
    click.echo(f"search {result.search.id} ({label}) {result.stop_reason}: "
               f"{stats.done} done, {f'{stats.stopped} stopped early, ' if stats.stopped else ''}"
               f"{stats.failed} failed")
    all_failed = stats.done == 0 and stats.failed > 0 and not stats.stopped
    pareto = Path(result.folder) / "pareto.csv"
    if all_failed:
        click.echo(f"every evaluation failed ({stats.failed}); see the errors with: hyperfleet ls {label}")
    elif pareto.exists() and (result.best is None or len(result.search.problem.get("objectives", [])) > 1):
        rows = max(0, len(pareto.read_text().splitlines()) - 1)
        click.echo(f"Pareto front: {rows} feasible non-dominated evaluation(s) in {pareto} "
                   f"(hyperfleet results {label} --pareto)")
    elif result.best is None:
        click.echo("no evaluation finished")
    else:
        click.echo(f"best objective {fmt_number(result.best.objective)} (evaluation {result.best.id[:8]}):")
        for name, value in result.best.config.items():
            click.echo(f"  {name} = {fmt_value(value)}")
    click.echo(f"results: {result.folder}")
    if all_failed:
        click.echo(f"error: every evaluation of search {label} failed; hyperfleet ls {label} shows why",
                   err=True)
    if result.signal:  # the shell's convention: 128 + the signal (SIGTERM 143, SIGHUP 129)
        raise SystemExit(128 + result.signal)
    code = exit_code(result.search.state.value) or (1 if all_failed else 0)  # FAILED 1, CANCELLED 143
    if code:
        raise SystemExit(code)
