"""``results.csv`` and ``results.json``: exports of the store, written as the search runs."""

from __future__ import annotations

import csv
import json
import os
import tempfile
from pathlib import Path
from typing import Iterable, Optional

from hyperfleet.files import create_file, file_mode
from hyperfleet.problem import HpProblem
from hyperfleet.store.records import EvaluationRecord

CSV_NAME = "results.csv"
JSON_NAME = "results.json"


def csv_header(problem: HpProblem) -> list[str]:
    """Hyperparameters in problem order, then ``objective``, then ``elapsed_sec``."""
    return [*problem.names, "objective", "elapsed_sec"]


def csv_row(problem: HpProblem, record: EvaluationRecord, search_start: float) -> list:
    values = [_cell(record.config.get(name)) for name in problem.names]
    objective = "" if record.objective is None else repr(float(record.objective))
    end = record.end_time if record.end_time is not None else search_start
    return [*values, objective, f"{end - search_start:.3f}"]


def _cell(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return repr(value)
    return json.dumps(value)


class ResultsCsv:
    """Appends one row per finished evaluation, in the order they finish.

    A failed evaluation has an empty objective.
    """

    def __init__(self, folder: str | os.PathLike, problem: HpProblem, search_start: float) -> None:
        self.path = Path(folder) / CSV_NAME
        self.problem = problem
        self.search_start = search_start
        if not self.path.exists() or self.path.stat().st_size == 0:
            create_file(self.path)
            with open(self.path, "w", newline="") as f:
                csv.writer(f).writerow(csv_header(problem))

    def catch_up(self, finished: list[EvaluationRecord]) -> int:
        """After a crash: drop a half-written last line, then append the evaluations the store
        has finished beyond the rows already there (``finished`` in the order they finished).
        Rows already written are never rewritten or reordered. Returns the rows appended."""
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            with open(self.path, "r+b") as f:
                f.truncate(data.rfind(b"\n") + 1)
        with open(self.path, newline="") as f:
            rows = sum(1 for _ in csv.reader(f)) - 1
        missing = finished[max(rows, 0):]
        self.append(missing)
        return len(missing)

    def append(self, records: Iterable[EvaluationRecord]) -> None:
        with open(self.path, "a", newline="") as f:
            writer = csv.writer(f)
            for record in records:
                writer.writerow(csv_row(self.problem, record, self.search_start))
            f.flush()


def write_results_json(folder: str | os.PathLike, records: Iterable[EvaluationRecord],
                       search_info: Optional[dict] = None) -> Path:
    """Atomically rewrite ``results.json`` with full records of finished evaluations."""
    path = Path(folder) / JSON_NAME
    data = {"search": search_info or {}, "evaluations": [r.to_json() for r in records]}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".results.", suffix=".json")
    os.fchmod(fd, file_mode())
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1, default=repr)
    os.replace(tmp, path)
    return path
