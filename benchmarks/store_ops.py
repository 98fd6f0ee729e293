"""The store's cost per evaluation as a search grows: a reservation and an end per evaluation.

    python benchmarks/store_ops.py [--store URL] [--evals 8000]

For each quarter of ``--evals`` evaluations, the mean time of ``reserve_evaluation`` (with a
budget, as a driver with a drain calls it) and of ``finish_evaluations``, then of
``reserve_evaluations`` doing both in one transaction (what the driver does once per cycle).
SQLite in a temporary folder by default; ``--store`` takes a PostgreSQL URL (a new search is
created in it). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid

from hyperfleet.store import EvaluationState, SqlStore, StoreError
from hyperfleet.store.members import Reservation


def _end(record) -> tuple[str, dict]:
    now = time.time()
    return record.id, dict(state=EvaluationState.DONE, objective=1.0, start_time=now, end_time=now,
                           metadata={}, worker="w", host="h", error=None)


def measure(store: SqlStore, n: int) -> list[tuple[int, float, float, float]]:
    search = store.create_search(f"ops-{uuid.uuid4().hex[:8]}", "/tmp", {}, {})
    rows, quarter = [], max(1, n // 4)
    reserve = finish = combined = 0.0
    previous = None
    for i in range(n):
        t0 = time.perf_counter()
        record, _ = store.reserve_evaluation(search.id, {"i": i}, uuid.uuid4().hex, "d", limit=10 * n)
        t1 = time.perf_counter()
        store.finish_evaluations(search.id, [_end(record)])
        t2 = time.perf_counter()
        [(previous, _)] = store.reserve_evaluations(
            search.id, [Reservation({"j": i}, uuid.uuid4().hex)], "d", limit=10 * n,
            ends=[_end(previous)] if previous is not None else [])
        t3 = time.perf_counter()
        reserve, finish, combined = reserve + t1 - t0, finish + t2 - t1, combined + t3 - t2
        if (i + 1) % quarter == 0:
            rows.append((2 * (i + 1), reserve / quarter * 1e3, finish / quarter * 1e3, combined / quarter * 1e3))
            reserve = finish = combined = 0.0
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=None, help="a store URL (default: a new SQLite file)")
    parser.add_argument("--evals", type=int, default=8000)
    args = parser.parse_args()
    if args.evals < 4:
        parser.error(f"--evals must be at least 4 (one per quarter of the run), got {args.evals}")
    with tempfile.TemporaryDirectory() as work:
        try:
            store = SqlStore(args.store or f"{work}/ops.db")
        except StoreError as err:
            raise SystemExit(f"store_ops.py: {err}") from None
        try:
            rows = measure(store, args.evals)
        finally:
            store.close()
    print("| evaluations in the search | reserve (ms) | end (ms) | end + reserve, one transaction (ms) |")
    print("|---|---|---|---|")
    for count, reserve, finish, combined in rows:
        print(f"| {count:,} | {reserve:.3f} | {finish:.3f} | {combined:.3f} |")


if __name__ == "__main__":
    main()
