"""Warm start on a shifted problem: does a second search reach the first one's final regret in at
most half the evaluations?

    python benchmarks/warm_start.py --seeds 0-2 --budget 40

Per seed: a first AMBS search (``--budget`` evaluations) on a 5-dimensional multimodal function
(4 floats and an integer); a second one on the same function with its optimum shifted by
``--shift`` in every coordinate (``--ripple``: the amplitude of its cosine ripples) (a changed dataset or model, in effect), warm-started from the
first through the real path (``run_search(..., warm_start=LABEL)``, serial evaluator, SQLite
store); and a cold second search for comparison. Printed: the first search's final regret
(on its problem), and for the warm and the cold second searches the evaluations each needed to
reach that regret on the shifted problem (budget + 1 = never within the budget).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from problems import _branin, _hartmann6, _levy  # noqa: E402

from hyperfleet import HpProblem, run_search  # noqa: E402
from hyperfleet.search.ambs.settings import AMBSSettings  # noqa: E402
from hyperfleet.store import EvaluationState, SqlStore  # noqa: E402

CENTRE = (0.3, 0.7, 0.45, 0.6)
#: the "mixed" problem: its floats' optimum, and what each activation costs
MIXED_CENTRE = (0.25, 0.6, 0.4)
MIXED_ACT = {"relu": 0.0, "tanh": 0.08, "gelu": 0.04}
#: the "wide" problem (held out while tuning): 8 floats
WIDE_CENTRE = (0.35, 0.6, 0.5, 0.3, 0.65, 0.45, 0.55, 0.4)


def problem() -> HpProblem:
    p = HpProblem()
    for i in range(4):
        p.add_dim(f"x{i}", (0.0, 1.0))
    p.add_dim("k", (0, 10))
    return p


def objective(config: dict, shift: float = 0.0, ripple: float = 0.05) -> float:
    """Maximised; the maximum is 0 at x_i = CENTRE_i + shift, k = 6 (+ round(10 * shift))."""
    total = 0.0
    for i, c in enumerate(CENTRE):
        d = config[f"x{i}"] - (c + shift)
        total += 4 * d * d - ripple * (math.cos(6 * math.pi * d) - 1)
    total += 0.02 * (config["k"] - (6 + round(10 * shift))) ** 2
    return -total


def mixed_problem() -> HpProblem:
    p = HpProblem()
    for i in range(len(MIXED_CENTRE)):
        p.add_dim(f"x{i}", (0.0, 1.0))
    p.add_dim("units", (1, 16))
    p.add_dim("act", list(MIXED_ACT))
    return p


def mixed_objective(config: dict, shift: float = 0.0, ripple: float = 0.05) -> float:
    """Maximised; 0 at x_i = MIXED_CENTRE_i + shift (x1: - shift), units = 9 + round(20 shift),
    act = relu; with a shift, tanh and gelu swap costs."""
    total = 0.0
    for i, c in enumerate(MIXED_CENTRE):
        d = config[f"x{i}"] - (c + (shift if i != 1 else -shift))
        total += 4 * d * d - ripple * (math.cos(6 * math.pi * d) - 1)
    total += 0.01 * (config["units"] - (9 + round(20 * shift))) ** 2
    act = config["act"]
    if shift and act != "relu":
        act = "gelu" if act == "tanh" else "tanh"
    return -(total + MIXED_ACT[act])


def wide_problem() -> HpProblem:
    p = HpProblem()
    for i in range(len(WIDE_CENTRE)):
        p.add_dim(f"x{i}", (0.0, 1.0))
    return p


def wide_objective(config: dict, shift: float = 0.0, ripple: float = 0.05) -> float:
    """Maximised; 0 at x_i = WIDE_CENTRE_i +/- shift (alternating signs), weights 1..4."""
    total = 0.0
    for i, c in enumerate(WIDE_CENTRE):
        d = config[f"x{i}"] - (c + (shift if i % 2 == 0 else -shift))
        total += (1 + i % 4) * d * d - ripple * (math.cos(6 * math.pi * d) - 1)
    return -total


def hart6_problem() -> HpProblem:
    p = HpProblem()
    for i in range(6):
        p.add_dim(f"x{i}", (0.0, 1.0))
    return p


def hart6_objective(config: dict, shift: float = 0.0, ripple: float = 0.05) -> float:
    """Maximised; Hartmann-6 (its minimum -3.32237 moved to 0 and negated) with the optimum
    moved by +/- ``shift`` (alternating signs) and the values scaled by ``1 + 3 shift``
    (``ripple`` unused). Held out while the warm-start model was chosen (session 12)."""
    x = [min(1.0, max(0.0, config[f"x{i}"] - (shift if i % 2 == 0 else -shift))) for i in range(6)]
    return -(1 + 3 * shift) * (_hartmann6(x) + 3.32237)


def _moved(config: dict, n: int, shift: float) -> list:
    """The unit coordinates ``x0..x{n-1}`` moved by +/- ``shift`` (alternating signs), clipped."""
    return [min(1.0, max(0.0, config[f"x{i}"] - (shift if i % 2 == 0 else -shift))) for i in range(n)]


def branin_problem() -> HpProblem:
    p = HpProblem()
    for i in range(2):
        p.add_dim(f"x{i}", (0.0, 1.0))
    return p


def branin_objective(config: dict, shift: float = 0.0, ripple: float = 0.05) -> float:
    """Maximised; Branin on the unit square (x0 -> [-5, 10], x1 -> [0, 15]; its three minima,
    0.397887, moved to 0 and negated), moved and scaled like ``hart6``. Held out (session 17)."""
    u = _moved(config, 2, shift)
    return -(1 + 3 * shift) * (_branin(-5 + 15 * u[0], 15 * u[1]) - 0.397887)


def levy4_problem() -> HpProblem:
    p = HpProblem()
    for i in range(4):
        p.add_dim(f"x{i}", (0.0, 1.0))
    return p


def levy4_objective(config: dict, shift: float = 0.0, ripple: float = 0.05) -> float:
    """Maximised; Levy-4 on [-10, 10]^4 (its minimum 0 at x = 1, unit 0.55; many local minima),
    negated, moved and scaled like ``hart6``. Held out (session 17)."""
    return -(1 + 3 * shift) * _levy([-10 + 20 * u for u in _moved(config, 4, shift)])


#: name -> (space, objective(config, shift, ripple), default shift)
PROBLEMS = {
    "base": (problem, objective, 0.03),
    "mixed": (mixed_problem, mixed_objective, 0.05),
    "wide": (wide_problem, wide_objective, 0.08),
    "hart6": (hart6_problem, hart6_objective, 0.05),
    "branin": (branin_problem, branin_objective, 0.05),
    "levy4": (levy4_problem, levy4_objective, 0.05),
}


def evals_to_reach(store: SqlStore, search_id: str, target: float, budget: int) -> int:
    done = sorted(store.list_evaluations(search_id, [EvaluationState.DONE]), key=lambda e: e.number)
    best = -math.inf
    for n, e in enumerate(done, 1):
        best = max(best, e.objective)
        if -best <= target:
            return n
    return budget + 1


def key_value(text: str) -> tuple[str, str]:
    """``KEY=VALUE`` -> ``(KEY, VALUE)``; AMBS converts the value itself."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE (e.g. kappa=1.0)")
    return key.strip(), value.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0-2")
    parser.add_argument("--budget", type=int, default=40)
    parser.add_argument("--problem", choices=sorted(PROBLEMS), default="base",
                        help="base: 4 floats + an integer; mixed: 3 floats, an integer, a "
                             "categorical; wide: 8 floats; hart6, branin, levy4: the classic "
                             "test functions on the unit cube")
    parser.add_argument("--shift", type=float, default=None,
                        help="how far the optimum moves (default: the problem's: base 0.03, "
                             "mixed 0.05, wide 0.08)")
    parser.add_argument("--surrogate", default="auto", help="AMBS surrogate (auto, gp, et, rf)")
    parser.add_argument("--warm-model", default="prior", choices=("prior", "noise"),
                        help="AMBS warm_model: prior (the warm rows' GP as the prior mean, the "
                             "default) or noise (one GP, an extra noise for the warm rows)")
    parser.add_argument("--ripple", type=float, default=0.05, help="amplitude of the cosine ripples")
    parser.add_argument("--setting", action="append", default=[], metavar="KEY=VALUE", type=key_value,
                        help="an AMBS setting for all three searches (repeatable)")
    parser.add_argument("--warm-setting", action="append", default=[], metavar="KEY=VALUE", type=key_value,
                        help="an AMBS setting for the warm search only (repeatable), to compare")
    args = parser.parse_args()
    space, func, default_shift = PROBLEMS[args.problem]
    if args.shift is None:
        args.shift = default_shift
    kw = dict({"surrogate": args.surrogate, "warm_model": args.warm_model}, **dict(args.setting))
    warm_kw = dict(kw, **dict(args.warm_setting))
    try:
        AMBSSettings.from_kwargs(**warm_kw)  # a bad setting: one line now, not after a first search
    except ValueError as err:
        parser.error(f"--setting / --warm-setting: {err}")
    lo, _, hi = args.seeds.partition("-")
    seeds = range(int(lo), int(hi or lo) + 1)
    rows = []
    for seed in seeds:
        with tempfile.TemporaryDirectory() as tmp:
            store_path = Path(tmp) / "hf.db"
            shifted = lambda c, s=args.shift, r=args.ripple: func(c, s, r)  # noqa: E731
            original = lambda c, r=args.ripple: func(c, 0.0, r)  # noqa: E731
            first = run_search(space(), original, search_settings=kw, max_evals=args.budget, evaluator="serial",
                               label=f"first-{seed}", seed=seed, store=store_path)
            regret = -first.best.objective
            warm = run_search(space(), shifted, search_settings=warm_kw, max_evals=args.budget, evaluator="serial",
                              label=f"warm-{seed}", seed=seed + 100, store=store_path,
                              warm_start=f"first-{seed}")
            cold = run_search(space(), shifted, search_settings=kw, max_evals=args.budget, evaluator="serial",
                              label=f"cold-{seed}", seed=seed + 100, store=store_path)
            db = SqlStore(store_path)
            n_warm = evals_to_reach(db, warm.search.id, regret, args.budget)
            n_cold = evals_to_reach(db, cold.search.id, regret, args.budget)
            rows.append((seed, regret, n_warm, n_cold, -warm.best.objective, -cold.best.objective))
            db.close()
        print(f"seed {seed}: first regret {regret:.4f}; reached by warm after {n_warm}, cold after "
              f"{n_cold} evaluations", file=sys.stderr, flush=True)
    print(f"| seed | first search's final regret ({args.budget} evals) | warm: evals to reach it | "
          f"cold: evals to reach it | warm final regret | cold final regret |")
    print("|---:|---:|---:|---:|---:|---:|")
    for seed, regret, n_warm, n_cold, rw, rc in rows:
        def fmt(n):
            return f"{n}" if n <= args.budget else f"> {args.budget}"
        print(f"| {seed} | {regret:.4f} | {fmt(n_warm)} | {fmt(n_cold)} | {rw:.4f} | {rc:.4f} |")
    print(f"\nmedian evaluations to reach the first search's regret: warm "
          f"{statistics.median(r[2] for r in rows)}, cold {statistics.median(r[3] for r in rows)} "
          f"(half the budget: {args.budget // 2})")


if __name__ == "__main__":
    main()
