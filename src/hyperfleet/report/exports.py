"""``results.csv`` and ``results.json``: exports of the store, written as the search runs."""

from __future__ import annotations

import contextlib
import csv
import fcntl
import json
import os
import tempfile
from pathlib import Path
from typing import Callable, Iterable, Optional

from hyperfleet.files import create_file, file_mode
from hyperfleet.problem import HpProblem
from hyperfleet.store.records import EvaluationRecord, EvaluationState

CSV_NAME = "results.csv"
JSON_NAME = "results.json"


def csv_header(problem: HpProblem) -> list[str]:
    """Hyperparameters in problem order, then the constraints, then one column per objective
    (``objective`` when none is declared), then ``elapsed_sec``: the last objective stays the
    second-to-last column."""
    return [*problem.names, *problem.constraints, *problem.objective_names, "elapsed_sec"]


def csv_row(problem: HpProblem, record: EvaluationRecord, search_start: float,
            clock: Optional[Callable[[float], float]] = None) -> list:
    """One row; ``elapsed_sec`` is ``clock(end_time)`` (active seconds, see
    :class:`~hyperfleet.active_time.ActiveClock`) or seconds since ``search_start``."""
    # an inactive hyperparameter (its condition does not hold) is absent: an empty cell
    values = [_cell(record.config[name]) if name in record.config else "" for name in problem.names]
    k, m = len(problem.objective_names), len(problem.constraints)
    if record.objectives is not None and len(record.objectives) == k:
        objectives = [repr(float(v)) for v in record.objectives]
    else:  # one objective, or a failure / a training stopped early (its last value, first column)
        objectives = ["" if record.objective is None else repr(float(record.objective))] + [""] * (k - 1)
    constraints = [repr(float(v)) for v in record.constraints] \
        if record.constraints is not None and len(record.constraints) == m else [""] * m
    end = record.end_time if record.end_time is not None else search_start
    elapsed = clock(end) if clock is not None else end - search_start
    return [*values, *constraints, *objectives, f"{elapsed:.3f}"]


