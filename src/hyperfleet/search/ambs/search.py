"""AMBS: asynchronous model-based search (Bayesian optimisation) for mixed spaces."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hyperfleet.problem import HpProblem
from hyperfleet.problem.objectives import Outcome
from hyperfleet.search.ambs.acquisition import (
    Acquisition,
    ExpectedImprovement,
    ProbabilityOfImprovement,
    UpperConfidenceBound,
    make_acquisition,
    scheduled_kappa,
)
from hyperfleet.search.ambs.batching import BatchProposer
from hyperfleet.search.ambs.candidates import ENUMERATE_MAX, CandidateScoring  # noqa: F401 - re-exported
from hyperfleet.search.ambs.encoding import Encoder
from hyperfleet.search.ambs.fitting import SurrogateFitting
from hyperfleet.search.ambs.initial_design import make_initial_design
from hyperfleet.search.ambs.multi import Feasibility, VectorResults
from hyperfleet.search.ambs.optimizer import AcquisitionOptimizer
from hyperfleet.search.ambs.pending import QUCB, make_pending
from hyperfleet.search.ambs.settings import AMBSSettings
from hyperfleet.search.ambs.stopped import stopped_as
from hyperfleet.search.ambs.surrogates import GaussianProcess, Surrogate
from hyperfleet.search.base import Search

#: ``pending="auto"`` uses the constant liar up to this many pending evaluations, qUCB beyond
#: (with 8 asynchronous workers the constant liar's regret was about twice qUCB's on continuous
#: and mixed problems, none better on tabular ones: benchmarks/RESULTS-simulate.md, "par")
AUTO_QUCB_ABOVE = 4
#: a warm-started search takes EI's incumbent from its own results once this many succeeded
WARM_INCUMBENT_AFTER = 3


def default_n_initial(d: int) -> int:
    """Default size of the initial design for ``d`` dimensions."""
    return max(5, min(d + 3, 10))


class AMBS(SurrogateFitting, CandidateScoring, VectorResults, Search):
    """Asynchronous model-based search: Bayesian optimisation over int, float and categorical
    dimensions, safe to call with several evaluations pending.

    Each proposal (after the starting points and a space-filling initial design) fits a
    surrogate of the objective to the results told so far — failures count as the worst value
    seen, so AMBS learns to avoid failing regions —, accounts for pending evaluations, and
    maximises an acquisition function over the space. It never proposes a configuration that was
    evaluated or is pending while unseen ones remain.

    ===================  =========================================================================
    part                 choices (setting)
    ===================  =========================================================================
    initial design       ``sobol`` (default), ``lhs``, ``random`` (``initial_design``,
                         ``n_initial``)
    surrogate            ``auto`` (default: Matern-5/2 ARD GP; beyond ``gp_max_points`` results
                         a GP on the best/recent/random subset), ``gp`` (always exact), ``et``,
                         ``rf``, or a scikit-learn regressor instance (``surrogate``)
    acquisition          ``ei`` (log-EI, default), ``ucb`` (``kappa``, ``kappa_decay``,
                         ``kappa_min``), ``pi`` (``xi``) or an ``Acquisition`` instance
    acquisition search   random candidates + perturbations of the best points, refined by
                         L-BFGS-B on floats and integer/categorical moves (``n_candidates``,
                         ``n_local``)
    pending points       ``cl_min`` / ``cl_mean`` / ``cl_max`` constant liar, ``qucb``;
                         ``auto``: ``cl_min`` with GPs (``qucb`` past 4 pending),
                         ``qucb`` otherwise (``pending``)
    stopped trainings    ``rank`` (default): below the worst full training, ordered by the step
                         reached then the value; ``last``: as full ones; ``drop``: ignored
                         (``stopped``)
    several objectives   each proposal draws random simplex weights and models the augmented
                         Chebyshev scalarization of the min-max normalized objectives
                         (ParEGO-style; ``mo_scalarization``, ``mo_normalize``)
    constraints          one surrogate per constraint; log P(feasible) is added to the (log)
                         acquisition; the incumbent is the best feasible result
    end of the budget    with a known budget (the driver calls :meth:`set_budget` with
                         ``max_evals``), the last ``final_exploit`` (10 %) of the proposals
                         maximise UCB with ``final_kappa`` over neighbours of the best points
    ===================  =========================================================================

    See :class:`~hyperfleet.search.ambs.settings.AMBSSettings` for every setting and its default.

    Args:
        problem: the search space.
        seed: seed for reproducible sequences (one worker, same results -> same configurations).
        settings: any field of :class:`AMBSSettings`, by keyword; strings are converted
            (``kappa="2.5"``).

    Raises:
        ValueError: naming the setting, for an unknown setting or a bad value.

    Examples:
        >>> from hyperfleet import HpProblem
        >>> from hyperfleet.search.ambs import AMBS
        >>> p = HpProblem(); _ = p.add_dim('x', (-2.0, 2.0)); _ = p.add_dim('k', ['a', 'b'])
        >>> search = AMBS(p, seed=0, acquisition='ucb', kappa=1.0)
        >>> for _ in range(8):
        ...     [c] = search.ask(1)
        ...     search.tell([(c, -c['x'] ** 2 + (c['k'] == 'b'))])
    """

    def __init__(self, problem: HpProblem, seed: int | None = None, **settings: Any) -> None:
        self.settings = AMBSSettings.from_kwargs(**settings)
        s = self.settings
        super().__init__(problem, seed, wait_for_starting_points=s.wait_for_starting_points)
        self.encoder = Encoder(problem)
        self.n_initial = s.n_initial if s.n_initial is not None else default_n_initial(len(problem))
        self._design = make_initial_design(s.initial_design)
        self._design_queue: list | None = None
        acquisition = s.acquisition
        if acquisition == "auto":
            # a grid / all-categorical space: UCB explores its levels better than EI (measured
            # on tables of real trainings, benchmarks/RESULTS.md "grid"); EI on the others
            acquisition = "ucb" if math.isfinite(self.encoder.cardinality) else "ei"
        self._base_acquisition = make_acquisition(acquisition, s.kappa, s.xi)
        self._surrogate_spec = s.surrogate
        cheap = isinstance(s.surrogate, str) and s.surrogate in ("auto", "gp")
        self._pending_strategy = make_pending(s.pending, cheap)
        # With many evaluations running (hundreds of workers), conditioning the GP on every one of
        # them costs more than the workers can wait: ``auto`` then switches to qUCB, which needs no refit.
        self._many_pending = make_pending("qucb") if s.pending == "auto" else None
        self._batch = BatchProposer(s.batch_above, s.batch_refit)
        self.optimizer = AcquisitionOptimizer(self.encoder, s.n_candidates, s.n_local, self.rng)
        self._U = np.empty((64, self.encoder.d))
        self._y = np.empty(64)
        self._step = np.zeros(64, dtype=np.int64)
        self._warm = np.zeros(64, dtype=bool)  # rows told by tell_warm_start
        self._n = 0
        self._seen: set = set()
        self._model: Surrogate | None = None
        self._model_n = -1
        self._gp: GaussianProcess | None = None
        self._gp_opt_n = 0
        self._gp_old: GaussianProcess | None = None  # a warm start's model of the warm rows
        self._gp_old_y: np.ndarray | None = None  # the warm targets it was fitted to
        self._tree_fit_n = 0
        self._budget = s.budget
        # several objectives / constraints: told vectors (to maximize) and constraint values
        self._Y: np.ndarray | None = None
        self._C: np.ndarray | None = None
        self._weights: np.ndarray | None = None
        self._weights_version = 0
        self._model_version = -1
        self._feasibility: Feasibility | None = None
        self._grid: tuple | None = None  # every configuration of a small finite space, and keys

    def set_budget(self, max_evals: int | None) -> None:
        """The number of evaluations this search will get in all (the driver calls it with
        ``max_evals``); its last ``final_exploit`` fraction refines the best results."""
        self._budget = None if max_evals is None else int(max_evals)

    def _in_final_phase(self, extra: int = 0) -> bool:
        """Whether the next proposal (``extra`` more already chosen in this call) falls in the
        final, exploiting part of a known budget."""
        s = self.settings
        if self._budget is None or s.final_exploit <= 0:
            return False
        final = int(math.ceil(s.final_exploit * self._budget))
        done = len(self.history) - self.n_warm + len(self.pending) + extra
        return done >= self._budget - final

    # ----- bookkeeping -------------------------------------------------------------------
    _telling_warm = False

    def tell_warm_start(self, results) -> None:
        """Tell an earlier search's results (see :meth:`Search.tell_warm_start`). The surrogate
        marks them: the GP gives them an extra noise variance it fits (the more new results
        contradict them, the larger), tree surrogates a lower sample weight; and once
        :data:`WARM_INCUMBENT_AFTER` new results succeeded, EI's incumbent is the best new one."""
        self._telling_warm = True
        try:
            super().tell_warm_start(results)
        finally:
            self._telling_warm = False

    def _warm_rows(self) -> np.ndarray | None:
        """Which rows of :meth:`_training_data` are warm-start results (None: none are)."""
        warm = self._warm[:self._n]
        if not warm.any():
            return None
        step = self._step[:self._n]
        if self.settings.stopped == "drop" and step.any():
            warm = warm[step == 0]
        return warm

    def _n_new_success(self) -> int:
        ok = ~np.isnan(self._y[:self._n]) & ~self._warm[:self._n]
        return int(np.count_nonzero(ok))

    def _tell(self, results: list) -> None:
        if not results:
            return
        U = self.encoder.encode([c for c, _, _ in results])
        while self._n + len(results) > len(self._U):
            self._U = np.vstack([self._U, np.empty_like(self._U)])
            self._y = np.concatenate([self._y, np.empty_like(self._y)])
            self._step = np.concatenate([self._step, np.zeros_like(self._step)])
            self._warm = np.concatenate([self._warm, np.zeros_like(self._warm)])
        rows = slice(self._n, self._n + len(results))
        self._U[rows] = U
        self._warm[rows] = self._telling_warm
        # an Outcome's scalar target depends on the weights of each proposal: 0 marks a success
        self._y[rows] = [np.nan if y is None else 0.0 if isinstance(y, Outcome) else y
                         for _, y, _ in results]
        # 0: trained to the end (or failed); k > 0: stopped early at step k
        self._step[rows] = [0 if step is None or y is None else step for _, y, step in results]
        if any(isinstance(y, Outcome) for _, y, _ in results) or self._Y is not None:
            self._tell_vectors(rows, results)
        self._n += len(results)
        for config, _, _ in results:
            self._seen.add(self.problem.key(config))

    def _training_data(self) -> tuple[np.ndarray, np.ndarray]:
        """Told vectors and objectives as the surrogate sees them: stopped trainings per the
        ``stopped`` setting, failures replaced by the worst value."""
        U, y = self._U[:self._n], self._y[:self._n].copy()
        if self._vector_mode:
            y = self._scalarized()
        step = self._step[:self._n]
        if step.any():
            U, y = stopped_as(self.settings.stopped, U, y, step)
        ok = ~np.isnan(y)
        if ok.any():
            y[~ok] = y[ok].min()
        return U, y

    @property
    def _n_success(self) -> int:
        return int(np.count_nonzero(~np.isnan(self._y[:self._n])))

    # ----- proposals -----------------------------------------------------------------------
    def _ask(self, n: int) -> list[dict]:
        seen = self._seen | set(self.pending)
        out: list[dict] = []
        if self._design_queue is None:
            # the initial design tops up what was already asked (starting points, results
            # told before the first ask) to n_initial configurations
            n_design = max(0, self.n_initial - len(self.history) - len(self.pending)
                           - len(self._starting_queue) - len(out))
            U = self._design.generate(n_design, self.encoder.d, self.rng)
            self._design_queue = list(self.encoder.snap(U)) if len(U) else []
        while self._design_queue and len(out) < n:
            config = self.encoder.decode(self._design_queue.pop(0))
            key = self.problem.key(config)
            if key in seen or self.problem.is_forbidden(config):
                config = self._random_unseen(seen)
                key = self.problem.key(config)
            seen.add(key)
            out.append(config)
        if len(out) < n:
            if self._n_success < 2:
                # one draw for the whole batch: the same numbers as one draw per point
                U = self.encoder.snap(self.rng.random((n - len(out), self.encoder.d)))
                for u in U:
                    config = self.encoder.decode(u)
                    key = self.problem.key(config)
                    if key in seen:
                        config = self._random_unseen(seen)
                        key = self.problem.key(config)
                    seen.add(key)
                    out.append(config)
            else:
                out.extend(self._propose(n - len(out), seen, out))
        return out

    def _current_acquisition(self) -> Acquisition:
        s = self.settings
        acq = self._base_acquisition
        if isinstance(acq, UpperConfidenceBound) and s.kappa_decay < 1:
            return UpperConfidenceBound(scheduled_kappa(s.kappa, s.kappa_decay, s.kappa_min,
                                                        self._n, self.n_initial))
        return acq

    def _propose(self, q: int, seen: set, chosen: list) -> list[dict]:
        if not self._vector_mode:
            return self._propose_batch(q, seen, chosen)
        # several objectives: new random weights for each (group of) proposals
        out: list[dict] = []
        groups = min(q, 8)
        for g in range(groups):
            size = q // groups + (1 if g < q % groups else 0)
            self._new_weights()
            out.extend(self._propose_batch(size, seen, list(chosen) + out))
        return out

    def _propose_batch(self, q: int, seen: set, chosen: list) -> list[dict]:
        s = self.settings
        n_pending = len(self.pending) + len(chosen)
        strategy = self._pending_strategy
        # the points of this batch will be pending too: a large batch is a many-pending proposal
        if self._many_pending is not None and n_pending + q > AUTO_QUCB_ABOVE:
            strategy = self._many_pending
        if isinstance(strategy, QUCB) and self._batch.applies(n_pending + q):
            return self._batch.propose(self, q, seen, chosen)
        model = self._surrogate()
        U_told, y_told = self._training_data()
        y_mean = float(y_told.mean())
        scale = float(y_told.std()) or 1.0
        feasible = self._feasible_rows()
        feasibility = self._feasibility_model() if feasible is not None else None
        if feasible is not None and feasible.any():
            y_inc = np.where(feasible, y_told, -np.inf)  # the incumbent is a feasible result
        else:
            y_inc = y_told
        top = np.argsort(-y_inc, kind="stable")[:5]
        anchors = U_told[top]
        warm = self._warm_rows()
        if warm is not None and self._n_new_success() >= WARM_INCUMBENT_AFTER:
            # a warm start: the earlier search's best may not hold on this problem; the
            # incumbent is the best new result once there are a few
            y_inc = np.where(warm, -np.inf, y_inc)
        best_s = (float(y_inc.max()) - y_mean) / scale
        if s.incumbent == "model":
            # the best posterior mean at an evaluated point: robust to noise and to ripples the
            # model smooths over
            top = np.argsort(-y_inc, kind="stable")[:100]
            top = top[np.isfinite(y_inc[top])]
            if feasible is not None and feasible.any():
                top = top[feasible[top]]
            F_top = self.encoder.features(U_told[top], snapped=True)
            mu = model.predict(F_top, return_std=False) if isinstance(model, GaussianProcess) \
                else model.predict(F_top)[0]
            best_s = (float(np.max(mu)) - y_mean) / scale
        pending_U = self.encoder.encode(list(self.pending.values()) + list(chosen))
        if not strategy.penalize and len(pending_U):
            model = strategy.fantasize(model, self.encoder.features(pending_U, snapped=True), y_told)
        base = self._current_acquisition()
        kappa = getattr(base, "kappa", s.kappa)
        # keep large batches affordable: fewer candidates per point
        n_cand = s.n_candidates if q <= 2 else max(128, s.n_candidates // q * 2)
        n_local = s.n_local if q <= 2 else max(1, min(s.n_local, 2))
        out = []
        for _ in range(q):
            local = self._in_final_phase(len(chosen) + len(out))
            acq = UpperConfidenceBound(s.final_kappa) if local else \
                strategy.acquisition(base, kappa, self.rng)
            penalty_F = (self.encoder.features(pending_U, snapped=True)
                         if strategy.penalize and len(pending_U) else None)
            score = self._scorer(model, acq, y_mean, scale, best_s, penalty_F, feasibility)
            has_grad = hasattr(model, "predict_grad") and (feasibility is None or feasibility.has_grad)
            U_sorted = self._score_every_unseen(score, seen)
            if U_sorted is None:
                U_sorted, _ = self.optimizer.optimize(score, anchors, has_grad, n_cand, n_local,
                                                      quick=q > 4, local_only=local)
            config, u = self._first_unseen(U_sorted, seen, score)
            seen.add(self.problem.key(config))
            out.append(config)
            pending_U = np.vstack([pending_U, u[None, :]]) if len(pending_U) else u[None, :]
            if not strategy.penalize:
                model = strategy.fantasize(model, self.encoder.features(u[None, :], snapped=True),
                                           y_told)
        return out



__all__ = [
    "AMBS",
    "AMBSSettings",
    "ExpectedImprovement",
    "ProbabilityOfImprovement",
    "UpperConfidenceBound",
    "default_n_initial",
]
