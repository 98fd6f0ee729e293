"""Engines for the early-stopping benchmark: ``ask() -> (handle, config)``,
``report(handle, step, value) -> bool`` and ``tell(handle, value, stopped_step)``.

===================  =========================================================================
name                 what runs
===================  =========================================================================
``hf-ambs``          hyperfleet AMBS, every training to the end
``hf-ambs+NAME``     hyperfleet AMBS with the stopper ``NAME`` (asha, hyperband, median,
                     patience, lcmodel, fixed); stopped ones told as ``(config, value, step)``
``hf-random+asha``   hyperfleet RandomSearch with ASHA
``optuna-tpe``       Optuna TPESampler, no pruner
``optuna-tpe+hb``    TPESampler with HyperbandPruner (pruned trials told as PRUNED)
``optuna-tpe+sha``   TPESampler with SuccessiveHalvingPruner
``dh-cbo+sha``       DeepHyper 0.13 CBO with SuccessiveHalvingStopper
``dh-cbo+lcmodel``   DeepHyper 0.13 CBO with LCModelStopper (jax/numpyro MCMC)
``ray-asha``         Ray Tune's ASHAScheduler deciding, on random configurations (Ray's default
                     searcher), driven through its scheduler callbacks without a Ray cluster
===================  =========================================================================

Settings: ``ENGINE:key=value:...`` go to the stopper / pruner (e.g. ``hf-ambs+asha:min_step=3``);
keys prefixed ``ambs.`` go to AMBS (``hf-ambs+asha:ambs.stopped=last``);
``engine.tell=predicted`` (with ``lcmodel``, an experiment) tells a stopped training as a full one
whose objective is the stopper's predicted final value. Libraries are imported
lazily; anchors run in their own venv.
"""

from __future__ import annotations

import copy
import itertools


def parse_spec(spec: str) -> tuple[str, dict]:
    name, *pairs = spec.split(":")
    settings = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        settings[key] = _value(value)
    return name, settings


def _value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False, "none": None}.get(text.lower(), text)


def default_stopper_settings(name: str, max_step: int) -> dict:
    """What the hyperfleet stoppers get unless the spec says otherwise."""
    return {"fixed": {"step": max_step // 3}, "patience": {"patience": 4, "min_delta": 0.002}
            }.get(name, {"max_step": max_step})


class HyperfleetEngine:
    def __init__(self, space, seed, max_step, search="ambs", stopper=None, **settings):
        from hyperfleet import HpProblem
        from hyperfleet.search import make_search
        from hyperfleet.stop import make_stopper

        problem = HpProblem()
        for dim in space:
            problem.add_dim(dim[0], list(dim[2]) if dim[1] == "cat" else (dim[2], dim[3]))
        search_settings = {k[5:]: v for k, v in settings.items() if k.startswith("ambs.")}
        self.tell_predicted = settings.get("engine.tell") == "predicted"
        stop_settings = {k: v for k, v in settings.items()
                         if not k.startswith(("ambs.", "engine."))}
        self.search = make_search(search, problem, seed=seed, **search_settings)
        self.stopper = None
        if stopper:
            self.stopper = make_stopper(stopper, seed=seed, **{
                **default_stopper_settings(stopper, max_step), **stop_settings})
        self.ids = itertools.count()
        self.configs = {}

    def ask(self):
        [config] = self.search.ask(1)
        handle = f"e{next(self.ids)}"
        self.configs[handle] = config
        return handle, config

    def report(self, handle, step, value):
        return True if self.stopper is None else self.stopper.report(handle, step, value)

    def tell(self, handle, value, stopped_step):
        if (self.tell_predicted and stopped_step is not None and stopped_step >= 3
                and hasattr(self.stopper, "predict")):
            value, stopped_step = self.stopper.predict(handle)[0], None
        if self.stopper is not None:
            self.stopper.finish(handle, stopped=stopped_step is not None)
        self.search.tell([(self.configs.pop(handle), value, stopped_step)])


class OptunaEngine:
    def __init__(self, space, seed, max_step, pruner=None, **settings):
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.optuna = optuna
        d = optuna.distributions
        self.distributions = {
            dim[0]: d.CategoricalDistribution(list(dim[2])) if dim[1] == "cat" else
            d.IntDistribution(dim[2], dim[3]) if dim[1] == "int" else d.FloatDistribution(dim[2], dim[3])
            for dim in space}
        made = None
        if pruner == "hb":
            made = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max_step, **settings)
        elif pruner == "sha":
            made = optuna.pruners.SuccessiveHalvingPruner(**settings)
        self.study = optuna.create_study(direction="maximize", pruner=made,
                                         sampler=optuna.samplers.TPESampler(seed=seed))

    def ask(self):
        trial = self.study.ask(self.distributions)
        return trial, dict(trial.params)

    def report(self, trial, step, value):
        trial.report(value, step)
        return not trial.should_prune()

    def tell(self, trial, value, stopped_step):
        if stopped_step is None:
            self.study.tell(trial, value)
        else:
            self.study.tell(trial, state=self.optuna.trial.TrialState.PRUNED)