def _cell(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return repr(value)
    return json.dumps(value)


def curves_of(reports: Iterable) -> dict:
    """``{eval_id: [[step, value], ...]}`` from :class:`~hyperfleet.store.ReportRecord` rows."""
    curves: dict = {}
    for r in reports:
        curves.setdefault(r.evaluation_id, []).append([r.step, r.value])
    return curves


ROW_STATES = (EvaluationState.DONE, EvaluationState.STOPPED, EvaluationState.FAILED, EvaluationState.TIMEOUT)
IDS_NAME = ".results.csv.ids"
LOCK_NAME = ".results.csv.lock"


class ResultsCsv:
    """Appends one row per finished evaluation (DONE, STOPPED, FAILED or TIMEOUT, not CANCELLED),
    in the order they finish; a failed evaluation has an empty objective, one stopped early
    (STOPPED) the last value it reported.

    Which evaluation each row is stays in a hidden file beside it, ``.results.csv.ids`` (line i
    holds the id of row i), so that after a crash the rows the store has but the CSV lacks are
    found by id, whatever order evaluations finished in. ``clock`` maps an end time to
    ``elapsed_sec`` (default: seconds since ``search_start``). The id goes to that file *before* its
    row goes to the CSV: a crash in between leaves an id without a row, which :meth:`catch_up` drops.

    ``shared``: several drivers of one search write the same file, each its own rows; every write
    then holds a lock on ``.results.csv.lock`` (``flock``), so that rows and ids stay in step.

    Both files stay open for appending between writes (opening them costs more than writing a
    row); they are reopened when a catch-up replaced them (here, or in another driver when
    shared), and closed by :meth:`close`.
    """

    def __init__(self, folder: str | os.PathLike, problem: HpProblem, search_start: float,
                 clock: Optional[Callable[[float], float]] = None, shared: bool = False) -> None:
        self.path = Path(folder) / CSV_NAME
        self.ids_path = Path(folder) / IDS_NAME
        self.lock_path = Path(folder) / LOCK_NAME if shared else None
        self.problem = problem
        self.search_start = search_start
        self._written: Optional[set[str]] = None
        self.clock = clock
        self._ids_offset = None
        self._handles: Optional[tuple] = None  # (ids file, csv file), open for appending
        self._opened: tuple = ()  # their (device, inode)
        self._lock_fd: Optional[int] = None
        with self._locked():
            self._create()

    @contextlib.contextmanager
    def _locked(self):
        """Hold the lock of the files while writing them (only when shared by several drivers)."""
        if self.lock_path is None:
            yield
            return
        if self._lock_fd is None:
            self._lock_fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, file_mode())
            os.fchmod(self._lock_fd, file_mode())  # whatever the umask, as every file of the search
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _open_handles(self, ids_stat: Optional[os.stat_result] = None) -> tuple:
        """The files open for appending; reopened when one was replaced or removed meanwhile
        (checked only when shared: alone, this object is the only one rewriting them).
        ``ids_stat``: the ids file's ``os.stat`` when the caller has just taken it (one system
        call fewer: on the driver's thread each one may hand the GIL to an evaluation thread)."""
        if self._handles is not None and self.lock_path is not None:
            now = (_identity(ids_stat) if ids_stat is not None else _identity(_stat(self.ids_path)),
                   _identity(_stat(self.path)))
            if now != self._opened:
                self._close_handles()
        if self._handles is None:
            self._handles = (open(self.ids_path, "a"), open(self.path, "a", newline=""))
            self._opened = tuple(_identity(os.fstat(f.fileno())) for f in self._handles)
        return self._handles

    def _close_handles(self) -> None:
        handles, self._handles = self._handles, None
        for f in handles or ():
            f.close()

    def close(self) -> None:
        """Close the files (appending again reopens them)."""
        self._close_handles()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _create(self) -> None:
        self._close_handles()
        if not self.path.exists() or self.path.stat().st_size == 0:
            create_file(self.path)
            with open(self.path, "w", newline="") as f:
                csv.writer(f).writerow(csv_header(self.problem))
            create_file(self.ids_path)
            self.ids_path.write_text("")  # a stale ids file of a CSV that is gone
            self._written = set()

    def catch_up(self, finished: Iterable[EvaluationRecord]) -> int:
        """After a crash: repair the files, then append a row for every evaluation of ``finished``
        that has none. Rows already written are never rewritten or reordered. Returns the rows appended."""
        with self._locked():
            self._close_handles()  # the files may be rewritten
            appended = self._catch_up(list(finished))
            self._ids_offset: Optional[int] = self.ids_path.stat().st_size  # every id is in _written now
            return appended

    def _catch_up(self, finished: list[EvaluationRecord]) -> int:
        ids = self._repair(finished)
        self._written = set(ids)
        missing = sorted((r for r in finished if r.state in ROW_STATES and r.id not in self._written),
                         key=lambda r: (r.end_time or 0, r.number))
        self._append(missing)
        return len(missing)

    def append(self, records: Iterable[EvaluationRecord]) -> None:
        """Append rows for the finished evaluations of ``records`` that have none yet."""
        if self.lock_path is None:
            self._append(records)
            return
        with self._locked():
            ids_stat = self._read_new_ids()  # the other drivers' rows, and ours if one of them caught up with us
            self._append(records, ids_stat)

    def _read_new_ids(self) -> Optional[os.stat_result]:
        """Add the ids other writers appended since this one last looked (read from where it
        stopped); return the ids file's ``os.stat`` (None: there is none)."""
        stat = _stat(self.ids_path)
        size = stat.st_size if stat is not None else 0
        offset = self._ids_offset
        if self._written is None or offset is None or size < offset:
            self._written = set(self._read_ids())
        elif size > offset:
            with open(self.ids_path, "rb") as f:
                f.seek(offset)
                self._written.update(line for line in f.read().decode().splitlines() if line)
        self._ids_offset = size
        return stat

    def _append(self, records: Iterable[EvaluationRecord], ids_stat: Optional[os.stat_result] = None) -> None:
        if self._written is None:
            self._written = set(self._read_ids())
        todo = [r for r in records if r.state in ROW_STATES and r.id not in self._written]
        if not todo:
            return
        ids_file, csv_file = self._open_handles(ids_stat)
        ids_file.write("".join(f"{r.id}\n" for r in todo))
        ids_file.flush()
        if self.lock_path is not None:
            self._ids_offset = ids_file.tell()
        csv.writer(csv_file).writerows(csv_row(self.problem, record, self.search_start, self.clock)
                                       for record in todo)
        csv_file.flush()
        self._written.update(r.id for r in todo)

    def reheader(self) -> None:
        """Rewrite the header after the problem's objectives were learnt from a first result
        (nothing declared, several values returned): earlier rows (failures) get empty cells."""
        self._close_handles()
        with open(self.path, newline="") as f:
            rows = list(csv.reader(f))
        extra = len(csv_header(self.problem)) - len(rows[0])
        if extra > 0:
            self._rewrite_rows([[*row[:-1], *[""] * extra, row[-1]] for row in rows[1:]])

    # ----- after a crash -------------------------------------------------------------------
    def _repair(self, finished: list[EvaluationRecord]) -> list[str]:
        """Drop half-written lines and ids without rows; return the id of each row."""
        _drop_partial_line(self.path)
        with open(self.path, newline="") as f:
            rows = list(csv.reader(f))[1:]
        if not self.ids_path.exists():  # a CSV written by a hyperfleet without the ids file
            ids = self._ids_by_content(rows, finished)
            create_file(self.ids_path)
            self.ids_path.write_text("".join(f"{i}\n" for i in ids))
            return ids
        _drop_partial_line(self.ids_path)
        ids = self._read_ids()
        if len(ids) > len(rows):  # the crash came between the ids file and the CSV
            ids = ids[:len(rows)]
            self.ids_path.write_text("".join(f"{i}\n" for i in ids))
        elif len(rows) > len(ids):  # cannot happen with the write order above; keep what is known
            self._rewrite_rows(rows[:len(ids)])
        return ids

    def _read_ids(self) -> list[str]:
        if not self.ids_path.exists():
            return []
        return [line for line in self.ids_path.read_text().splitlines() if line]

    def _ids_by_content(self, rows: list[list[str]], finished: list[EvaluationRecord]) -> list[str]:
        by_row: dict[tuple, list[str]] = {}
        for record in sorted(finished, key=lambda r: (r.end_time or 0, r.number)):
            key = tuple(csv_row(self.problem, record, self.search_start))
            by_row.setdefault(key, []).append(record.id)
        ids = []
        for n, row in enumerate(rows):
            matches = by_row.get(tuple(row))
            ids.append(matches.pop(0) if matches else f"?row-{n}")  # a row no evaluation explains
        return ids

    def _rewrite_rows(self, rows: list[list[str]]) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".results.", suffix=".csv")
        with os.fdopen(fd, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(csv_header(self.problem))
            writer.writerows(rows)
        os.chmod(tmp, self.path.stat().st_mode & 0o777)
        os.replace(tmp, self.path)


def _stat(path: Path) -> Optional[os.stat_result]:
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None


def _identity(stat: Optional[os.stat_result]) -> Optional[tuple[int, int]]:
    return None if stat is None else (stat.st_dev, stat.st_ino)


def _drop_partial_line(path: Path) -> None:
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with open(path, "r+b") as f:
            f.truncate(data.rfind(b"\n") + 1)


def write_results_json(folder: str | os.PathLike, records: Iterable[EvaluationRecord],
                       search_info: Optional[dict] = None, curves: Optional[dict] = None) -> Path:
    """Atomically rewrite ``results.json`` with full records of finished evaluations.

    ``curves``: ``{eval_id: [[step, value], ...]}``, the intermediate values each evaluation
    reported (its learning curve), written as the record's ``curve`` (absent without reports).
    """
    path = Path(folder) / JSON_NAME
    curves = curves or {}
    rows = [json.dumps({**r.to_json(), **({"curve": curves[r.id]} if r.id in curves else {})},
                       default=repr) for r in records]
    # one evaluation per line, each encoded by json's C encoder (``indent`` would make json use
    # its pure-Python one, several times slower at many thousand rows)
    text = ('{"search": ' + json.dumps(search_info or {}, default=repr) + ',\n"evaluations": [\n'
            + ",\n".join(rows) + ("\n" if rows else "") + "]}\n")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".results.", suffix=".json")
    os.fchmod(fd, file_mode())
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return path
