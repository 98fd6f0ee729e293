"""``hyperfleet submit``: run a search as a batch job (the tutorial's ``balsam-submit``)."""

from __future__ import annotations

import click

from hyperfleet.cli.options import drain_option, seed_option, store_option
from hyperfleet.cli.search import parse_settings
from hyperfleet.cli.stop_options import parse_stopper_settings, stopper_options
from hyperfleet.search import SEARCHES


@click.command("submit")
@click.option("-p", "--problem", required=True, help="problem.py (attribute Problem) or file.py:attr.")
@click.option("-r", "--run", "run", required=True, help="run.py (function run) or file.py:func.")
@click.option("-t", "--time", "minutes", type=click.IntRange(min=1), required=True, help="Walltime in minutes.")
@click.option("-q", "--queue", default=None, help="Queue / partition.")
@click.option("-n", "--nodes", type=click.IntRange(min=1), default=1, show_default=True, help="Nodes.")
@click.option("-A", "--account", default=None, help="Project account to charge.")
@click.option("-j", "--job-mode", type=click.Choice(["serial", "mpi"]), default="serial", show_default=True,
              help="serial: one evaluation per slot; mpi: one evaluation per node, launched by the run "
                   "function with srun/mpiexec.")
@click.option("--nodes-per-eval", type=click.IntRange(min=1), default=1, show_default=True,
              help="Job mode mpi: nodes given to each evaluation.")
@click.option("--ranks-per-node", type=click.IntRange(min=1), default=1, show_default=True,
              help="Job mode mpi: MPI ranks per node in HYPERFLEET_LAUNCH.")
@click.option("--launcher", type=click.Choice(["srun", "mpiexec"]), default=None,
              help="Job mode mpi: launcher in HYPERFLEET_LAUNCH [default: srun on Slurm, else mpiexec].")
@click.option("--scheduler", type=click.Choice(["slurm", "pbs", "lsf"]), default=None,
              help="Batch scheduler [default: detected from sbatch/qsub/bsub on PATH].")
@click.option("--slots-per-node", type=click.IntRange(min=1), default=None,
              help="Evaluations at once on each node [default: the node's CPUs in the job].")
@click.option("--gpus-per-node", type=click.IntRange(min=0), default=0, help="GPUs to ask for on each node.")
@click.option("--drivers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Drivers of the search inside the job (one node, -j serial): each runs its share of "
                   "the node's slots; the first starts the search, the others join it.")
@click.option("--elastic", is_flag=True,
              help="Run the driver here and get workers as batch jobs (dask-jobqueue), up to -n at a time.")
@click.option("--search", "search_name", type=click.Choice(SEARCHES), default="ambs", show_default=True,
              help="Search algorithm.")
@click.option("--max-evals", type=click.IntRange(min=1), default=100, show_default=True,
              help="Evaluations to run at most (the total when a stopped search with this label is "
                   "continued).")
@drain_option
@seed_option
@click.option("--eval-timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Kill an evaluation after this many seconds.")
@click.option("--eval-memory", type=click.FloatRange(min=0, min_open=True), default=None, metavar="GB",
              help="Kill an evaluation whose processes use more than GB of memory together (FAILED, "
                   "out of memory); each evaluation then runs in a child process.")
@click.option("--setting", "settings", multiple=True, metavar="KEY=VALUE", help="A search setting (repeatable).")
@stopper_options
@click.option("--warm-start", "warm_start", default=None, metavar="LABEL|ID",
              help="Tell this search the finished results of an earlier one first (not re-run, not "
                   "counted in --max-evals; fitted to a changed space, what is dropped is said).")
