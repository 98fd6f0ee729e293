"""Settings of :class:`~hyperfleet.search.ambs.AMBS`, gathered in one frozen dataclass.

Every setting can be given as a keyword argument of ``AMBS`` (or ``--setting key=value`` on
the command line); string values are converted to the setting's type.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any

from hyperfleet.search.base import parse_bool

SURROGATES = ("auto", "gp", "et", "rf")
ACQUISITIONS = ("auto", "ei", "ucb", "pi")
PENDING_STRATEGIES = ("auto", "cl_min", "cl_mean", "cl_max", "qucb")
INITIAL_DESIGNS = ("sobol", "lhs", "random")
STOPPED = ("rank", "last", "drop")
WARM_MODELS = ("prior", "noise")


@dataclass(frozen=True)
class AMBSSettings:
    """All tunable settings of AMBS, with their defaults.

    ========================  =========  ==================================================================
    setting                   default    meaning
    ========================  =========  ==================================================================
    ``n_initial``             ``None``   size of the space-filling initial design (starting points and
                                         results told before the first ask count towards it); None: max(5,
                                         min(d + 3, 10)) for d dimensions
    ``initial_design``        ``sobol``  sobol (scrambled), lhs (Latin hypercube), random, or an
                                         InitialDesign instance
    ``surrogate``             ``auto``   auto (exact GP up to gp_max_points results, then a GP on the
                                         best/recent/random subset), gp (always exact), et (extra trees),
                                         rf (random forest), or a scikit-learn regressor instance
    ``acquisition``           ``auto``   auto (ucb on a finite space: only ints, ordinals and
                                         categoricals; else ei), ei (log expected improvement), ucb,
                                         pi (log probability of improvement), or an Acquisition instance
    ``kappa``                 ``1.96``   UCB exploration weight (>= 0); mean kappa of qucb
    ``kappa_decay``           ``1.0``    after the initial design, kappa is multiplied by this factor per
                                         told result (in (0, 1])
    ``kappa_min``             ``0.0``    floor of the decayed kappa
    ``xi``                    ``0.0``    EI / PI improvement margin, in units of the objectives' standard
                                         deviation
    ``incumbent``             ``model``  EI / PI baseline: model (best posterior mean at an evaluated
                                         point; robust to noise) or observed (best objective seen)
    ``pending``               ``auto``   cl_min / cl_mean / cl_max (constant liar: pending points enter the
                                         model with the lowest / mean / highest objective seen; cl_min
                                         spreads a batch most), qucb (no refit: UCB with a kappa drawn per
                                         point, penalised near pending points), or a PendingStrategy
                                         instance; auto: cl_min with GP surrogates (qucb past 4 pending
                                         evaluations), qucb otherwise
    ``n_candidates``          ``1024``   random candidates scored per proposal (fewer per point in large
                                         batches)
    ``n_local``               ``5``      best candidates refined by local search
    ``batch_above``           ``64``     qucb with more pending points (the new ones included): batch
                                         proposals from one warm candidate pool scored once (see
                                         ``ambs.batching``) instead of an optimisation per point; -1: never
    ``batch_refit``           ``0.01``   batch proposals reuse the fitted surrogate and its pool until the
                                         results told grew by this fraction (at least one result)
    ``gp_max_points``         ``200``    auto surrogate: largest exact GP; above, the GP is fitted on a
                                         subset of this size
    ``gp_restarts``           ``1``      extra starts of the GP hyperparameter fit (run on every 5th fit;
                                         the others are warm-started only)
    ``gp_lengthscale_prior``  ``0.5``    mode of the GP lengthscale prior on numeric dimensions (unit
                                         cube); smaller favours more local, more exploring models
    ``gp_min_noise``          ``1e-10``  lower bound of the GP noise variance (standardised objective
                                         units); a smaller one lets the model resolve finer differences
                                         near the optimum of a deterministic objective
    ``n_trees``               ``48``     trees of the et / rf surrogates
    ``exclusion_radius``      ``0.1``    qucb: radius (feature space) of the penalty around pending points
    ``budget``                ``None``   evaluations the search will get in all, when known (the driver
                                         sets it from ``max_evals``); enables ``final_exploit``
    ``final_exploit``         ``0.1``    fraction of a known budget, at its end, spent refining the best
                                         results: proposals maximise UCB with ``final_kappa`` over
                                         neighbours of the best points instead of the acquisition over
                                         the whole space (0: never)
    ``final_kappa``           ``0.5``    UCB exploration weight of those final proposals
    ``stopped``               ``rank``   how results of trainings stopped early enter the surrogate: rank
                                         (below the worst full training, ordered among themselves by the
                                         step reached, then the value), last (their last value, as if
                                         trained fully), drop (left out; still never proposed again)
    ``mo_scalarization``      ``chebys`` several objectives: each proposal maximizes a random scalarization
                              ``hev``    of the normalized objectives, chebyshev (augmented Chebyshev) or
                                         linear (weighted sum)
    ``mo_normalize``          ``minmax`` several objectives: normalize each by min-max of the values seen,
                                         or by rank
    ``warm_model``            ``prior``  how a warm start's results enter the GP: prior (a GP of the warm
                                         results is the prior mean of a GP of the new results' residuals,
                                         see ``ambs.transfer``) or noise (one GP of old and new results,
                                         the warm rows with an extra noise variance of their own)
    ``warm_explore``          ``0.0``    prior warm model: how much of the old model's uncertainty (where
                                         the earlier search had no data) is added to the new model's, from
                                         0 (none: the residual GP alone says how unsure the search is) to
                                         1 (all: regions the earlier search never tried are explored)
    ``wait_for_starting_poi   ``False``  true: propose nothing until every starting point has been
    nts``                                evaluated (the DeepHyper tutorial's behaviour; workers idle
                                         meanwhile); false: starting points still go first, in order,
                                         and the other workers get initial-design points meanwhile
    ========================  =========  ==================================================================
    """

    n_initial: int | None = None
    initial_design: Any = "sobol"
    surrogate: Any = "auto"
    acquisition: Any = "auto"
    kappa: float = 1.96
    kappa_decay: float = 1.0
    kappa_min: float = 0.0
    xi: float = 0.0
    pending: Any = "auto"
    n_candidates: int = 1024
    n_local: int = 5
    batch_above: int = 64
    batch_refit: float = 0.01
    gp_max_points: int = 200
    gp_restarts: int = 1
    gp_lengthscale_prior: float = 0.5
    gp_min_noise: float = 1e-10
    incumbent: str = "model"
    n_trees: int = 48
    exclusion_radius: float = 0.1
    budget: int | None = None
    final_exploit: float = 0.1
    final_kappa: float = 0.5
    stopped: str = "rank"
    warm_model: str = "prior"
    warm_explore: float = 0.0
    mo_scalarization: str = "chebyshev"
    mo_normalize: str = "minmax"
    wait_for_starting_points: bool = False

    def __post_init__(self) -> None:
        def bad(name: str, why: str) -> ValueError:
            return ValueError(f"AMBS setting '{name}': {why} (got {getattr(self, name)!r})")

        if self.n_initial is not None and self.n_initial < 1:
            raise bad("n_initial", "must be a positive integer or None")
        if isinstance(self.initial_design, str) and self.initial_design not in INITIAL_DESIGNS:
            raise bad("initial_design", f"must be one of {', '.join(INITIAL_DESIGNS)} or an "
                                        f"InitialDesign instance")
        if not isinstance(self.initial_design, str) and not hasattr(self.initial_design, "generate"):
            raise bad("initial_design", "an instance must have a generate(n, d, rng) method")
        if isinstance(self.surrogate, str):
            if self.surrogate not in SURROGATES:
                raise bad("surrogate", f"must be one of {', '.join(SURROGATES)} or a scikit-learn "
                                       f"regressor instance")
        elif not (hasattr(self.surrogate, "fit") and hasattr(self.surrogate, "predict")):
            raise bad("surrogate", "an instance must have fit() and predict() methods")
        if isinstance(self.acquisition, str) and self.acquisition not in ACQUISITIONS:
            raise bad("acquisition", f"must be one of {', '.join(ACQUISITIONS)} or an "
                                     f"Acquisition instance")
        if not isinstance(self.acquisition, str) and not hasattr(self.acquisition, "evaluate"):
            raise bad("acquisition", "an instance must have an evaluate(mean, std, best) method")
        if not self.kappa >= 0:
            raise bad("kappa", "must be >= 0")
        if not 0 < self.kappa_decay <= 1:
            raise bad("kappa_decay", "must be in (0, 1]")
        if not self.kappa_min >= 0:
            raise bad("kappa_min", "must be >= 0")
        if not self.xi >= 0:
            raise bad("xi", "must be >= 0")
        if isinstance(self.pending, str) and self.pending not in PENDING_STRATEGIES:
            raise bad("pending", f"must be one of {', '.join(PENDING_STRATEGIES)} or a "
                                 f"PendingStrategy instance")
        if not isinstance(self.pending, str) and not hasattr(self.pending, "propose"):
            raise bad("pending", "an instance must have a propose(...) method")
        if self.n_candidates < 1:
            raise bad("n_candidates", "must be >= 1")
        if self.n_local < 0:
            raise bad("n_local", "must be >= 0")
        if self.gp_max_points < 10:
            raise bad("gp_max_points", "must be >= 10")
        if self.gp_restarts < 0:
            raise bad("gp_restarts", "must be >= 0")
        if self.n_trees < 1:
            raise bad("n_trees", "must be >= 1")
        if not self.gp_lengthscale_prior > 0:
            raise bad("gp_lengthscale_prior", "must be > 0")
        if not 1e-12 <= self.gp_min_noise <= 0.1:
            raise bad("gp_min_noise", "must be in [1e-12, 0.1]")
        if self.incumbent not in ("model", "observed"):
            raise bad("incumbent", "must be model or observed")
        if self.batch_above < -1:
            raise bad("batch_above", "must be >= 0, or -1 for never")
        if not 0 <= self.batch_refit <= 1:
            raise bad("batch_refit", "must be in [0, 1]")
        if not self.exclusion_radius >= 0:
            raise bad("exclusion_radius", "must be >= 0")
        if self.budget is not None and self.budget < 1:
            raise bad("budget", "must be a positive integer or None")
        if not 0 <= self.final_exploit <= 1:
            raise bad("final_exploit", "must be in [0, 1]")
        if not self.final_kappa >= 0:
            raise bad("final_kappa", "must be >= 0")
        if self.stopped not in STOPPED:
            raise bad("stopped", f"must be one of {', '.join(STOPPED)}")
        if self.warm_model not in WARM_MODELS:
            raise bad("warm_model", f"must be one of {', '.join(WARM_MODELS)}")
        if not 0 <= self.warm_explore <= 1:
            raise bad("warm_explore", "must be in [0, 1]")
        if self.mo_scalarization not in ("chebyshev", "linear"):
            raise bad("mo_scalarization", "must be chebyshev or linear")
        if self.mo_normalize not in ("minmax", "rank"):
            raise bad("mo_normalize", "must be minmax or rank")
        if not isinstance(self.wait_for_starting_points, bool):
            raise bad("wait_for_starting_points", "must be true or false")

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> AMBSSettings:
        """Build settings from keyword arguments, converting strings (``"0.5"``, ``"none"``).

        Raises:
            ValueError: for an unknown setting name or a value of the wrong type or range.
        """
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(k for k in kwargs if k not in known)
        if unknown:
            raise ValueError(f"unknown AMBS setting(s) {unknown}; valid settings are "
                             f"{', '.join(sorted(known))}")
        values = {k: _convert(k, v) for k, v in kwargs.items()}
        return cls(**values)

    def replace(self, **kwargs: Any) -> AMBSSettings:
        """A copy with some settings changed (converted like :meth:`from_kwargs`)."""
        known = {f.name for f in fields(self)}
        unknown = sorted(k for k in kwargs if k not in known)
        if unknown:
            raise ValueError(f"unknown AMBS setting(s) {unknown}; valid settings are "
                             f"{', '.join(sorted(known))}")
        return dataclasses.replace(self, **{k: _convert(k, v) for k, v in kwargs.items()})


_INT_SETTINGS = {"batch_above", "budget", "n_initial", "n_candidates", "n_local", "gp_max_points", "gp_restarts", "n_trees"}
_FLOAT_SETTINGS = {"batch_refit", "final_exploit", "final_kappa", "gp_lengthscale_prior", "gp_min_noise", "kappa", "kappa_decay", "kappa_min", "xi", "exclusion_radius",
                   "warm_explore"}


def _convert(name: str, value: Any) -> Any:
    if name == "wait_for_starting_points":
        return parse_bool(name, value)
    if name in _INT_SETTINGS:
        if value is None or (isinstance(value, str) and value.strip().lower() in ("none", "auto", "")):
            if name in ("n_initial", "budget"):
                return None
            raise ValueError(f"AMBS setting '{name}': needs an integer (got {value!r})")
        try:
            number = float(value)
            if isinstance(value, bool) or not number.is_integer():
                raise ValueError
            return int(number)
        except (TypeError, ValueError):
            raise ValueError(f"AMBS setting '{name}': needs an integer (got {value!r})") from None
    if name in _FLOAT_SETTINGS:
        try:
            if isinstance(value, bool):
                raise ValueError  # noqa: TRY004 - reported as a ValueError below
            return float(value)
        except (TypeError, ValueError):
            raise ValueError(f"AMBS setting '{name}': needs a number (got {value!r})") from None
    if isinstance(value, str):
        return value.strip().lower()
    return value  # an instance (surrogate, acquisition, pending strategy, initial design)

