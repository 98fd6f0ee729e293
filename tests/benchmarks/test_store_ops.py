"""benchmarks/store_ops.py: it measures what it says on a real store, and leaves every row ended."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hyperfleet.store import EvaluationState, SqlStore

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import store_ops  # noqa: E402


def test_measure_reserves_and_ends_every_evaluation(tmp_path):
    store = SqlStore(tmp_path / "ops.db")
    try:
        rows = store_ops.measure(store, 40)
        [search] = store.list_searches()
        evals = store.list_evaluations(search.id)
    finally:
        store.close()
    assert [count for count, *_ in rows] == [20, 40, 60, 80]
    assert all(t > 0 for _, *times in rows for t in times)
    assert len(evals) == 80 and sorted(e.number for e in evals) == list(range(80))
    # every row but the last one reserved in the combined transaction has been ended
    assert sum(e.state == EvaluationState.DONE for e in evals) == 79


def test_the_command_prints_its_table():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "store_ops.py"), "--evals", "8"],
                         capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[0].startswith("| evaluations in the search | reserve (ms)")
    assert len(out.splitlines()) == 6


def test_bad_input_gets_one_line(tmp_path):
    script = str(ROOT / "benchmarks" / "store_ops.py")
    for args, rc, expected in ((["--store", str(tmp_path / "no" / "such" / "folder.db")], 1, "does not exist"),
                               (["--evals", "2"], 2, "--evals must be at least 4")):
        run = subprocess.run([sys.executable, script, *args], capture_output=True, text=True)
        assert run.returncode == rc
        assert expected in run.stderr and "Traceback" not in run.stderr, run.stderr
