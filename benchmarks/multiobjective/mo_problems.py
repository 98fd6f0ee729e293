"""Multi-objective benchmark problems, engine-neutral.

Each problem has a search space in the format of ``benchmarks/problems.py`` (dimension tuples
``(name, "int", low, high)``, ``(name, "float", low, high)``, ``(name, "cat", [choices])``), a
function ``evaluate(config) -> (objectives, constraints)``, the direction of every objective,
and what the hypervolume needs: fixed bounds ``lower``/``upper`` per objective (in the
objective's own units; normalized value = (f - lower) / (upper - lower) for a minimized
objective, (upper - f) / (upper - lower) for a maximized one, so 0 is the ideal end) and a
dense sample of the true (feasible) Pareto front, the reference front. Constraint values are
feasible when <= 0 (Optuna's and Ax's convention).

Problems: ZDT1, ZDT2, ZDT3 (8 variables), DTLZ2 with 2 and 3 objectives (6 and 7 variables,
k = 5), C2-DTLZ2 with 2 objectives (6 variables, r = 0.2, one constraint; Jain & Deb 2014,
as in pymoo), and ``mlp_digits`` (mo_task.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import mo_task
import numpy as np

#: the reference point, in normalized units, of every objective (0 = ideal bound, 1 = worst bound)
REF = 1.1


@dataclass(frozen=True)
class MOProblem:
    """One problem: space, evaluation, directions, normalization bounds, reference front."""

    name: str
    space: list
    evaluate: Callable[[dict], tuple[tuple[float, ...], tuple[float, ...]]]
    directions: tuple[str, ...]          # "minimize" / "maximize" per objective
    lower: tuple[float, ...]             # fixed bounds per objective (own units)
    upper: tuple[float, ...]
    front: Callable[[], np.ndarray]      # reference front, own units, feasible points only
    #: the reference front's normalized hypervolume when known in closed form (else computed
    #: from ``front()``), for the reference point REF in every normalized objective
    exact_hv: float | None = None
    n_constraints: int = 0
    budget: int = 100
    objective_names: tuple[str, ...] = field(default=())

    @property
    def n_objectives(self) -> int:
        return len(self.directions)

    def names(self) -> tuple[str, ...]:
        return self.objective_names or tuple(f"f{i + 1}" for i in range(self.n_objectives))


def _floats(name_prefix: str, n: int) -> list:
    return [(f"{name_prefix}{i}", "float", 0.0, 1.0) for i in range(n)]


def _vector(config: dict, n: int) -> np.ndarray:
    return np.array([float(config[f"x{i}"]) for i in range(n)])


# ---------------------------------------------------------------- ZDT (Zitzler, Deb, Thiele 2000)

ZDT_N = 8
#: f2's worst bound: with 1 (the front's own nadir) 100 random points score 0 on all three ZDTs
#: (their best f2 is 1.5-3.3), so the bound is wider and the fronts' shapes weigh less
ZDT_F2_UPPER = 5.0


def _zdt_exact(area_under_front: float) -> float:
    """Normalized HV of a ZDT front over f1 in [0, 1] with f2 in [0, 1] below its curve."""
    # box REF x REF in normalized units, minus the part of f2 < front(f1) (area/ZDT_F2_UPPER)
    return REF * REF - area_under_front / ZDT_F2_UPPER


def _zdt_g(x: np.ndarray) -> float:
    return 1.0 + 9.0 * float(np.sum(x[1:])) / (len(x) - 1)


def zdt1(config: dict):
    x = _vector(config, ZDT_N)
    g = _zdt_g(x)
    return (float(x[0]), g * (1.0 - math.sqrt(x[0] / g))), ()


def zdt2(config: dict):
    x = _vector(config, ZDT_N)
    g = _zdt_g(x)
    return (float(x[0]), g * (1.0 - (x[0] / g) ** 2)), ()


def zdt3(config: dict):
    x = _vector(config, ZDT_N)
    g = _zdt_g(x)
    h = 1.0 - math.sqrt(x[0] / g) - (x[0] / g) * math.sin(10.0 * math.pi * x[0])
    return (float(x[0]), g * h), ()


def _zdt_front(shape: Callable[[np.ndarray], np.ndarray], points: int = 20001) -> np.ndarray:
    f1 = np.linspace(0.0, 1.0, points)
    return np.column_stack([f1, shape(f1)])


def zdt3_front() -> np.ndarray:
    """The non-dominated part of g = 1 (five disconnected pieces)."""
    from mo_hv import nondominated

    f1 = np.linspace(0.0, 0.852, 40001)
    f2 = 1.0 - np.sqrt(f1) - f1 * np.sin(10.0 * math.pi * f1)
    return nondominated(np.column_stack([f1, f2]))


# ---------------------------------------------------------------- DTLZ2 (Deb et al. 2002)

DTLZ_K = 5


def _dtlz2_objectives(x: np.ndarray, m: int) -> np.ndarray:
    g = float(np.sum((x[m - 1:] - 0.5) ** 2))
    angles = x[: m - 1] * math.pi / 2.0
    f = np.full(m, 1.0 + g)
    for i in range(m):
        f[i] *= np.prod(np.cos(angles[: m - 1 - i]))
        if i > 0:
            f[i] *= math.sin(angles[m - 1 - i])
    return f


def dtlz2(m: int) -> Callable:
    n = m - 1 + DTLZ_K

    def evaluate(config: dict):
        return tuple(float(v) for v in _dtlz2_objectives(_vector(config, n), m)), ()

    return evaluate


def sphere_front(m: int, points: int) -> np.ndarray:
    """Points of the unit sphere's positive orthant (DTLZ2's front), spread evenly."""
    if m == 2:
        t = np.linspace(0.0, math.pi / 2.0, points)
        return np.column_stack([np.cos(t), np.sin(t)])
    side = int(math.sqrt(points))
    a, b = np.meshgrid(np.linspace(0.0, math.pi / 2, side), np.linspace(0.0, math.pi / 2, side))
    a, b = a.ravel(), b.ravel()
    return np.column_stack([np.cos(a) * np.cos(b), np.cos(a) * np.sin(b), np.sin(a)])


# ---------------------------------------------------------------- C2-DTLZ2 (Jain & Deb 2014)

C2_RADIUS = 0.2  # pymoo's value for 2 objectives


def c2_constraint(f: np.ndarray, r: float = C2_RADIUS) -> np.ndarray:
    """C2-DTLZ2's constraint value of objective vectors f (rows); feasible when <= 0."""
    f = np.atleast_2d(f)
    m = f.shape[1]
    total = np.sum(f**2, axis=1)
    near_axis = np.min([(f[:, i] - 1.0) ** 2 + total - f[:, i] ** 2 - r**2 for i in range(m)], axis=0)
    near_centre = np.sum((f - 1.0 / math.sqrt(m)) ** 2, axis=1) - r**2
    return np.minimum(near_axis, near_centre)