class DeepHyperEngine:
    def __init__(self, space, seed, max_step, stopper="sha", **settings):
        import tempfile

        import deephyper.stopper as dh_stopper
        from deephyper import hpo
        from deephyper.evaluator import RunningJob
        from deephyper.evaluator.storage import MemoryStorage

        problem = hpo.HpProblem()
        for dim in space:
            problem.add_hyperparameter(list(dim[2]) if dim[1] == "cat" else (dim[2], dim[3]), dim[0])
        self._dir = tempfile.TemporaryDirectory(prefix="bench-dh-")
        self.search = hpo.CBO(problem, random_state=seed, log_dir=self._dir.name,
                              checkpoint_history_to_csv=False)
        # LCModelStopper exists only where DeepHyper's jax extra is installed
        name = {"sha": "SuccessiveHalvingStopper", "lcmodel": "LCModelStopper"}[stopper]
        cls = getattr(dh_stopper, name, None)
        if cls is None:
            raise SystemExit(f"deephyper.stopper has no {name} here "
                             "(LCModelStopper needs DeepHyper's jax extra)")
        kwargs = dict(settings)
        if stopper == "lcmodel":
            kwargs.setdefault("random_state", seed)
        self.stopper = cls(max_steps=max_step, **kwargs)
        self.storage = MemoryStorage()
        self.search_id = self.storage.create_new_search()
        self.RunningJob = RunningJob

    def ask(self):
        [config] = self.search.ask(1)
        config = {k: (v.item() if hasattr(v, "item") else v) for k, v in config.items()}
        job_id = self.storage.create_new_job(self.search_id)
        stopper = copy.deepcopy(self.stopper)
        job = self.RunningJob(id=job_id, parameters=dict(config), storage=self.storage,
                              stopper=stopper)
        stopper.job = job
        return (job, config), config

    def report(self, handle, step, value):
        job, _ = handle
        job.record(step, value)
        return not job.stopped()

    def tell(self, handle, value, stopped_step):
        job, config = handle
        objective = job.objective  # DeepHyper's own: the last observed value
        self.storage.store_job_out(job.id, objective)
        self.search.tell([(config, objective)])


class RayASHAEngine:
    """Ray Tune's ``ASHAScheduler`` (defaults: grace_period 1, reduction_factor 4) deciding
    over random configurations, through ``on_trial_add`` / ``on_trial_result`` /
    ``on_trial_complete`` with a minimal trial object (no Ray cluster is started)."""

    class _Trial:
        def __init__(self, trial_id):
            self.trial_id = trial_id

    def __init__(self, space, seed, max_step, **settings):
        import numpy as np
        from ray.tune.schedulers import ASHAScheduler

        self.scheduler = ASHAScheduler(time_attr="training_iteration", metric="value", mode="max",
                                       max_t=max_step, **settings)
        self.space, self.rng, self.ids = space, np.random.default_rng(seed), itertools.count()
        self.stop = ASHAScheduler.STOP

    def ask(self):
        config = {}
        for dim in self.space:
            if dim[1] == "cat":
                config[dim[0]] = dim[2][int(self.rng.integers(len(dim[2])))]
            elif dim[1] == "int":
                config[dim[0]] = int(self.rng.integers(dim[2], dim[3] + 1))
            else:
                config[dim[0]] = float(self.rng.uniform(dim[2], dim[3]))
        trial = self._Trial(f"t{next(self.ids)}")
        self.scheduler.on_trial_add(None, trial)
        return trial, config

    def report(self, trial, step, value):
        result = {"training_iteration": step, "value": value}
        return self.scheduler.on_trial_result(None, trial, result) != self.stop

    def tell(self, trial, value, stopped_step):
        if stopped_step is None:
            self.scheduler.on_trial_complete(None, trial, {"training_iteration": 27, "value": value})
        else:
            self.scheduler.on_trial_remove(None, trial)


def make_engine(spec: str, space, seed: int, max_step: int):
    """An engine from its spec string (see the module docstring)."""
    name, settings = parse_spec(spec)
    if name.startswith("hf-"):
        search, _, stopper = name[3:].partition("+")
        return HyperfleetEngine(space, seed, max_step, search=search, stopper=stopper or None,
                                **settings)
    if name.startswith("optuna-tpe"):
        return OptunaEngine(space, seed, max_step, pruner=name.partition("+")[2] or None, **settings)
    if name.startswith("dh-cbo+"):
        return DeepHyperEngine(space, seed, max_step, stopper=name.partition("+")[2], **settings)
    if name == "ray-asha":
        return RayASHAEngine(space, seed, max_step, **settings)
    raise ValueError(f"unknown engine {spec!r}")


def is_anchor(spec: str) -> bool:
    return not spec.startswith("hf-")
