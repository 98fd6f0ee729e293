"""The conditional part of :class:`~hyperfleet.problem.HpProblem` and the modern DeepHyper API.

DeepHyper 0.13's ``HpProblem`` declares hyperparameters with
``add_hyperparameter(value, name, default_value=None)`` and takes ConfigSpace conditions and
forbidden clauses; these methods accept the same calls (and hyperfleet's own condition classes,
which carry ConfigSpace's names), so that moving from DeepHyper changes only import lines.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from hyperfleet.problem.conditions import Condition, codes_of
from hyperfleet.problem.dimensions import Dimension
from hyperfleet.problem.forbidden import ForbiddenClause

#: rounds of rejection sampling before :meth:`HpProblem.sample` gives up
MAX_SAMPLE_ROUNDS = 40
#: the largest batch of random draws one round of rejection sampling tests
MAX_SAMPLE_BATCH = 65_536


class SpaceApiMixin:
    """Conditions, forbidden clauses and ``add_hyperparameter`` for ``HpProblem``."""

    # provided by HpProblem
    dims: list
    starting_points: list
    rules: Any

    # ----- declaring -----------------------------------------------------------------------
    def add_hyperparameter(self, value: Any, name: str | None = None, default_value: Any = None) -> Dimension:
        """Add a dimension the way DeepHyper 0.13 does (``add_dim`` is the tutorial's spelling).

        Args:
            value: ``(low, high)`` ints or floats (a float bound makes it continuous), optionally
                ``(low, high, "log-uniform")``; a list of choices; a single value (a constant); or
                a ConfigSpace hyperparameter (its own name is used).
            name: the dimension's name (not needed for a ConfigSpace hyperparameter).
            default_value: an optional default, validated against the range.

        Returns:
            The new dimension (pass it, or its name, to conditions and clauses).

        Raises:
            ValueError: as :meth:`add_dim`, and for descriptions DeepHyper accepts but hyperfleet
                does not support (normal priors).
        """
        if type(value).__module__.startswith("ConfigSpace"):
            from hyperfleet.problem.configspace import add_configspace_hyperparameter

            return add_configspace_hyperparameter(self, value)
        if name is None:
            raise ValueError(f"add_hyperparameter({value!r}): give the dimension a name, "
                             f"e.g. add_hyperparameter({value!r}, 'x')")
        log = False
        if isinstance(value, tuple) and len(value) == 3:
            prior = value[2]
            if prior not in ("uniform", "log-uniform"):
                raise ValueError(f"dimension '{name}': the prior must be 'uniform' or 'log-uniform', "
                                 f"got {prior!r}")
            log, value = prior == "log-uniform", value[:2]
        if isinstance(value, tuple) and len(value) == 2 and any(isinstance(v, float) for v in value) \
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            value = (float(value[0]), float(value[1]))  # DeepHyper: a float bound -> continuous
        elif isinstance(value, (str, int, float, bool)) or value is None:
            value = [value]  # a constant
        elif isinstance(value, dict):
            raise ValueError(f"dimension '{name}': normal priors ({value!r}) are not supported; "
                             f"use a range (low, high) or (low, high, 'log-uniform')")
        # a list of two or more numbers becomes an ordinal dimension, as in DeepHyper
        return self.add_dim(name, list(value) if isinstance(value, np.ndarray) else value,  # type: ignore[attr-defined]
                            log=log, default=default_value)

    def add_hyperparameters(self, values: Iterable[Any]) -> list[Dimension]:
        """Add several ConfigSpace hyperparameters (DeepHyper's ``add_hyperparameters``)."""
        return [self.add_hyperparameter(v) for v in values]

    def add(self, value: Any, name: str | None = None, default_value: Any = None) -> Any:
        """DeepHyper's ``add``: a hyperparameter (with ``name``, or a ConfigSpace one), a
        condition or a forbidden clause."""
        if name is not None or type(value).__module__.startswith("ConfigSpace.hyperparameters"):
            return self.add_hyperparameter(value, name, default_value)
        from hyperfleet.problem.configspace import native

        value = native(value)
        if isinstance(value, Condition):
            return self.add_condition(value)
        if isinstance(value, ForbiddenClause):
            return self.add_forbidden_clause(value)
        return self.add_hyperparameter(value)

    def add_condition(self, condition: Condition) -> Condition:
        """Make a dimension active only where ``condition`` holds (see
        :mod:`hyperfleet.problem.conditions`); one condition per child (combine with
        ``AndConjunction``/``OrConjunction``). ConfigSpace conditions are accepted too.

        Raises:
            ValueError: for an unknown child or parent, a value the parent cannot take, a second
                condition on the same child, a cycle, or a starting point the condition makes
                invalid.
        """
        bound = self.rules.add_condition(condition, self.dims)
        self._recheck(lambda: self.rules.conditions.pop(bound.child))
        return bound

    def add_conditions(self, conditions: Iterable[Condition]) -> None:
        """Add several conditions (in order)."""
        for condition in conditions:
            self.add_condition(condition)

    def add_forbidden_clause(self, clause: ForbiddenClause) -> ForbiddenClause:
        """Never propose a configuration where ``clause`` holds (see
        :mod:`hyperfleet.problem.forbidden`); ConfigSpace clauses are accepted too.

        Raises:
            ValueError: for an unknown name or value, a starting point the clause forbids, or
                clauses that together leave no valid configuration.
        """
        bound = self.rules.add_forbidden(clause, self.dims)
        self._recheck(lambda: self.rules.forbidden.pop())
        try:
            self.rules.check_satisfiable(self)
        except ValueError:
            self.rules.forbidden.pop()
            raise
        return bound

    def add_forbidden_clauses(self, clauses: Iterable[ForbiddenClause]) -> None:
        """Add several forbidden clauses (in order)."""
        for clause in clauses:
            self.add_forbidden_clause(clause)

    def _recheck(self, undo) -> None:
        for point in self.starting_points:
            try:
                self.validate(point, what="starting point")  # type: ignore[attr-defined]
            except ValueError as err:
                undo()
                raise ValueError(f"{err} (the starting point was added earlier; add conditions and "
                                 f"clauses before starting points, or fix the point)") from None

    # ----- ConfigSpace ------------------------------------------------------------------------
    @classmethod
    def from_configspace(cls, cs: Any):
        """A problem with the hyperparameters, conditions and forbidden clauses of a ConfigSpace
        ``ConfigurationSpace`` (needs ``hyperfleet[configspace]``; see
        :mod:`hyperfleet.problem.configspace` for the mapping)."""
        from hyperfleet.problem.configspace import from_configspace

        return from_configspace(cls, cs)

    def to_configspace(self, seed: int | None = None) -> Any:
        """The equivalent ConfigSpace ``ConfigurationSpace`` (starting points are not kept)."""
        from hyperfleet.problem.configspace import to_configspace

        return to_configspace(self, seed)

    # ----- inspecting ------------------------------------------------------------------------
    @property
    def conditions(self) -> list[Condition]:
        """The conditions, one per conditional dimension."""
        return list(self.rules.conditions.values())

    @property
    def forbidden_clauses(self) -> list[ForbiddenClause]:
        """The forbidden clauses (a configuration is forbidden when any of them holds)."""
        return list(self.rules.forbidden)

    def __getitem__(self, name: str) -> Dimension:
        """The dimension called ``name`` (DeepHyper's ``problem["x"]``)."""
        for d in self.dims:
            if d.name == name:
                return d
        raise KeyError(f"no dimension '{name}'; the problem's dimensions are {[d.name for d in self.dims]}")

    def active_names(self, config: dict) -> list[str]:
        """The dimensions active in ``config`` (its parents' values decide)."""
        codes = codes_of(self.dims, [config])
        active = self.rules.active(codes, [d.name for d in self.dims], 1)
        return [d.name for d in self.dims if active[d.name][0]]

    def drop_inactive(self, config: dict) -> dict:
        """``config`` without the dimensions its conditions make inactive."""
        if not self.rules.conditions:
            return dict(config)
        keep = set(self.active_names(config))
        return {k: v for k, v in config.items() if k in keep}

    def is_forbidden(self, config: dict) -> bool:
        """Whether a forbidden clause holds for ``config``."""
        if not self.rules.forbidden:
            return False
        codes = codes_of(self.dims, [config])
        active = self.rules.active(codes, [d.name for d in self.dims], 1)
        return bool(self.rules.forbidden_mask(codes, active, 1)[0])

    # ----- internals -----------------------------------------------------------------------
    def _validate_rules(self, config: dict, what: str) -> dict:
        values = {}
        try:
            for d in self.dims:
                if d.name in config:
                    values[d.name] = d.validate(config[d.name])
        except ValueError as err:
            raise ValueError(f"{what}: {err}") from None
        names = [d.name for d in self.dims]
        codes = codes_of(self.dims, [values])
        active = self.rules.active(codes, names, 1)
        missing = [n for n in names if active[n][0] and n not in values]
        if missing:
            raise ValueError(f"{what} is missing dimension(s) {missing}; give a value for each "
                             f"active one")
        extra = [n for n in names if not active[n][0] and n in values]
        if extra:
            cond = self.rules.conditions[extra[0]]
            raise ValueError(f"{what}: dimension '{extra[0]}' is inactive here ({cond!r} does not "
                             f"hold); leave it out of the {what}")
        clause = self.rules.violated_clause(codes, active)
        if clause is not None:
            raise ValueError(f"{what} {values} is forbidden by {clause!r}; change one of "
                             f"{list(clause.names)}")
        return {n: values[n] for n in names if n in values}

    def _sample_rules(self, n: int, rng: np.random.Generator) -> list[dict]:
        out: list[dict] = []
        names = [d.name for d in self.dims]
        for round_ in range(MAX_SAMPLE_ROUNDS):
            if len(out) >= n:
                break
            # batches grow while few draws are valid, up to MAX_SAMPLE_BATCH
            size = min(max(2 * (n - len(out)), 8) * 2 ** min(round_, 20), MAX_SAMPLE_BATCH)
            rows = self._draw(size, rng)  # type: ignore[attr-defined]
            codes = codes_of(self.dims, rows)
            active = self.rules.active(codes, names, len(rows))
            bad = self.rules.forbidden_mask(codes, active, len(rows))
            for i, row in enumerate(rows):
                if not bad[i] and len(out) < n:
                    out.append({k: v for k, v in row.items() if active[k][i]})
        if len(out) < n:
            raise ValueError(f"drew only {len(out)} of {n} valid configurations in "
                             f"{MAX_SAMPLE_ROUNDS} rounds: the forbidden clauses exclude nearly "
                             f"all of the space; relax them")
        return out
