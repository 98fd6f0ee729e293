"""``hyperfleet simulate``: how a search would use many workers, in simulated time."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from hyperfleet.cli.options import drain_option
from hyperfleet.cli.search import parse_settings
from hyperfleet.files import set_file_mode
from hyperfleet.search import SEARCHES


class _Progress:
    """A line on stderr every few seconds of wall time (long simulations)."""

    def __init__(self, enabled: bool, every: float = 10.0) -> None:
        self.enabled = enabled
        self.every = every
        self._next = time.perf_counter() + every

    def __call__(self, p) -> None:
        if not self.enabled or time.perf_counter() < self._next:
            return
        self._next = time.perf_counter() + self.every
        best = "-" if p.best is None else f"{p.best:.6g}"
        click.echo(f"  {p.finished:,}/{p.max_evals:,} finished, {p.running:,} running, virtual "
                   f"{p.clock / 3600:.3g} h, best {best}, last tell+ask {p.last_cycle_s * 1e3:.0f} ms, "
                   f"wall {p.wall_s:.0f} s", err=True)


def _duration(spec: str):
    """A distribution spec, or ``file.py:func`` for a function duration(rng, config) -> seconds."""
    head = spec.split(":", 1)[0]
    if head.endswith(".py"):
        from hyperfleet.user_code import CodeRef, load_attr

        func = load_attr(CodeRef.parse(spec, "duration"), "duration function")
        if not callable(func):
            raise ValueError(f"{spec} is not callable; it must be a function duration(rng, config) -> "
                             f"seconds")
        return func
    return spec


@click.command("simulate")
@click.option("-p", "--problem", required=True, help="problem.py (attribute Problem) or file.py:attr.")
@click.option("-r", "--run", "run", required=True,
              help="run.py (function run) or file.py:func: a cheap stand-in for the objective, "
                   "evaluated for real (its duration is simulated).")
@click.option("--workers", type=click.IntRange(min=1), required=True, help="Virtual workers.")
@click.option("--max-evals", type=click.IntRange(min=1), required=True, help="Evaluations to simulate.")
@click.option("--duration", required=True, metavar="SPEC",
              help="Evaluation durations in seconds: lognormal:MEAN:SIGMA, uniform:LOW:HIGH, "
                   "constant:S, exponential:MEAN, or file.py:func for func(rng, config) -> seconds.")
@click.option("--search", "search_name", type=click.Choice(SEARCHES), default="ambs", show_default=True,
              help="Search algorithm.")
@click.option("--seed", type=click.IntRange(min=0, max=2**32 - 1), default=None,
              help="Seed of the search and of the durations (0 to 2**32-1).")
@click.option("--setting", "settings", multiple=True, metavar="KEY=VALUE",
              help="A setting of the search algorithm (repeatable), e.g. --setting kappa=1.5.")
@click.option("--overhead-scale", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Charge this multiple of the measured tell+ask time to the virtual clock "
                   "(2: a driver machine twice as slow as this one; 0: a free driver).")
@click.option("--latency", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Virtual seconds added to every driver cycle (e.g. a database round trip).")
@click.option("--charge", type=click.Choice(["wall", "cpu"]), default="wall", show_default=True,
              help="Charge the wall time of tell+ask, or its CPU time (not inflated by other programs "
                   "on a busy machine).")
@click.option("--drivers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Simulate K drivers sharing the workers and one store, each with its own search, "
                   "workers and CPU, telling every result the others record.")
@click.option("--store-latency", type=click.FloatRange(min=0), default=0.01, show_default=True,
              help="With several drivers: virtual seconds before a recorded result is visible to "
                   "the other drivers.")
@drain_option
@click.option("--release-idle", is_flag=True,
              help="With a drain: release each worker once the budget has no more work for it (as "
                   "--elastic searches end their idle worker jobs) and report the utilization of "
                   "the worker time held.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the full result (cycles and evaluations included) to this JSON file.")
@click.option("--quiet", is_flag=True, help="No progress lines on stderr.")
def command(problem, run, workers, max_evals, duration, search_name, seed, settings, overhead_scale,
            latency, charge, drivers, store_latency, drain, release_idle, json_path, quiet):
    """Simulate a search on WORKERS virtual workers: durations drawn from a distribution, the real
    search deciding what to run, its real ask/tell time charged to the virtual clock. Prints the
    utilization, makespan and driver overhead, to size an allocation before asking for it."""
    from hyperfleet.simulate import parse_duration, simulate
    from hyperfleet.user_code import load_problem, load_run

    draw = parse_duration(_duration(duration))  # a bad spec fails before anything is loaded
    problem_obj, _ = load_problem(problem)
    run_func, _ = load_run(run)
    result = simulate(problem_obj, run_func, search=search_name, workers=workers, max_evals=max_evals,
                      duration=draw, seed=seed, search_settings=parse_settings(settings),
                      overhead_scale=overhead_scale, latency=latency, charge=charge,
                      progress=_Progress(enabled=not quiet), drain=drain, drivers=drivers,
                      store_latency=store_latency, release_idle=release_idle)
    click.echo(result.summary())
    if result.best_config is not None:
        click.echo("best configuration:")
        for name, value in result.best_config.items():
            click.echo(f"  {name} = {value!r}")
    if json_path is not None:
        data = result.to_dict()
        data["problem"], data["run"] = problem, run
        json_path.write_text(json.dumps(data, default=repr))
        set_file_mode(json_path)
        click.echo(f"result: {json_path}")
