"""Numeric encodings of configurations for the surrogate models and the acquisition optimizer.

A configuration is first the problem's unit-cube vector ``u`` (``problem.to_vector``: one entry
per dimension). The optimizer moves in that space; :meth:`Encoder.snap` maps any ``u`` to the
canonical vector of the configuration it decodes to (integers and categories at the centre of
their bin), and :meth:`Encoder.features` turns it into the model's inputs: floats and integers as
they are, each categorical as a one-hot block scaled by ``1/sqrt(2)`` (so two different choices
are at distance 1). ``Encoder.groups`` maps each feature column to its dimension, so that a GP can
share one lengthscale per dimension.

A one-hot block grows with the number of choices, and every matrix of candidates' features with
it (the acquisition optimizer also tries every other choice of each categorical), which made
memory grow with the square of a categorical's size. A categorical with more than
:data:`ONE_HOT_MAX` choices is therefore encoded as a fixed random embedding instead:
:data:`EMBED_WIDTH` columns, each choice a random unit vector scaled by ``1/sqrt(2)``, so two
different choices are still at distance about 1 (the one-hot geometry, up to a few per cent) and
the features' width is bounded whatever the space.

Conditional spaces (``problem.add_condition``): a dimension that is inactive in a configuration
has no value, and a model must not learn from the one its unit vector happens to hold. Its
entry of ``u`` is set to a fixed canonical value (so one configuration has one vector), and its
features to a constant outside the range: :data:`INACTIVE` for a number, an all-zero block for a
categorical (a "level" of its own at distance ``1/sqrt(2)`` from every choice). This is SMAC's
choice for its random forests (inactive imputed outside the range, so trees split active from
inactive on that column) and works for the GP too (inactive points are far from, but equally
far from, every active value; two inactive points agree exactly). Forbidden configurations get
no features of their own: the acquisition scorer gives them the lowest score.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from hyperfleet.problem import HpProblem

_SQRT_HALF = math.sqrt(0.5)

#: categoricals with more choices than this are embedded instead of one-hot encoded
ONE_HOT_MAX = 64
#: columns of the random embedding of a large categorical
EMBED_WIDTH = 16
#: the feature value of an inactive numeric dimension (active values are in [0, 1])
INACTIVE = -1.0


def _width(dim) -> int:
    if dim.kind != "cat":
        return 1
    return dim.cardinality if dim.cardinality <= ONE_HOT_MAX else EMBED_WIDTH


def _embedding(cardinality: int, salt: int) -> np.ndarray:
    """Random unit vectors (scaled by ``1/sqrt(2)``), one row per choice; fixed for a problem."""
    rng = np.random.default_rng([cardinality, salt, 0x5EED])
    E = rng.normal(size=(cardinality, EMBED_WIDTH))
    E /= np.linalg.norm(E, axis=1, keepdims=True)
    return E * _SQRT_HALF


class Encoder:
    """Vectorised encode/decode helpers for one :class:`~hyperfleet.problem.HpProblem`."""

    def __init__(self, problem: HpProblem) -> None:
        self.problem = problem
        self.dims = list(problem.dims)
        self.d = len(self.dims)
        self.kinds = [d.kind for d in self.dims]
        self.cards = [getattr(d, "cardinality", None) if d.kind != "float" else None for d in self.dims]
        self.float_idx = np.array([i for i, k in enumerate(self.kinds) if k == "float"], dtype=int)
        self.int_idx = np.array([i for i, k in enumerate(self.kinds) if k == "int"], dtype=int)
        self.cat_idx = np.array([i for i, k in enumerate(self.kinds) if k == "cat"], dtype=int)
        #: ordinal dimensions (ordered levels; one numeric feature: the level's unit position)
        self.ord_idx = np.array([i for i, k in enumerate(self.kinds) if k == "ord"], dtype=int)
        widths = [_width(dim) for dim in self.dims]
        self.groups = np.repeat(np.arange(self.d, dtype=int), widths).astype(int)
        self.n_features = int(sum(widths))
        self._offsets = np.concatenate([[0], np.cumsum(widths)]).astype(int)
        #: dimension index -> embedding matrix, for the categoricals past ``ONE_HOT_MAX``
        self.embeddings = {j: _embedding(dim.cardinality, j) for j, dim in enumerate(self.dims)
                           if dim.kind == "cat" and dim.cardinality > ONE_HOT_MAX}
        rules = getattr(problem, "rules", None)
        self.rules = rules if rules else None
        self.conditional = bool(self.rules is not None and self.rules.conditions)
        #: the canonical vector entry of an inactive dimension
        self._inactive_u = problem.to_vector({}) if self.conditional else None

    # ----- discrete values ----------------------------------------------------------------
    def index(self, U: np.ndarray, j: int) -> np.ndarray:
        """Integer value (int dimension) or choice / level index (categorical / ordinal) of
        column ``j``."""
        dim = self.dims[j]
        u = np.clip(U[:, j], 0.0, 1.0)
        if dim.kind == "ord":
            return dim.indices(u)
        if dim.kind == "cat" or (dim.kind == "int" and not dim.log):
            idx = np.minimum(np.floor(u * dim.cardinality), dim.cardinality - 1).astype(np.int64)
            return idx + (int(dim.low) if dim.kind == "int" else 0)
        lo, hi = math.log(dim.low), math.log(dim.high)
        values = np.rint(np.exp(lo + u * (hi - lo)))
        return np.clip(values, dim.low, dim.high).astype(np.int64)

    def unit(self, values: np.ndarray, j: int) -> np.ndarray:
        """Inverse of :meth:`index`: the canonical unit value of integer values / choice indices."""
        dim = self.dims[j]
        if dim.kind == "ord":
            return dim.positions[np.asarray(values, dtype=np.int64)]
        values = np.asarray(values, dtype=float)
        if dim.kind == "cat":
            return (values + 0.5) / dim.cardinality
        if not dim.log:
            return (values - int(dim.low) + 0.5) / dim.cardinality
        lo, hi = math.log(dim.low), math.log(dim.high)
        return (np.log(values) - lo) / (hi - lo)

    def snap(self, U: np.ndarray) -> np.ndarray:
        """Canonical vectors: clip to the cube and move discrete entries to their value's centre."""
        U = np.clip(np.array(U, dtype=float, copy=True), 0.0, 1.0)
        for j in itertools.chain(self.int_idx, self.cat_idx, self.ord_idx):
            U[:, j] = self.unit(self.index(U, j), j)
        if self.conditional:
            A = self.active(U)
            U = np.where(A, U, self._inactive_u[None, :])
        return U

    # ----- conditions and forbidden clauses ------------------------------------------------
    def codes(self, U: np.ndarray) -> dict:
        """Columns of codes (values; choice indices) of unit vectors, as the rules evaluate them."""
        out = {}
        for j, dim in enumerate(self.dims):
            if dim.kind == "float":
                u = np.clip(U[:, j], 0.0, 1.0)
                lo, hi = (math.log(dim.low), math.log(dim.high)) if dim.log else (dim.low, dim.high)
                x = lo * (1.0 - u) + hi * u
                out[dim.name] = np.clip(np.exp(x) if dim.log else x, dim.low, dim.high)
            elif dim.kind == "ord" and dim.numeric:  # numeric levels are compared by value
                out[dim.name] = np.asarray(dim.values, dtype=float)[self.index(U, j)]
            else:
                out[dim.name] = self.index(U, j).astype(float)
        return out

    def active(self, U: np.ndarray) -> np.ndarray:
        """``(n, d)`` booleans: which dimension is active in each vector (all, without conditions)."""
        U = np.asarray(U, dtype=float)
        if not self.conditional:
            return np.ones(U.shape, dtype=bool)
        masks = self.rules.active(self.codes(U), [d.name for d in self.dims], len(U))
        return np.stack([masks[d.name] for d in self.dims], axis=1)

    def forbidden(self, U: np.ndarray) -> np.ndarray:
        """Booleans: which vectors decode to a forbidden configuration."""
        U = np.asarray(U, dtype=float)
        if self.rules is None or not self.rules.forbidden:
            return np.zeros(len(U), dtype=bool)
        codes = self.codes(U)
        masks = self.rules.active(codes, [d.name for d in self.dims], len(U))
        return self.rules.forbidden_mask(codes, masks, len(U))

    # ----- model features ----------------------------------------------------------------
    def features(self, U: np.ndarray, snapped: bool = False) -> np.ndarray:
        """Model inputs of unit vectors ``U`` (shape ``(n, d)`` -> ``(n, n_features)``)."""
        U = np.asarray(U, dtype=float)
        if not snapped:
            U = self.snap(U)
        if len(self.cat_idx) == 0 and not self.conditional:
            return U
        A = self.active(U) if self.conditional else None
        F = np.zeros((U.shape[0], self.n_features))
        for j, dim in enumerate(self.dims):
            start = self._offsets[j]
            if j in self.embeddings:
                F[:, start:start + EMBED_WIDTH] = self.embeddings[j][self.index(U, j)]
            elif dim.kind == "cat":
                idx = self.index(U, j)
                F[np.arange(U.shape[0]), start + idx] = _SQRT_HALF
            else:
                F[:, start] = U[:, j]
            if A is not None and not A[:, j].all():
                off = ~A[:, j]
                F[off, start:self._offsets[j + 1]] = 0.0 if dim.kind == "cat" else INACTIVE
        return F

    def encode(self, configs: list) -> np.ndarray:
        """Canonical unit vectors of configurations."""
        return self.problem.to_array(configs)

    def decode(self, u: np.ndarray) -> dict:
        """The configuration of one unit vector."""
        return self.problem.from_vector(np.clip(u, 0.0, 1.0))

    # ----- finite spaces -----------------------------------------------------------------
    @property
    def cardinality(self) -> float:
        """Number of distinct configurations (``inf`` when a dimension is continuous)."""
        if len(self.float_idx):
            return math.inf
        return float(np.prod([float(c) for c in self.cards]))

    def enumerate_all(self, limit: int = 200_000) -> np.ndarray | None:
        """Canonical vectors of every configuration of a finite space (``None`` when too many)."""
        if self.cardinality > limit:
            return None
        axes = []
        for j, dim in enumerate(self.dims):
            if dim.kind in ("cat", "ord"):
                axes.append(self.unit(np.arange(dim.cardinality), j))
            else:
                values = np.arange(int(dim.low), int(dim.high) + 1)
                axes.append(np.unique(self.unit(values, j)))
        grids = np.meshgrid(*axes, indexing="ij")
        grid = np.stack([g.ravel() for g in grids], axis=1)
        if self.conditional:  # configurations that differ only in inactive values are one
            grid = np.unique(self.snap(grid), axis=0)
        if self.rules is not None and self.rules.forbidden:
            grid = grid[~self.forbidden(grid)]
        return grid
