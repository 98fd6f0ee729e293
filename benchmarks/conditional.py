"""Conditional spaces: hyperfleet AMBS against Optuna TPE (define-by-run), SMAC3 and DeepHyper CBO
on the same ConfigSpace.

    python benchmarks/conditional.py --seeds 0-2 --budget 30 \\
        --anchor-python /work/venvs/anchors/bin/python

Two closed-form problems stand in for trainings (maximised; the optimum is known, so regret is
exact):

* ``optimizer``: an optimizer choice (sgd / adam / rmsprop), a shared log learning rate, and
  each optimizer's own hyperparameters (sgd: momentum, nesterov; adam: beta1; rmsprop: rho);
* ``layers``: 1 to 4 layers, one log-scaled width per layer (``units_i`` active when
  ``n_layers >= i``), and a dropout.

And one real training (``mlp``): scikit-learn's ``MLPClassifier`` on the shipped digits data set
(1,797 8x8 images, 10 classes; 1,200 to train, the rest to validate), maximising validation
accuracy; the solver is the condition (sgd: momentum and nesterov; adam: beta_1), with 1 to 3
layers of log-scaled widths (``units_i`` active when ``n_layers >= i``), a log learning rate and
a log L2 penalty; 30 epochs, fixed initialisation (deterministic: a configuration always scores
the same). Its optimum is unknown: its "regret" is the validation error, 1 - accuracy.

Every (engine, problem, seed) runs in a subprocess of its own interpreter (hyperfleet with this
one, the anchors with ``--anchor-python``), sequentially (the machine is shared). Printed: mean
regret at the budget, mean rank (1 = best, ties share), and each engine's own seconds per
evaluation (ask + tell).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGINES = ("hf-ambs", "optuna-tpe", "smac-hpo", "dh-cbo")


# ----- problems (ConfigSpace, so that every engine gets the very same space) -------------------
def configspace(name: str, seed: int):
    import ConfigSpace as CS

    cs = CS.ConfigurationSpace(seed=seed)
    if name == "optimizer":
        opt = CS.CategoricalHyperparameter("optimizer", ["sgd", "adam", "rmsprop"])
        lr = CS.UniformFloatHyperparameter("lr", 1e-5, 1.0, log=True, default_value=1e-2)
        momentum = CS.UniformFloatHyperparameter("momentum", 0.0, 0.99)
        nesterov = CS.CategoricalHyperparameter("nesterov", [True, False])
        beta1 = CS.UniformFloatHyperparameter("beta1", 0.5, 0.999)
        rho = CS.UniformFloatHyperparameter("rho", 0.5, 0.999)
        cs.add(opt, lr, momentum, nesterov, beta1, rho)
        cs.add(CS.EqualsCondition(momentum, opt, "sgd"), CS.EqualsCondition(nesterov, opt, "sgd"),
               CS.EqualsCondition(beta1, opt, "adam"), CS.EqualsCondition(rho, opt, "rmsprop"))
    elif name == "mlp":
        solver = CS.CategoricalHyperparameter("solver", ["sgd", "adam"])
        lr = CS.UniformFloatHyperparameter("lr", 1e-4, 0.5, log=True, default_value=1e-3)
        alpha = CS.UniformFloatHyperparameter("alpha", 1e-6, 1e-1, log=True, default_value=1e-4)
        momentum = CS.UniformFloatHyperparameter("momentum", 0.0, 0.99, default_value=0.9)
        nesterov = CS.CategoricalHyperparameter("nesterov", [True, False])
        beta1 = CS.UniformFloatHyperparameter("beta1", 0.5, 0.999, default_value=0.9)
        n = CS.UniformIntegerHyperparameter("n_layers", 1, 3)
        units = [CS.UniformIntegerHyperparameter(f"units_{i}", 8, 256, log=True) for i in range(1, 4)]
        cs.add(solver, lr, alpha, momentum, nesterov, beta1, n, *units)
        cs.add(CS.EqualsCondition(momentum, solver, "sgd"), CS.EqualsCondition(nesterov, solver, "sgd"),
               CS.EqualsCondition(beta1, solver, "adam"),
               *[CS.InCondition(units[i], n, list(range(i + 1, 4))) for i in (1, 2)])
    else:
        n = CS.UniformIntegerHyperparameter("n_layers", 1, 4)
        hps = [n, CS.UniformFloatHyperparameter("dropout", 0.0, 0.7)]
        hps += [CS.UniformIntegerHyperparameter(f"units_{i}", 8, 512, log=True) for i in range(1, 5)]
        cs.add(*hps)
        cs.add(*[CS.InCondition(hps[i + 1], n, list(range(i, 5))) for i in range(2, 5)])
    return cs


OPTIMUM = {"optimizer": 0.95, "layers": 0.925, "mlp": 1.0}
_DIGITS: list = []


def train_mlp(c: dict) -> float:
    """Validation accuracy of an MLPClassifier on the digits data set (a real training)."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    if not _DIGITS:
        from sklearn.datasets import load_digits
        from sklearn.preprocessing import StandardScaler

        X, y = load_digits(return_X_y=True)
        order = __import__("numpy").random.default_rng(0).permutation(len(y))
        X, y = X[order], y[order]
        scaler = StandardScaler().fit(X[:1200])
        _DIGITS.extend([scaler.transform(X[:1200]), y[:1200], scaler.transform(X[1200:]), y[1200:]])
    Xt, yt, Xv, yv = _DIGITS
    extra = ({"momentum": c["momentum"], "nesterovs_momentum": bool(c["nesterov"])}
             if c["solver"] == "sgd" else {"beta_1": c["beta1"]})
    model = MLPClassifier(hidden_layer_sizes=tuple(int(c[f"units_{i}"]) for i in range(1, c["n_layers"] + 1)),
                          solver=c["solver"], learning_rate_init=c["lr"], alpha=c["alpha"],
                          max_iter=30, batch_size=128, random_state=0, **extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)  # a diverging learning rate overflows
        try:
            model.fit(Xt, yt)
        except (ValueError, FloatingPointError):
            return 0.0
    acc = float(model.score(Xv, yv))
    return acc if math.isfinite(acc) else 0.0


