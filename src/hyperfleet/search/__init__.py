"""Search algorithms: what to try next (``ask``) and learning from results (``tell``)."""

from hyperfleet.search.base import Search
from hyperfleet.search.random_search import RandomSearch

__all__ = ["Search", "RandomSearch", "make_search", "SEARCHES"]

SEARCHES = ("random", "ambs")


def make_search(name: str, problem, seed=None, **settings) -> Search:
    """Build a search by name (``random`` or ``ambs``)."""
    if name == "random":
        if settings:
            raise ValueError(f"random search takes no settings, got {sorted(settings)}")
        return RandomSearch(problem, seed=seed)
    if name == "ambs":
        from hyperfleet.search.ambs import AMBS

        return AMBS(problem, seed=seed, **settings)
    raise ValueError(f"unknown search {name!r}; choose one of {', '.join(SEARCHES)}")
