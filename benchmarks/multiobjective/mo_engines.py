"""Multi-objective search engines behind one ask/tell interface, for the benchmark harness.

Every engine is built from a problem (mo_problems.MOProblem), a seed and the run's budget:

    ask(n)          -> list of n configuration dicts
    tell(results)   results: list of (config, objectives, constraints); objectives a tuple in
                    the problem's own units and directions (None = failed evaluation),
                    constraints a tuple (feasible when <= 0; empty without constraints)

Engines are named ``NAME`` or ``NAME:key=value:...`` (settings go to the library's search
constructor, as in ``benchmarks/engines.py``). Each library is imported only when its engine is
built, so this module loads in the project's interpreter and in the anchor venv alike.

Constraints: Optuna gets them through ``Trial.set_constraint`` before ``tell`` (Optuna 5; with an
older Optuna through ``constraints_func`` reading a trial user attribute); hyperfleet through ``HpProblem.add_constraint``; DeepHyper's
CBO has no outcome constraints, so it is told the objectives only and its front is scored on
its feasible points like everyone else's.
"""
from __future__ import annotations

import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from engines import Engine, EngineUnavailable, _plain, parse_spec  # noqa: E402

__all__ = ["make_engine", "is_project_engine", "EngineUnavailable", "ENGINES"]


class MOEngine(Engine):
    """Base: keeps the problem (directions, constraint count) beside the space."""

    def __init__(self, problem, seed: int, budget: int, **settings):
        super().__init__(problem.space, seed, budget, **settings)
        self.problem = problem


# ---------------------------------------------------------------- hyperfleet

class HyperfleetMO(MOEngine):
    """hyperfleet's ``AMBS`` / ``RandomSearch`` with declared objectives and constraints."""

    packages = ("hyperfleet", "scikit-learn", "scipy")

    def __init__(self, problem, seed, budget, search_class: str, **settings):
        super().__init__(problem, seed, budget, **settings)
        try:
            import hyperfleet
            cls = getattr(hyperfleet, search_class)
            hp = hyperfleet.HpProblem()
            hp.add_objective  # noqa: B018 - multi-objective API present?
        except (ImportError, AttributeError) as exc:
            raise EngineUnavailable(f"hyperfleet multi-objective {search_class} is not "
                                    f"importable: {exc}") from exc
        for dim in self.space:
            name, kind = dim[0], dim[1]
            if kind == "int":
                hp.add_dim(name, (int(dim[2]), int(dim[3])))
            elif kind == "float":
                hp.add_dim(name, (float(dim[2]), float(dim[3])))
            else:
                hp.add_dim(name, list(dim[2]))
        for name, direction in zip(problem.names(), problem.directions):
            hp.add_objective(name, direction=direction)
        for i in range(problem.n_constraints):
            hp.add_constraint(f"c{i}")
        self.hyperfleet = hyperfleet
        self.search = cls(hp, seed=seed, **settings)
        self.search.set_budget(budget)

    def ask(self, n=1):
        return self.search.ask(n)

    def tell(self, results):
        self.search.tell([self._result(c, y, g) for c, y, g in results])

    def _result(self, config, objectives, constraints):
        if objectives is None:
            return config, None
        if not constraints:
            return config, tuple(objectives)
        names = [f"c{i}" for i in range(len(constraints))]
        return config, {"objectives": list(objectives),
                        "constraints": dict(zip(names, constraints))}


# ---------------------------------------------------------------- Optuna

