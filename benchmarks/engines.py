"""Search engines behind one ask/tell interface, for the benchmark harness.

Every engine is built from a bench problem's space (see problems.py), a seed and the
run's budget, and offers:

    ask(n)        -> list of n configuration dicts
    tell(results) with results a list of (config, value), value MAXIMIZED, None = failure

An engine is named by a spec string ``NAME`` or ``NAME:key=value:key=value``; the
settings are passed to the library's search constructor, e.g. ``hf-ambs:surrogate=gp``.
Without settings each engine runs with its library's defaults.

Ordered levels (space kind ``ord``) go to each library in its natural form: hyperfleet's
ordinal (a list of numbers), ConfigSpace's ``OrdinalHyperparameter`` for DeepHyper and SMAC3,
Optuna's stepped Int/Float distribution when the levels are evenly spaced, else its
categorical; scikit-optimize gets a categorical. Categoricals are categoricals everywhere.

Libraries are imported only when an engine is built, so that this module loads in any
interpreter: hyperfleet engines run in the project's interpreter, anchors in the anchor
venv (see README.md).
"""
from __future__ import annotations

import tempfile
from importlib import metadata


class EngineUnavailable(RuntimeError):
    """The engine's library (or the engine within it) cannot be imported here."""


# ---------------------------------------------------------------- spec parsing

def _parse_value(text: str):
    """Read a setting's value: bool, None, int, float, else the string itself."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_spec(spec: str) -> tuple[str, dict]:
    """Split ``NAME:key=value:...`` into the engine name and its settings dict."""
    name, *pairs = spec.split(":")
    settings = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"bad setting {pair!r} in engine spec {spec!r}; expected key=value")
        settings[key] = _parse_value(value)
    return name, settings


# ---------------------------------------------------------------- base class

class Engine:
    """Common ask/tell interface; subclasses wrap one library's own ask/tell."""

    #: distribution names whose versions are reported with the results
    packages: tuple[str, ...] = ()

    def __init__(self, space: list, seed: int, budget: int, **settings):
        self.space = space
        self.seed = seed
        self.budget = budget
        self.settings = settings

    def ask(self, n: int = 1) -> list[dict]:
        raise NotImplementedError

    def tell(self, results: list[tuple[dict, float | None]]) -> None:
        raise NotImplementedError

    def versions(self) -> dict:
        """Installed versions of the packages this engine depends on."""
        return {name: _version(name) for name in ("numpy",) + self.packages}


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _plain(value):
    """numpy scalars -> Python scalars (JSON-friendly, hashable, same as the problem expects)."""
    return value.item() if hasattr(value, "item") else value


# ---------------------------------------------------------------- hyperfleet

class HyperfleetEngine(Engine):
    """hyperfleet's own searches (``AMBS``, ``RandomSearch``), driven as-is."""

    packages = ("hyperfleet", "scikit-learn", "scipy")

    def __init__(self, space, seed, budget, search_class: str, **settings):
        super().__init__(space, seed, budget, **settings)
        try:
            import hyperfleet
            cls = getattr(hyperfleet, search_class)
        except (ImportError, AttributeError) as exc:
            raise EngineUnavailable(f"hyperfleet.{search_class} is not importable: {exc}") from exc
        self.search = cls(self._problem(hyperfleet, hyperfleet.HpProblem()), seed=seed, **settings)
        # what hyperfleet's driver does with --max-evals (DeepHyper's search gets max_evals too)
        self.search.set_budget(budget)

    def _problem(self, hyperfleet, problem):
        for dim in self.space:
            name, kind = dim[0], dim[1]
            if kind == "int":
                problem.add_dim(name, (int(dim[2]), int(dim[3])))
            elif kind == "float":
                problem.add_dim(name, (float(dim[2]), float(dim[3])))
            elif kind == "ord":  # ordered levels: a list of numbers is an ordinal
                problem.add_dim(name, list(dim[2]))
            else:
                problem.add_dim(name, hyperfleet.Categorical(list(dim[2])))
        return problem

    def ask(self, n=1):
        return self.search.ask(n)

    def tell(self, results):
        self.search.tell(list(results))


# ---------------------------------------------------------------- DeepHyper