@click.argument("words", nargs=-1, required=True, metavar="[hps] LABEL")
@store_option
def command(problem, run, minutes, queue, nodes, account, job_mode, nodes_per_eval, ranks_per_node, launcher,
            scheduler, slots_per_node, gpus_per_node, drivers,
            elastic, search_name, max_evals, drain, seed, eval_timeout, eval_memory, settings, stopper,
            stopper_settings, warm_start, words, store):
    """Submit a search of PROBLEM with RUN as a batch job labelled LABEL.

    LABEL names the search (letters, digits, '.', '_', '-'); the word `hps` before it is
    optional and kept for the tutorial's command line. Submitting again with the label of a
    stopped search continues that search in a new job. The tutorial's command works with only
    the program name changed:

    \b
        hyperfleet submit -p problem.py -r mnist_mlp_run.py -t 20 -q debug -n 2 \\
            -A myproject -j serial hps test-mnist

    `hyperfleet ls` shows the search with the scheduler's view of its job (state and reason).
    """
    if len(words) == 2 and words[0] == "hps":
        label = words[1]
    elif len(words) == 1:
        label = words[0]
    else:
        raise click.UsageError("give the search's label last, optionally after the word 'hps' "
                               "(e.g. `... hps test-mnist`)")
    from hyperfleet.batch import submit_search
    from hyperfleet.search_records import run_ref_of
    from hyperfleet.store import open_store
    from hyperfleet.user_code import load_problem

    problem_obj, problem_ref = load_problem(problem)
    run_ref = run_ref_of(run)
    search_settings = parse_settings(settings)
    from hyperfleet.driver_settings import StopPolicy

    stop = StopPolicy(stopper, parse_stopper_settings(stopper_settings))
    stop.make(seed=seed)  # an unknown stopper or setting fails here, not in the job
    if elastic and warm_start:
        raise click.UsageError("--warm-start does not work with --elastic yet; submit without --elastic")
    if drivers > 1 and (nodes > 1 or job_mode != "serial" or elastic):
        raise click.BadParameter("several drivers run in a one-node serial job for now (-n 1 -j serial, without "
                                 "--elastic); on more nodes start one job per driver with `hyperfleet search --join`",
                                 param_hint="--drivers")
    if elastic:
        from hyperfleet.batch.elastic import run_elastic
        from hyperfleet.cli.progress import ProgressDisplay
        from hyperfleet.cli.search import report_result

        display = ProgressDisplay(max_evals)
        try:
            result = run_elastic(problem_obj, problem_ref, run_ref, label=label, minutes=minutes, nodes=nodes,
                                 queue=queue, account=account, scheduler=scheduler, slots_per_node=slots_per_node,
                                 search=search_name, max_evals=max_evals, seed=seed, eval_timeout=eval_timeout,
                                 search_settings=search_settings, store=store, drain=drain, callbacks=[display],
                                 notify=click.echo, stopper=stop.stopper, stopper_settings=stop.settings,
                                 eval_memory=eval_memory)
        finally:
            display.close()
        report_result(result)
        return
    from hyperfleet.search import make_search

    make_search(search_name, problem_obj, seed=seed, **search_settings)  # bad settings fail here, not in the job
    recorded = {"search": search_name, "search_settings": search_settings, "seed": seed, "evaluator": "process",
                "workers": None, "max_evals": max_evals, "timeout": None, "eval_timeout": eval_timeout,
                "isolate": False, "gpus_per_eval": 0, "gpus": None, "prefetch": None, "drain": drain,
                "eval_memory": eval_memory,
                "batch": {"minutes": minutes, "queue": queue, "nodes": nodes, "account": account,
                          "job_mode": job_mode, **({"drivers": drivers} if drivers > 1 else {})},
                **stop.to_flat()}
    if job_mode == "mpi":
        if nodes_per_eval > nodes:
            raise click.BadParameter(f"{nodes_per_eval} nodes per evaluation, but only {nodes} node(s) asked",
                                     param_hint="--nodes-per-eval")
        from hyperfleet.batch import get_scheduler

        recorded.update(nodes_per_eval=nodes_per_eval, ranks_per_node=ranks_per_node,
                        launcher=launcher or ("srun" if get_scheduler(scheduler).name == "slurm" else "mpiexec"))
    db = open_store(store)
    if warm_start is not None:  # read now (a clear error before anything is queued); the job re-reads
        from hyperfleet.warm_start import load_warm_start

        warm = load_warm_start(db, warm_start, problem_obj)
        recorded["warm_start"] = warm.setting
        click.echo(warm.line)
    record, job_id, sched = submit_search(db, problem=problem_obj, problem_ref=problem_ref, run_ref=run_ref,
                                          label=label, minutes=minutes, nodes=nodes, queue=queue,
                                          account=account, job_mode=job_mode, settings=recorded,
                                          scheduler=scheduler, slots_per_node=slots_per_node,
                                          gpus_per_node=gpus_per_node)
    click.echo(f"search {record.id} ({record.label}) QUEUED as {sched.name} job {job_id}")
    click.echo(f"folder {record.folder}")
