"""Random search: uniform (log-uniform on log ranges) sampling, without repeats while possible."""

from __future__ import annotations

from hyperfleet.search.base import Search


class RandomSearch(Search):
    """Sample configurations at random.

    Avoids proposing a configuration already evaluated or pending while the space has room
    (tries a bounded number of draws, then accepts a repeat).

    Examples:
        >>> from hyperfleet import HpProblem, RandomSearch
        >>> p = HpProblem(); _ = p.add_dim('x', (0.0, 1.0))
        >>> s = RandomSearch(p, seed=0)
        >>> [c] = s.ask(1); s.tell([(c, c['x'])])
    """

    learns_from_results = False

    max_tries = 50

    def _ask(self, n: int) -> list[dict]:
        evaluated, pending = self.evaluated_keys, self.pending
        chosen: set = set()
        out = []
        for _ in range(n):
            for _ in range(self.max_tries):
                config = self.problem.sample(1, self.rng)[0]
                key = self.problem.key(config)
                if key not in evaluated and key not in pending and key not in chosen:
                    break
            chosen.add(key)
            out.append(config)
        return out