class DeepHyperEngine(Engine):
    """DeepHyper 0.13 ``CBO`` / ``RandomSearch`` through ``Search.ask`` / ``Search.tell``."""

    packages = ("deephyper", "scikit-learn")

    def __init__(self, space, seed, budget, search_class: str, **settings):
        super().__init__(space, seed, budget, **settings)
        try:
            from deephyper import hpo
        except ImportError as exc:
            raise EngineUnavailable(f"deephyper is not importable: {exc}") from exc
        self._log_dir = tempfile.TemporaryDirectory(prefix="bench-dh-")
        self.search = getattr(hpo, search_class)(
            self._problem(hpo.HpProblem()), random_state=seed, log_dir=self._log_dir.name,
            checkpoint_history_to_csv=False, **settings)

    def _problem(self, problem):
        for dim in self.space:
            name, kind = dim[0], dim[1]
            if kind == "int":
                problem.add_hyperparameter((int(dim[2]), int(dim[3])), name)
            elif kind == "float":
                problem.add_hyperparameter((float(dim[2]), float(dim[3])), name)
            elif kind == "ord":  # DeepHyper takes ConfigSpace hyperparameters as they are
                from ConfigSpace import OrdinalHyperparameter

                problem.add_hyperparameter(OrdinalHyperparameter(name, list(dim[2])))
            else:
                problem.add_hyperparameter(list(dim[2]), name)
        return problem

    def ask(self, n=1):
        return [{k: _plain(v) for k, v in c.items()} for c in self.search.ask(n)]

    def tell(self, results):
        self.search.tell([(c, "F" if y is None else y) for c, y in results])


# ---------------------------------------------------------------- Optuna

class OptunaEngine(Engine):
    """An Optuna sampler through ``Study.ask`` / ``Study.tell`` (fixed distributions).

    Results for configurations that were never asked (bulk history) become completed
    trials through ``Study.add_trial``.
    """

    packages = ("optuna",)

    def __init__(self, space, seed, budget, sampler_class: str, **settings):
        super().__init__(space, seed, budget, **settings)
        try:
            import optuna
        except ImportError as exc:
            raise EngineUnavailable(f"optuna is not importable: {exc}") from exc
        if sampler_class == "GPSampler":
            self.packages = ("optuna", "torch", "scipy", "greenlet")
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.optuna = optuna
        sampler = getattr(optuna.samplers, sampler_class)(seed=seed, **settings)
        self.study = optuna.create_study(direction="maximize", sampler=sampler)
        self.distributions = self._distributions()
        self.pending = []  # (config, trial) asked but not told

    def _distributions(self):
        d = self.optuna.distributions
        out = {}
        for dim in self.space:
            name, kind = dim[0], dim[1]
            if kind == "int":
                out[name] = d.IntDistribution(int(dim[2]), int(dim[3]))
            elif kind == "float":
                out[name] = d.FloatDistribution(float(dim[2]), float(dim[3]))
            elif kind == "ord":
                out[name] = _optuna_ordinal(d, list(dim[2]))
            else:
                out[name] = d.CategoricalDistribution(list(dim[2]))
        return out

    def ask(self, n=1):
        configs = []
        for _ in range(n):
            trial = self.study.ask(self.distributions)
            config = dict(trial.params)
            self.pending.append((config, trial))
            configs.append(config)
        return configs

    def tell(self, results):
        for config, value in results:
            trial = self._pop_pending(config)
            if trial is not None:
                self._tell_trial(trial, value)
            elif value is not None:
                self.study.add_trial(self.optuna.trial.create_trial(
                    params=config, distributions=self.distributions, value=value))

    def _pop_pending(self, config):
        for i, (asked, trial) in enumerate(self.pending):
            if asked is config or asked == config:
                del self.pending[i]
                return trial
        return None

    def _tell_trial(self, trial, value):
        if value is None:
            self.study.tell(trial, state=self.optuna.trial.TrialState.FAIL)
        else:
            self.study.tell(trial, value)


def _optuna_ordinal(d, levels):
    """Optuna has no ordinal: evenly spaced levels are a stepped Int/Float distribution
    (``suggest_int(low, high, step=...)``), powers of two an int range on a log scale is NOT
    the same set, so any other levels are ``suggest_categorical`` (what Optuna users write)."""
    steps = {round(b - a, 12) for a, b in zip(levels, levels[1:])}
    if len(steps) == 1:
        step = steps.pop()
        if all(isinstance(v, int) for v in levels):
            return d.IntDistribution(levels[0], levels[-1], step=int(step))
        return d.FloatDistribution(float(levels[0]), float(levels[-1]), step=float(step))
    return d.CategoricalDistribution(levels)


# ---------------------------------------------------------------- scikit-optimize

class SkoptEngine(Engine):
    """scikit-optimize's ``Optimizer`` (it minimizes: values are negated).

    scikit-optimize has no notion of a failed evaluation: failures are not told.
    """

    packages = ("scikit-optimize", "scikit-learn")

    def __init__(self, space, seed, budget, base_estimator: str, **settings):
        super().__init__(space, seed, budget, **settings)
        try:
            import skopt
        except ImportError as exc:
            raise EngineUnavailable(f"scikit-optimize is not importable: {exc}") from exc
        self.names = [dim[0] for dim in space]
        self.optimizer = skopt.Optimizer(self._dimensions(skopt.space), base_estimator=base_estimator,
                                         random_state=seed, **settings)

    def _dimensions(self, sk):
        dims = []
        for dim in self.space:
            name, kind = dim[0], dim[1]
            if kind == "int":
                dims.append(sk.Integer(int(dim[2]), int(dim[3]), name=name))
            elif kind == "float":
                dims.append(sk.Real(float(dim[2]), float(dim[3]), name=name))
            else:
                dims.append(sk.Categorical(list(dim[2]), name=name))
        return dims

    def ask(self, n=1):
        points = [self.optimizer.ask()] if n == 1 else self.optimizer.ask(n_points=n)
        return [{k: _plain(v) for k, v in zip(self.names, x)} for x in points]

    def tell(self, results):
        told = [(c, y) for c, y in results if y is not None]
        if told:
            self.optimizer.tell([[c[k] for k in self.names] for c, _ in told],
                                [-float(y) for _, y in told])