def objective(name: str, c: dict) -> float:
    if name == "mlp":
        return train_mlp(c)
    if name == "optimizer":
        base = {"sgd": 0.93, "adam": 0.95, "rmsprop": 0.94}[c["optimizer"]]
        best_lr = {"sgd": -1.5, "adam": -3.0, "rmsprop": -3.5}[c["optimizer"]]
        y = base - 0.04 * (math.log10(c["lr"]) - best_lr) ** 2
        if c["optimizer"] == "sgd":
            y -= 0.2 * (c["momentum"] - 0.9) ** 2 + (0.0 if c["nesterov"] else 0.01)
        elif c["optimizer"] == "adam":
            y -= 0.5 * (c["beta1"] - 0.9) ** 2
        else:
            y -= 0.5 * (c["rho"] - 0.9) ** 2
        return y
    n = c["n_layers"]
    targets = [256, 128, 64, 32]
    y = 0.85 + 0.025 * min(n, 3) - 0.01 * max(0, n - 3) - 0.05 * (c["dropout"] - 0.2) ** 2
    y -= sum(0.004 * (math.log2(c[f"units_{i}"]) - math.log2(targets[i - 1])) ** 2 for i in range(1, n + 1))
    return y


# ----- engines (each in its own interpreter) ---------------------------------------------------
def _plain(v):
    return v.item() if hasattr(v, "item") else v


def _active(cs, name: str, values: dict) -> bool:
    """Whether ``name`` is active given the values chosen so far (for define-by-run)."""
    import ConfigSpace as CS

    def holds(cond):
        if isinstance(cond, CS.AndConjunction):
            return all(holds(c) for c in cond.components)
        if isinstance(cond, CS.OrConjunction):
            return any(holds(c) for c in cond.components)
        parent = cond.parent.name
        if parent not in values:
            return False
        if isinstance(cond, CS.EqualsCondition):
            return values[parent] == cond.value
        if isinstance(cond, CS.InCondition):
            return values[parent] in cond.values
        raise NotImplementedError(type(cond).__name__)

    conds = [c for c in cs.conditions if (c.child.name if hasattr(c, "child") else c.components[0].child.name) == name]
    return all(holds(c) for c in conds)