class OptunaMO(MOEngine):
    """An Optuna sampler on a multi-objective study through ``ask`` / ``tell``."""

    packages = ("optuna",)

    def __init__(self, problem, seed, budget, sampler_class: str, **settings):
        super().__init__(problem, seed, budget, **settings)
        try:
            import optuna
        except ImportError as exc:
            raise EngineUnavailable(f"optuna is not importable: {exc}") from exc
        if sampler_class == "GPSampler":
            self.packages = ("optuna", "torch", "scipy", "greenlet")
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.optuna = optuna
        # Optuna 5 reads constraints set on the trial (``Trial.set_constraint``) and deprecates
        # ``constraints_func``; older versions only have the latter
        self.set_constraint = hasattr(optuna.trial.Trial, "set_constraint")
        if problem.n_constraints and not self.set_constraint:
            settings.setdefault("constraints_func", _stored_constraints)
        sampler = getattr(optuna.samplers, sampler_class)(seed=seed, **settings)
        self.study = optuna.create_study(directions=list(problem.directions), sampler=sampler)
        self.distributions = self._distributions()
        self.pending = []  # (config, trial)

    def _distributions(self):
        d = self.optuna.distributions
        out = {}
        for dim in self.space:
            name, kind = dim[0], dim[1]
            if kind == "int":
                out[name] = d.IntDistribution(int(dim[2]), int(dim[3]))
            elif kind == "float":
                out[name] = d.FloatDistribution(float(dim[2]), float(dim[3]))
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
        for config, objectives, constraints in results:
            index = next(i for i, (c, _) in enumerate(self.pending) if c is config or c == config)
            _, trial = self.pending.pop(index)
            if objectives is None:
                self.study.tell(trial, state=self.optuna.trial.TrialState.FAIL)
                continue
            if self.problem.n_constraints and self.set_constraint:
                for i, value in enumerate(constraints):
                    trial.set_constraint(f"c{i}", float(value))
            elif self.problem.n_constraints:
                trial.set_user_attr("constraints", list(constraints))
            self.study.tell(trial, list(objectives))


def _stored_constraints(trial):
    """Optuna's ``constraints_func``: the values stored on the trial before ``tell``."""
    return trial.user_attrs["constraints"]


# ---------------------------------------------------------------- DeepHyper

class DeepHyperMO(MOEngine):
    """DeepHyper 0.13 ``CBO`` told tuples of maximized objectives (its default
    ``moo_scalarization_strategy="Chebyshev"`` with random weights, unless set)."""

    packages = ("deephyper", "scikit-learn")

    def __init__(self, problem, seed, budget, search_class: str, **settings):
        super().__init__(problem, seed, budget, **settings)
        try:
            from deephyper import hpo
        except ImportError as exc:
            raise EngineUnavailable(f"deephyper is not importable: {exc}") from exc
        hp = hpo.HpProblem()
        for dim in self.space:
            name, kind = dim[0], dim[1]
            if kind == "int":
                hp.add_hyperparameter((int(dim[2]), int(dim[3])), name)
            elif kind == "float":
                hp.add_hyperparameter((float(dim[2]), float(dim[3])), name)
            else:
                hp.add_hyperparameter(list(dim[2]), name)
        self._log_dir = tempfile.TemporaryDirectory(prefix="bench-dh-mo-")
        self.signs = [1.0 if d == "maximize" else -1.0 for d in problem.directions]
        self.search = getattr(hpo, search_class)(
            hp, random_state=seed, log_dir=self._log_dir.name, checkpoint_history_to_csv=False,
            **settings)

    def ask(self, n=1):
        return [{k: _plain(v) for k, v in c.items()} for c in self.search.ask(n)]

    def tell(self, results):
        self.search.tell([(c, "F" if y is None else tuple(s * v for s, v in zip(self.signs, y)))
                          for c, y, _ in results])


# ---------------------------------------------------------------- registry

ENGINES = {
    "hf-ambs": (HyperfleetMO, {"search_class": "AMBS"}),
    "hf-random": (HyperfleetMO, {"search_class": "RandomSearch"}),
    "optuna-nsga2": (OptunaMO, {"sampler_class": "NSGAIISampler"}),
    "optuna-tpe": (OptunaMO, {"sampler_class": "TPESampler"}),
    "optuna-gp": (OptunaMO, {"sampler_class": "GPSampler"}),
    "optuna-random": (OptunaMO, {"sampler_class": "RandomSampler"}),
    "dh-cbo": (DeepHyperMO, {"search_class": "CBO"}),
}


def is_project_engine(spec: str) -> bool:
    """hyperfleet's engines run in the project's interpreter, the rest in the anchor venv."""
    return parse_spec(spec)[0].startswith("hf-")


def make_engine(spec: str, problem, seed: int, budget: int) -> MOEngine:
    """Build the engine a spec names, for one problem, seed and budget."""
    name, settings = parse_spec(spec)
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}; known: {', '.join(ENGINES)}")
    cls, fixed = ENGINES[name]
    return cls(problem, seed, budget, **fixed, **settings)
