"""The search space a user declares: ``HpProblem``, compatible with the DeepHyper tutorial."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Iterable, Sequence

import numpy as np

from hyperfleet.problem.dim_forms import _make_dimension
from hyperfleet.problem.dimensions import (
    Dimension,
    dimension_from_dict,
)
from hyperfleet.problem.objectives import (
    Objective,
    Outcome,
    check_direction,
    default_objective_names,
    parse_outcome,
)
from hyperfleet.problem.rules import SpaceRules
from hyperfleet.problem.space_api import SpaceApiMixin

#: names taken by the columns ``results.csv`` adds after the hyperparameters
RESERVED_NAMES = ("objective", "elapsed_sec")


class HpProblem(SpaceApiMixin):
    """A hyperparameter search space with optional starting points, conditions (a dimension
    that exists only under given values of others) and forbidden clauses.

    A dimension that is inactive in a configuration (its condition does not hold) is absent
    from that configuration: ``param_dict`` has no key for it, ``results.csv`` an empty cell.

    Examples:
        >>> from hyperfleet import HpProblem
        >>> problem = HpProblem()
        >>> problem.add_dim('log2_batch_size', (5, 10))       # integer
        >>> problem.add_dim('dropout_1', (0.0, 1.0))          # continuous
        >>> problem.add_dim('lr', (1e-5, 1e-1), log=True)     # log-scaled
        >>> problem.add_dim('optimizer_type', ['RMSprop', 'Adam'])  # categorical
        >>> problem.add_dim('units', (16, 512), step=16)      # stepped range (ordered)
        >>> problem.add_starting_point(log2_batch_size=7, dropout_1=0.2, lr=1e-3,
        ...                            optimizer_type='RMSprop', units=64)
        >>> len(problem.sample(3, seed=0))
        3
    """

    def __init__(self) -> None:
        self.dims: list[Dimension] = []
        self.starting_points: list[dict] = []
        self.rules = SpaceRules()
        self.objectives: list[Objective] = []
        self.constraints: list[str] = []

    # ----- declaring -----------------------------------------------------------------
    def add_dim(self, name: str, range: Any, log: bool = False, default: Any = None,  # noqa: A002
                step: Any = None) -> Dimension:
        """Add a dimension; its type follows from ``range``.

        Args:
            name: unique name, the key of this hyperparameter in ``param_dict``.
            range: a pair of ints ``(low, high)`` (inclusive integer range), a pair of floats
                (continuous range), a list of numbers (ORDERED levels, e.g. ``[16, 32, 64]``:
                an ordinal, sorted by value), a list of other JSON-serializable values
                (categorical), or an explicit ``Categorical([...])``, ``Ordinal([...])``,
                ``Int(low, high, step=...)`` or ``Float(low, high, step=...)``.
            log: sample and model the range on a log scale (ranges and numeric ordinals;
                values > 0).
            default: an optional default value, validated against the range.
            step: for a range, only ``low, low + step, ..., high`` (an ordinal of those levels).

        Returns:
            The new dimension.

        Raises:
            ValueError: on an empty, inverted or mixed range, a duplicate or reserved name
                (``objective``, ``elapsed_sec``), a non-serializable or NaN choice or a default
                out of range.
        """
        if not isinstance(name, str) or not name or not name.isprintable():
            raise ValueError(f"dimension name must be a non-empty printable string, got {name!r}")
        if name in RESERVED_NAMES:
            raise ValueError(f"dimension name '{name}' is reserved (results.csv has columns "
                             f"{', '.join(RESERVED_NAMES)}); rename the dimension")
        if name in self.names:
            raise ValueError(f"dimension '{name}' is already defined; give each dimension a unique name")
        if name in self.objective_names or name in self.constraints:
            raise ValueError(f"'{name}' is already an objective or constraint; give the dimension "
                             f"another name")
        dim = _make_dimension(name, range, log, step)
        if default is not None:
            default = dim.validate(default)
            dim = dataclasses.replace(dim, default=default)
        self.dims.append(dim)
        return dim

    def add_starting_point(self, **values: Any) -> None:
        """Add a configuration to evaluate before anything is sampled (callable several times).

        Raises:
            ValueError: for an unknown or missing dimension or a value out of range.
        """
        self.starting_points.append(self.validate(values, what="starting point"))

    def add_objective(self, name: str, direction: str = "maximize") -> Objective:
        """Declare an objective (call once per objective, in the order the run function returns
        them). With none declared the run function's single number is maximized.

        Args:
            name: the objective's name (a column of ``results.csv``).
            direction: ``maximize`` (default) or ``minimize`` (return a loss as it is).

        Raises:
            ValueError: for a duplicate name, a name taken by a dimension or constraint, or an
                unknown direction.
        """
        self._check_new_name(name, "objective")
        objective = Objective(name, check_direction(direction))
        self.objectives.append(objective)
        return objective

    def add_constraint(self, name: str) -> None:
        """Declare a constraint: the run function returns its value, feasible when ``<= 0``.
        Infeasible results are kept and shown, never reported as best.

        Raises:
            ValueError: for a duplicate name or one taken by a dimension or objective.
        """
        self._check_new_name(name, "constraint")
        self.constraints.append(name)

    def _check_new_name(self, name: str, what: str) -> None:
        if not isinstance(name, str) or not name or not name.isprintable():
            raise ValueError(f"{what} name must be a non-empty printable string, got {name!r}")
        if name == "elapsed_sec":
            raise ValueError(f"{what} name 'elapsed_sec' is reserved (a results.csv column); rename it")
        taken = {*self.names, *(o.name for o in self.objectives), *self.constraints}
        if name in taken:
            raise ValueError(f"{what} name '{name}' is already used by a dimension, objective or "
                             f"constraint; give it a unique name")

    # ----- objectives --------------------------------------------------------------------
    @property
    def n_objectives(self) -> int:
        """Number of declared objectives (1 when none is declared)."""
        return max(1, len(self.objectives))

    @property
    def objective_names(self) -> list[str]:
        """Names of the declared objectives (``['objective']`` when none is declared)."""
        return [o.name for o in self.objectives] or ["objective"]

    @property
    def is_multi_objective(self) -> bool:
        """Whether the problem declares several objectives."""
        return len(self.objectives) > 1

    @property
    def directions(self) -> list[str]:
        """The objectives' directions (``['maximize']`` when none is declared)."""
        return [o.direction for o in self.objectives] or ["maximize"]

    def outcome(self, value: object) -> Outcome | None:
        """Check a result (number, tuple of numbers, or dict with ``objectives`` /
        ``constraints`` / ``metadata``) against the declared objectives and constraints.

        Raises:
            OutcomeError: (a ValueError) one line saying what is wrong.
        """
        return parse_outcome(value, self.objectives, self.constraints)

    def signs(self, k: int | None = None) -> np.ndarray:
        """``+1`` per maximized, ``-1`` per minimized objective (``k`` undeclared: all +1)."""
        if self.objectives:
            return np.array([o.sign for o in self.objectives])
        return np.ones(k or 1)

    def names_for(self, k: int) -> list[str]:
        """Objective names for results with ``k`` values: the declared ones, else
        ``objective`` (k = 1) or ``objective_0`` ... (undeclared)."""
        if self.objectives:
            return [o.name for o in self.objectives]
        return default_objective_names(k)

    # ----- inspecting ------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [d.name for d in self.dims]

    @property
    def space(self) -> dict[str, Dimension]:
        return {d.name: d for d in self.dims}

    def __len__(self) -> int:
        return len(self.dims)

    def __repr__(self) -> str:
        lines = [f"HpProblem with {len(self.dims)} dimension(s)"]
        lines += [f"  {d}" for d in self.dims]
        lines += [f"  condition: {c!r}" for c in self.rules.conditions.values()]
        lines += [f"  forbidden: {c!r}" for c in self.rules.forbidden]
        lines += [f"  starting point: {p}" for p in self.starting_points]
        lines += [f"  objective: {o.name} ({o.direction})" for o in self.objectives]
        lines += [f"  constraint: {c} <= 0" for c in self.constraints]
        return "\n".join(lines)

    def validate(self, config: dict, what: str = "configuration") -> dict:
        """Return ``config`` with values converted to their dimension's type, in problem order.

        Raises:
            ValueError: naming the dimension that is unknown, missing or out of range.
        """
        if not isinstance(config, dict):
            raise ValueError(f"a {what} must be a dict of dimension values, got {type(config).__name__}")
        unknown = [k for k in config if k not in self.space]
        if unknown:
            raise ValueError(f"{what} names unknown dimension(s) {unknown}; "
                             f"the problem's dimensions are {self.names}")
        if self.rules:
            return self._validate_rules(config, what)
        missing = [n for n in self.names if n not in config]
        if missing:
            raise ValueError(f"{what} is missing dimension(s) {missing}; give a value for each")
        try:
            return {d.name: d.validate(config[d.name]) for d in self.dims}
        except ValueError as err:
            raise ValueError(f"{what}: {err}") from None

    # ----- sampling and encoding ------------------------------------------------------
    def sample(self, n: int = 1, seed: int | np.random.Generator | None = None) -> list[dict]:
        """Draw ``n`` random configurations (log-uniform on log-scaled ranges)."""
        rng = np.random.default_rng(seed)
        if self.rules:
            return self._sample_rules(n, rng)
        return self._draw(n, rng)

    def _draw(self, n: int, rng: np.random.Generator) -> list[dict]:
        """``n`` configurations of every dimension, ignoring conditions and clauses."""
        columns = [d.sample(rng, n) for d in self.dims]
        return [{d.name: col[i] for d, col in zip(self.dims, columns)} for i in range(n)]

    def to_vector(self, config: dict) -> np.ndarray:
        """Encode a configuration as a vector in the unit cube, one entry per dimension.

        Ranges map linearly (or in log space) to [0, 1]; integers and categorical choices
        map to the centre of their equal-width bin.
        """
        # an inactive (absent) dimension gets a fixed canonical value; models mask it anyway
        return np.array([d.to_unit(config[d.name]) if d.name in config else d.to_unit(d.from_unit(0.5))
                         for d in self.dims], dtype=float)

    def to_array(self, configs: Sequence[dict]) -> np.ndarray:
        """Encode several configurations as a ``(n, len(problem))`` array."""
        if not configs:
            return np.empty((0, len(self.dims)))
        return np.vstack([self.to_vector(c) for c in configs])

    def from_vector(self, vector: Iterable[float]) -> dict:
        """Decode a unit-cube vector (values are clipped to [0, 1]) into a configuration."""
        vector = list(vector)
        if len(vector) != len(self.dims):
            raise ValueError(f"vector has {len(vector)} entries; the problem has {len(self.dims)} dimensions")
        config = {d.name: d.from_unit(u) for d, u in zip(self.dims, vector)}
        return self.drop_inactive(config) if self.rules.conditions else config

    def key(self, config: dict) -> tuple:
        """A hashable identity of a configuration (floats rounded to 12 significant digits)."""
        out = []
        for d in self.dims:
            if d.name not in config:  # inactive
                out.append(None)
                continue
            v = config[d.name]
            if d.kind == "float":
                v = float(f"{float(v):.12g}")
            elif d.kind in ("cat", "ord"):
                v = d.index(v)
            out.append(v)
        return tuple(out)

    # ----- serialization ----------------------------------------------------------------
    def to_dict(self) -> dict:
        data = {"dims": [d.to_dict() for d in self.dims], "starting_points": list(self.starting_points),
                **self.rules.to_dict()}
        if self.objectives:
            data["objectives"] = [{"name": o.name, "direction": o.direction} for o in self.objectives]
        if self.constraints:
            data["constraints"] = list(self.constraints)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "HpProblem":
        problem = cls()
        problem.dims = [dimension_from_dict(d) for d in data["dims"]]
        conditions, clauses = SpaceRules.parse(data)
        problem.add_conditions(conditions)
        for clause in clauses:
            problem.add_forbidden_clause(clause)
        for point in data.get("starting_points", []):
            problem.add_starting_point(**point)
        for objective in data.get("objectives", []):
            problem.add_objective(objective["name"], objective.get("direction", "maximize"))
        for constraint in data.get("constraints", []):
            problem.add_constraint(constraint)
        return problem

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> "HpProblem":
        return cls.from_dict(json.loads(text))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HpProblem) and self.to_dict() == other.to_dict()


def same_space(recorded: list[dict], current: list[dict]) -> bool:
    """Whether dimensions declared now (``to_dict`` form) are those recorded by a search.

    A list of numbers was an unordered categorical before ordinals existed; a search recorded
    then (kind ``cat``) still matches the same list declared today (now kind ``ord``), and
    continues with the recorded categorical.
    """
    if len(recorded) != len(current):
        return False
    for old, new in zip(recorded, current):
        if old == new:
            continue
        legacy = (old.get("kind") == "cat" and new.get("kind") == "ord" and "values" in new
                  and old.get("name") == new.get("name") and old.get("default") == new.get("default")
                  and not new.get("log")
                  and sorted(old.get("choices", []), key=repr) == sorted(new["values"], key=repr))
        if not legacy:
            return False
    return True
