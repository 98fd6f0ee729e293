"""Search algorithms: what to try next (``ask``) and learning from results (``tell``)."""

from hyperfleet.search.base import Search, parse_bool
from hyperfleet.search.random_search import RandomSearch

__all__ = ["Search", "RandomSearch", "make_search", "SEARCHES"]

SEARCHES = ("random", "ambs")


def make_search(name: str, problem, seed=None, **settings) -> Search:
    """Build a search by name (``random`` or ``ambs``)."""
    if name == "random":
        unknown = sorted(set(settings) - {"wait_for_starting_points"})
        if unknown:
            raise ValueError(f"random search takes only the setting wait_for_starting_points, got {unknown}")
        wait = parse_bool("wait_for_starting_points", settings.get("wait_for_starting_points", False))
        return RandomSearch(problem, seed=seed, wait_for_starting_points=wait)
    if name == "ambs":
        from hyperfleet.search.ambs import AMBS

        return AMBS(problem, seed=seed, **settings)
    raise ValueError(f"unknown search {name!r}; choose one of {', '.join(SEARCHES)}")