# ---------------------------------------------------------------- SMAC3

class SmacEngine(Engine):
    """SMAC3's hyperparameter-optimization facade through ``ask`` / ``tell``.

    The scenario's ``n_trials`` is the run's budget (SMAC sizes its initial design from it).
    Only configurations it asked for can be told.
    """

    packages = ("smac", "ConfigSpace")

    def __init__(self, space, seed, budget, **settings):
        super().__init__(space, seed, budget, **settings)
        try:
            import smac
        except ImportError as exc:
            raise EngineUnavailable(f"smac is not importable: {exc}") from exc
        self.smac = smac
        self._out_dir = tempfile.TemporaryDirectory(prefix="bench-smac-")
        scenario = smac.Scenario(self._configspace(seed), deterministic=True, n_trials=budget,
                                 seed=seed, output_directory=self._out_dir.name)
        self.facade = smac.HyperparameterOptimizationFacade(
            scenario, target_function=_never_called, overwrite=True, logging_level=40, **settings)
        self.pending = []  # (config, TrialInfo)

    def _configspace(self, seed):
        from ConfigSpace import Categorical, ConfigurationSpace, Float, Integer, OrdinalHyperparameter

        cs = ConfigurationSpace(seed=seed)
        for dim in self.space:
            name, kind = dim[0], dim[1]
            if kind == "int":
                cs.add(Integer(name, (int(dim[2]), int(dim[3]))))
            elif kind == "float":
                cs.add(Float(name, (float(dim[2]), float(dim[3]))))
            elif kind == "ord":
                cs.add(OrdinalHyperparameter(name, list(dim[2])))
            else:
                cs.add(Categorical(name, list(dim[2])))
        return cs

    def ask(self, n=1):
        configs = []
        for _ in range(n):
            info = self.facade.ask()
            config = {k: _plain(v) for k, v in dict(info.config).items()}
            self.pending.append((config, info))
            configs.append(config)
        return configs

    def tell(self, results):
        from smac.runhistory.dataclasses import TrialValue
        from smac.runhistory.enumerations import StatusType

        for config, value in results:
            info = self._pop_pending(config)
            if value is None:
                self.facade.tell(info, TrialValue(cost=float("inf"), status=StatusType.CRASHED))
            else:
                self.facade.tell(info, TrialValue(cost=-float(value)))

    def _pop_pending(self, config):
        for i, (asked, info) in enumerate(self.pending):
            if asked is config or asked == config:
                del self.pending[i]
                return info
        raise KeyError("SMAC can only be told configurations it asked for")


def _never_called(config, seed: int = 0) -> float:
    """SMAC wants a target function even when driven by ask/tell; it is never run."""
    raise RuntimeError("the benchmark evaluates configurations itself")


# ---------------------------------------------------------------- registry

#: engine name -> (adapter class, fixed constructor arguments)
ENGINES = {
    "hf-ambs": (HyperfleetEngine, {"search_class": "AMBS"}),
    "hf-random": (HyperfleetEngine, {"search_class": "RandomSearch"}),
    "dh-cbo": (DeepHyperEngine, {"search_class": "CBO"}),
    "dh-random": (DeepHyperEngine, {"search_class": "RandomSearch"}),
    "optuna-tpe": (OptunaEngine, {"sampler_class": "TPESampler"}),
    "optuna-gp": (OptunaEngine, {"sampler_class": "GPSampler"}),
    "optuna-random": (OptunaEngine, {"sampler_class": "RandomSampler"}),
    "skopt-et": (SkoptEngine, {"base_estimator": "ET"}),
    "skopt-gp": (SkoptEngine, {"base_estimator": "GP"}),
    "smac-hpo": (SmacEngine, {}),
}


def is_project_engine(spec: str) -> bool:
    """True for hyperfleet's engines (run in the project's interpreter, not the anchor venv)."""
    return parse_spec(spec)[0].startswith("hf-")


def make_engine(spec: str, space: list, seed: int, budget: int) -> Engine:
    """Build the engine named by ``spec``; raises EngineUnavailable if its library is missing."""
    name, settings = parse_spec(spec)
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}; known: {', '.join(ENGINES)}")
    cls, fixed = ENGINES[name]
    return cls(space, seed, budget, **fixed, **settings)