def run_engine(engine: str, problem: str, seed: int, budget: int) -> dict:
    cs = configspace(problem, seed)
    own = 0.0
    best = -math.inf
    if engine == "hf-ambs":
        sys.path.insert(0, str(ROOT / "src"))
        from hyperfleet import HpProblem
        from hyperfleet.search.ambs import AMBS

        search = AMBS(HpProblem.from_configspace(cs), seed=seed)
        search.set_budget(budget)
        for _ in range(budget):
            t = time.perf_counter()
            [c] = search.ask(1)
            own += time.perf_counter() - t
            y = objective(problem, c)
            best = max(best, y)
            t = time.perf_counter()
            search.tell([(c, y)])
            own += time.perf_counter() - t
    elif engine == "optuna-tpe":
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True)
        study = optuna.create_study(direction="maximize", sampler=sampler)
        for _ in range(budget):
            t = time.perf_counter()
            trial = study.ask()
            c: dict = {}
            for hp in cs.values():  # topological order: parents first
                if not _active(cs, hp.name, c):
                    continue
                if isinstance(hp, __import__("ConfigSpace").CategoricalHyperparameter):
                    c[hp.name] = trial.suggest_categorical(hp.name, list(hp.choices))
                elif isinstance(hp, __import__("ConfigSpace").UniformIntegerHyperparameter):
                    c[hp.name] = trial.suggest_int(hp.name, hp.lower, hp.upper, log=hp.log)
                else:
                    c[hp.name] = trial.suggest_float(hp.name, hp.lower, hp.upper, log=hp.log)
            own += time.perf_counter() - t
            y = objective(problem, c)
            best = max(best, y)
            t = time.perf_counter()
            study.tell(trial, y)
            own += time.perf_counter() - t
    elif engine == "smac-hpo":
        import smac
        from smac.runhistory.dataclasses import TrialValue

        out = tempfile.TemporaryDirectory(prefix="bench-smac-")
        scenario = smac.Scenario(cs, deterministic=True, n_trials=budget, seed=seed, output_directory=out.name)
        facade = smac.HyperparameterOptimizationFacade(scenario, target_function=lambda config, seed=0: 0.0,
                                                       overwrite=True, logging_level=40)
        for _ in range(budget):
            t = time.perf_counter()
            info = facade.ask()
            own += time.perf_counter() - t
            c = {k: _plain(v) for k, v in dict(info.config).items()}
            y = objective(problem, c)
            best = max(best, y)
            t = time.perf_counter()
            facade.tell(info, TrialValue(cost=-y))
            own += time.perf_counter() - t
    elif engine == "dh-cbo":
        from deephyper import hpo

        log_dir = tempfile.TemporaryDirectory(prefix="bench-dh-")
        search = hpo.CBO(hpo.HpProblem(config_space=cs), random_state=seed, log_dir=log_dir.name,
                         checkpoint_history_to_csv=False)
        for _ in range(budget):
            t = time.perf_counter()
            [asked] = search.ask(1)
            own += time.perf_counter() - t
            # DeepHyper fills inactive hyperparameters with a placeholder: the run sees active ones
            c = {k: _plain(v) for k, v in asked.items()}
            c = {k: v for k, v in c.items() if _active(cs, k, c)}
            y = objective(problem, c)
            best = max(best, y)
            t = time.perf_counter()
            search.tell([(asked, y)])
            own += time.perf_counter() - t
    else:
        raise ValueError(engine)
    return {"engine": engine, "problem": problem, "seed": seed, "best": best,
            "regret": OPTIMUM[problem] - best, "own_s_per_eval": own / budget}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0-2")
    parser.add_argument("--budget", type=int, default=30)
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--problems", default="optimizer,layers")
    parser.add_argument("--anchor-python", default="/work/venvs/anchors/bin/python")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds one (engine, problem, seed) run may take; past it, it "
                             "counts as missing (DeepHyper CBO is slow on a loaded machine)")
    parser.add_argument("--worker", nargs=3, metavar=("ENGINE", "PROBLEM", "SEED"))
    args = parser.parse_args()
    if args.worker:
        engine, problem, seed = args.worker
        print(json.dumps(run_engine(engine, problem, int(seed), args.budget)))
        return
    lo, _, hi = args.seeds.partition("-")
    seeds = list(range(int(lo), int(hi or lo) + 1))
    rows = []
    # one BLAS thread per run: the machine is shared, and threads fighting over two cores made
    # one small MLP training take a minute
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    for problem in args.problems.split(","):
        for seed in seeds:
            for engine in args.engines.split(","):
                python = sys.executable if engine.startswith("hf-") else args.anchor_python
                try:
                    out = subprocess.run([python, __file__, "--budget", str(args.budget), "--worker",
                                          engine, problem, str(seed)], capture_output=True, text=True,
                                         timeout=args.timeout, env=env)
                except subprocess.TimeoutExpired:
                    print(f"{engine} {problem} {seed}: past --timeout {args.timeout:g} s, left out",
                          file=sys.stderr, flush=True)
                    continue
                if out.returncode:
                    print(f"{engine} {problem} {seed} failed: {out.stderr[-800:]}", file=sys.stderr)
                    continue
                rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
                print(rows[-1], file=sys.stderr, flush=True)
    engines = args.engines.split(",")
    ranks: dict = {e: [] for e in engines}
    for problem in args.problems.split(","):
        for seed in seeds:
            group = [r for r in rows if r["problem"] == problem and r["seed"] == seed]
            for r in group:
                ranks[r["engine"]].append(1 + sum(o["regret"] < r["regret"] - 1e-12 for o in group)
                                          + 0.5 * sum(abs(o["regret"] - r["regret"]) <= 1e-12 for o in group if o is not r))
    print("| engine | mean rank | " + " | ".join(f"{p} mean regret" for p in args.problems.split(","))
          + " | own s / eval |")
    print("|---|---:|" + "---:|" * len(args.problems.split(",")) + "---:|")
    for e in engines:
        mine = [r for r in rows if r["engine"] == e]
        if not mine:
            continue
        regrets = [statistics.mean(r["regret"] for r in mine if r["problem"] == p) for p in args.problems.split(",")]
        print(f"| {e} | {statistics.mean(ranks[e]):.2f} | " + " | ".join(f"{x:.4f}" for x in regrets)
              + f" | {statistics.median(r['own_s_per_eval'] for r in mine):.3f} |")


if __name__ == "__main__":
    main()
