"""Space-filling initial designs in the unit cube."""

from __future__ import annotations

import warnings

import numpy as np


class InitialDesign:
    """Base class: ``generate(n, d, rng) -> (n, d)`` array of points in the unit cube."""

    name = "base"

    def generate(self, n: int, d: int, rng: np.random.Generator) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError


class SobolDesign(InitialDesign):
    """The first ``n`` points of a scrambled Sobol sequence."""

    name = "sobol"

    def generate(self, n, d, rng):
        from scipy.stats import qmc

        if n <= 0:
            return np.empty((0, d))
        sampler = qmc.Sobol(d, scramble=True, seed=rng)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # balance warning for n not a power of two
            return sampler.random(n)


class LatinHypercubeDesign(InitialDesign):
    """A Latin hypercube of ``n`` points (optimised for low discrepancy)."""

    name = "lhs"

    def generate(self, n, d, rng):
        from scipy.stats import qmc

        if n <= 0:
            return np.empty((0, d))
        return qmc.LatinHypercube(d, seed=rng).random(n)


class RandomDesign(InitialDesign):
    """Uniform random points."""

    name = "random"

    def generate(self, n, d, rng):
        return rng.random((max(n, 0), d))


def make_initial_design(name) -> InitialDesign:
    """Build a design from its name (``sobol``, ``lhs``, ``random``) or return an instance."""
    if not isinstance(name, str):
        return name
    designs = {"sobol": SobolDesign, "lhs": LatinHypercubeDesign, "random": RandomDesign}
    if name not in designs:
        raise ValueError(f"AMBS setting 'initial_design': unknown design {name!r}; "
                         f"choose {', '.join(designs)}")
    return designs[name]()
