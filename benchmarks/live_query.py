"""The dashboard's live query (evaluations finished since the page last asked) on a search of
N finished evaluations, with and without the (search_id, end_time, number) index of schema
version 8. The store is built by ``hyperfleet.testing.synthetic_store``; the "without" case
drops that index from the same store.

    python benchmarks/live_query.py [--n 100000] [--repeat 50]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from hyperfleet.dashboard.queries import live
from hyperfleet.store import SqlStore
from hyperfleet.testing.synthetic_store import fill_search


def timed(store, search, since, repeat) -> tuple[float, int]:
    times, rows = [], 0
    for _ in range(repeat):
        t = time.perf_counter()
        rows = len(live(store, search, since=since)["rows"])
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        store = SqlStore(Path(work) / "hf.db")
        search = store.get_search(fill_search(store, args.n))
        ends = sorted(e.end_time for e in store.list_evaluations(search.id) if e.end_time)
        cases = {"the last 10 finished": ends[-10], "the last 1,000": ends[-1000], "all": 0.0}
        rows = []
        for with_index in (True, False):
            if not with_index:
                with store.engine.begin() as conn:
                    conn.exec_driver_sql("DROP INDEX ix_evaluations_search_end")
            for name, since in cases.items():
                ms, n = timed(store, search, since, args.repeat)
                rows.append((with_index, name, n, ms))
        store.close()
    print(f"\n### The dashboard's live query, {args.n:,} finished evaluations (median of {args.repeat})\n")
    print("| rows asked for | rows returned | with the end-time index (ms) | without (ms) |")
    print("|---|---|---|---|")
    for name in cases:
        w = next(r for r in rows if r[0] and r[1] == name)
        wo = next(r for r in rows if not r[0] and r[1] == name)
        print(f"| {name} | {w[2]:,} | {w[3]:.2f} | {wo[3]:.2f} |")


if __name__ == "__main__":
    main()