def c2dtlz2(config: dict):
    f = _dtlz2_objectives(_vector(config, 1 + DTLZ_K), 2)
    return tuple(float(v) for v in f), (float(c2_constraint(f)[0]),)


def c2dtlz2_front() -> np.ndarray:
    sphere = sphere_front(2, 20001)
    return sphere[c2_constraint(sphere) <= 0.0]


# ---------------------------------------------------------------- the real task

#: accuracy below 0.85 counts for nothing: with 0 as the bound every engine scored 0.99+ (half the
#: table is above 0.88); the parameter count's bounds are the smallest and largest networks
MLP_ACCURACY_FLOOR = 0.85
MLP_LOG10_PARAMS = (math.log10(mo_task.n_params({"log2_hidden": 2, "n_layers": 1})),
                    math.log10(mo_task.n_params({"log2_hidden": 7, "n_layers": 2})))


def mlp_digits(config: dict):
    return mo_task.evaluate(config), ()


def mlp_digits_front() -> np.ndarray:
    """The exact front of the full table (accuracy max, log10_params min)."""
    from mo_hv import nondominated

    values = np.array(list(mo_task.table().values()))
    minimized = np.column_stack([-values[:, 0], values[:, 1]])
    front = nondominated(minimized)
    return np.column_stack([-front[:, 0], front[:, 1]])


# ---------------------------------------------------------------- the catalogue

_MIN2 = ("minimize", "minimize")

ALL: dict[str, MOProblem] = {p.name: p for p in [
    MOProblem("zdt1", _floats("x", ZDT_N), zdt1, _MIN2, (0.0, 0.0), (1.0, ZDT_F2_UPPER),
              lambda: _zdt_front(lambda f1: 1.0 - np.sqrt(f1)), exact_hv=_zdt_exact(1.0 / 3.0)),
    MOProblem("zdt2", _floats("x", ZDT_N), zdt2, _MIN2, (0.0, 0.0), (1.0, ZDT_F2_UPPER),
              lambda: _zdt_front(lambda f1: 1.0 - f1**2), exact_hv=_zdt_exact(2.0 / 3.0)),
    MOProblem("zdt3", _floats("x", ZDT_N), zdt3, _MIN2, (0.0, -0.7734), (0.852, ZDT_F2_UPPER),
              zdt3_front),
    MOProblem("dtlz2_2", _floats("x", 1 + DTLZ_K), dtlz2(2), _MIN2, (0.0, 0.0), (1.0, 1.0),
              lambda: sphere_front(2, 20001), exact_hv=REF**2 - math.pi / 4.0),
    MOProblem("dtlz2_3", _floats("x", 2 + DTLZ_K), dtlz2(3), ("minimize",) * 3, (0.0,) * 3,
              (1.0,) * 3, lambda: sphere_front(3, 2500), exact_hv=REF**3 - math.pi / 6.0),
    MOProblem("c2dtlz2", _floats("x", 1 + DTLZ_K), c2dtlz2, _MIN2, (0.0, 0.0), (1.0, 1.0),
              c2dtlz2_front, n_constraints=1),
    MOProblem("mlp_digits", list(mo_task.SPACE), mlp_digits, ("maximize", "minimize"),
              (MLP_ACCURACY_FLOOR, MLP_LOG10_PARAMS[0]), (1.0, MLP_LOG10_PARAMS[1]), mlp_digits_front,
              objective_names=("accuracy", "log10_params")),
]}
