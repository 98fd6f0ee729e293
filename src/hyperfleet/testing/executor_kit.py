"""The behaviour every executor must show, as plain check functions.

Each check takes ``make``, a function returning a fresh executor, and a scratch folder; it
raises ``AssertionError`` when the executor misbehaves. ``tests/execute`` runs them against
every executor under pytest, and ``python -m hyperfleet.testing.executor_kit`` runs them under
``mpiexec`` for the MPI executor. A new executor passes them all before it is used.

``crash_needs_isolation``: executors that run evaluations in the driver's own process (serial,
thread) or in ranks whose death ends the job (MPI) survive a crash only with isolation, so the
crash check runs them with ``isolate=True``.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Callable

import hyperfleet.testing.runs as runs_module
from hyperfleet.execute import EvalOutcome, EvalTask, Executor

RUNS = str(Path(runs_module.__file__))
Make = Callable[[], Executor]


def task(run: str, folder: Path, **config) -> EvalTask:
    """A task for the run function ``run`` of :mod:`hyperfleet.testing.runs`."""
    options = {k: config.pop(k) for k in ("timeout", "isolate", "env", "live_reports") if k in config}
    eval_id = f"{run}-{uuid.uuid4().hex[:8]}"
    sub = Path(folder) / eval_id
    sub.mkdir(parents=True)
    config.setdefault("x", 0.25)
    config.setdefault("folder", str(sub))
    return EvalTask(eval_id, RUNS, run, config, str(sub), **options)


def collect(executor: Executor, n: int, limit: float = 60) -> list[EvalOutcome]:
    """Wait for ``n`` outcomes, in the order they arrive."""
    outcomes: list[EvalOutcome] = []
    deadline = time.time() + limit
    while len(outcomes) < n and time.time() < deadline:
        outcomes += executor.wait_any(timeout=max(0.1, min(5, deadline - time.time())))
    assert len(outcomes) >= n, f"only {len(outcomes)} of {n} outcomes after {limit} s"
    return outcomes


def check_results_arrive_as_they_finish(make: Make, folder: Path) -> None:
    ex = make()
    try:
        warm = [task("quadratic", folder, x=0.1) for _ in range(max(1, ex.num_workers))]
        for t in warm:
            ex.submit(t)
        collect(ex, len(warm))
        slow = task("sleeps_and_records_pid", folder, seconds=2.5)
        fast = task("quadratic", folder, x=0.3)
        ex.submit(slow)
        ex.submit(fast)
        first = collect(ex, 1)
        if ex.num_workers > 1:
            assert [o.eval_id for o in first] == [fast.eval_id], "a fast evaluation waited for a slow one"
        rest = collect(ex, 2 - len(first))
        by_id = {o.eval_id: o for o in first + rest}
        assert by_id[fast.eval_id].state == "DONE" and abs(by_id[fast.eval_id].objective - 1.0) < 1e-12
        done = by_id[slow.eval_id]
        assert done.state == "DONE" and done.start_time <= done.end_time and done.worker and done.host
        assert ex.in_flight == 0 and ex.wait_any(timeout=0.1) == []
    finally:
        ex.shutdown()


FAILURES = {
    "fails_above_half": "RuntimeError: diverged at x=0.9",
    "returns_nan": "non-finite objective (nan)",
    "returns_text": "run returned str",
    "returns_dict_without_objective": "without an 'objective' key",
    "exits": "SystemExit: 3",
    "raises_keyboard_interrupt": "KeyboardInterrupt",
    "returns_huge_int": "too large for a float",
}


def check_failures_are_outcomes(make: Make, folder: Path) -> None:
    ex = make()
    try:
        tasks = {run: task(run, folder, x=0.9) for run in FAILURES}
        good = task("returns_dict", folder, x=0.5)
        for t in [*tasks.values(), good]:
            ex.submit(t)
        by_id = {o.eval_id: o for o in collect(ex, len(tasks) + 1)}
        for run, t in tasks.items():
            outcome = by_id[t.eval_id]
            assert outcome.state == "FAILED" and outcome.objective is None, (run, outcome)
            assert FAILURES[run] in outcome.error, (run, outcome.error)
        assert by_id[good.eval_id].objective == 0.5
        assert by_id[good.eval_id].metadata == {"epochs": 3, "loss": [0.5, 0.25]}
        assert "RuntimeError: diverged" in (Path(tasks["fails_above_half"].folder) / "stderr.txt").read_text()
    finally:
        ex.shutdown()


def check_output_goes_to_the_folder(make: Make, folder: Path) -> None:
    ex = make()
    try:
        t = task("chatty", folder, x=0.5)
        ex.submit(t)
        assert collect(ex, 1)[0].state == "DONE"
        assert "stdout line for x=0.5" in (Path(t.folder) / "stdout.txt").read_text()
        assert "stderr line for x=0.5" in (Path(t.folder) / "stderr.txt").read_text()
    finally:
        ex.shutdown()


def check_timeout_kills_and_the_worker_carries_on(make: Make, folder: Path) -> None:
    ex = make()
    try:
        hung = task("sleeps_and_records_pid", folder, seconds=60, timeout=1.5)
        start = time.time()
        ex.submit(hung)
        [outcome] = collect(ex, 1, limit=30)
        assert outcome.state == "TIMEOUT" and "time limit of 1.5 s" in outcome.error
        assert time.time() - start < 20
        _assert_dead(hung)
        after = task("quadratic", folder, x=0.3)
        ex.submit(after)
        assert collect(ex, 1)[0].state == "DONE"
    finally:
        ex.shutdown()


def check_crash_is_a_failure(make: Make, folder: Path, isolate: bool = False) -> None:
    ex = make()
    try:
        crashes = [task("hard_exit", folder, isolate=isolate), task("segfault", folder, isolate=isolate)]
        for t in crashes:
            ex.submit(t)
        by_id = {o.eval_id: o for o in collect(ex, 2)}
        assert by_id[crashes[0].eval_id].state == "FAILED"
        assert by_id[crashes[1].eval_id].state == "FAILED"
        if not by_id[crashes[0].eval_id].error.startswith("the Dask worker"):
            assert "exited with code 7" in by_id[crashes[0].eval_id].error
            assert "about to exit hard" in by_id[crashes[0].eval_id].error
            assert "SIGSEGV" in by_id[crashes[1].eval_id].error
        after = [task("quadratic", folder, x=0.3) for _ in range(2)]
        for t in after:
            ex.submit(t)
        assert all(o.state == "DONE" for o in collect(ex, 2))
    finally:
        ex.shutdown()


def check_cancel(make: Make, folder: Path) -> None:
    ex = make()
    try:
        running = [task("sleeps_and_records_pid", folder, seconds=60, isolate=True)
                   for _ in range(max(1, ex.num_workers))]
        queued = task("quadratic", folder)
        for t in [*running, queued]:
            ex.submit(t)
        _wait_for_pids(running)
        assert ex.cancel(queued.eval_id)
        for t in running:
            assert ex.cancel(t.eval_id)
        assert ex.in_flight == 0
        reported = ex.wait_any(timeout=1.0)
        assert not [o for o in reported if o.eval_id == queued.eval_id]
        for t in running:
            _assert_dead(t, within=15)
        after = task("quadratic", folder, x=0.3)
        ex.submit(after)
        outcomes = [o for o in collect(ex, 1) if o.eval_id == after.eval_id] or collect(ex, 1)
        assert outcomes[0].state == "DONE"
    finally:
        ex.shutdown()


def check_shutdown_leaves_nothing_running(make: Make, folder: Path) -> None:
    ex = make()
    tasks = [task("sleeps_and_records_pid", folder, seconds=60, isolate=True)
             for _ in range(max(1, ex.num_workers))]
    for t in tasks:
        ex.submit(t)
    _wait_for_pids(tasks)
    start = time.time()
    ex.shutdown()
    assert time.time() - start < 30, "shutdown waited for running evaluations"
    for t in tasks:
        _assert_dead(t, within=15)


def check_reports_are_buffered_without_a_stopper(make: Make, folder: Path) -> None:
    """Without ``live_reports`` the values come back with the outcome; nothing is asked."""
    ex = make()
    asked: list = []
    ex.set_report_handler(lambda *report: asked.append(report) or True)
    try:
        tasks = [task("reports_curve", folder, x=0.5), task("reports_curve", folder, x=0.5, isolate=True),
                 task("quadratic", folder, x=0.3)]
        for t in tasks:
            ex.submit(t)
        by_id = {o.eval_id: o for o in collect(ex, len(tasks))}
        for t in tasks[:2]:
            outcome = by_id[t.eval_id]
            assert (outcome.state, outcome.objective, outcome.last_step) == ("DONE", 2.5, 5), outcome
            assert [(s, v) for s, v, _ in outcome.reports] == [(k, 0.5 * k) for k in range(1, 6)]
            assert all(outcome.start_time <= when <= outcome.end_time for _, _, when in outcome.reports)
        plain = by_id[tasks[2].eval_id]
        assert (plain.state, plain.objective, plain.reports, plain.last_step) == ("DONE", 1.0, [], None)
        assert asked == [], asked
    finally:
        ex.shutdown()


def check_children_die_with_their_evaluation(make: Make, folder: Path) -> None:
    """Processes a run function starts (plain, in a new session, double-forked) are killed when
    its evaluation ends, also when it ends by its time limit."""
    ex = make()
    try:
        done = task("starts_children", folder)
        ex.submit(done)
        [outcome] = collect(ex, 1)
        assert outcome.state == "DONE", outcome.error
        _assert_children_dead(done)
        hung = task("starts_children", folder, seconds=60, timeout=3)
        ex.submit(hung)
        [outcome] = collect(ex, 1, limit=40)
        assert outcome.state == "TIMEOUT", outcome.error
        _assert_children_dead(hung)
    finally:
        ex.shutdown()


def check_live_reports_get_decisions(make: Make, folder: Path) -> None:
    """With ``live_reports`` each value reaches the handler in order and its answer reaches the run
    function: stopped at step 3, the outcome is STOPPED with the value reported there."""
    ex = make()
    asked: list = []
    ex.set_report_handler(lambda eval_id, step, value, when: asked.append((eval_id, step, value)) or step < 3)
    try:
        tasks = [task("reports_curve", folder, x=0.5, live_reports=True),
                 task("reports_curve", folder, x=0.25, live_reports=True, isolate=True),
                 task("reports_curve", folder, x=0.5, steps=2, live_reports=True),
                 task("quadratic", folder, x=0.3, live_reports=True)]
        for t in tasks:
            ex.submit(t)
        by_id = {o.eval_id: o for o in collect(ex, len(tasks))}
        for t, x in zip(tasks[:2], (0.5, 0.25)):
            outcome = by_id[t.eval_id]
            assert (outcome.state, outcome.objective, outcome.last_step) == ("STOPPED", 3 * x, 3), outcome
            assert outcome.error is None and outcome.reports == []
            assert [(s, v) for i, s, v in asked if i == t.eval_id] == [(1, x), (2, 2 * x), (3, 3 * x)]
        short = by_id[tasks[2].eval_id]
        assert (short.state, short.objective, short.last_step) == ("DONE", 1.0, 2), short
        assert by_id[tasks[3].eval_id].state == "DONE" and by_id[tasks[3].eval_id].objective == 1.0
        assert ex.in_flight == 0
    finally:
        ex.shutdown()


def check_bad_reports_fail_only_their_evaluation(make: Make, folder: Path) -> None:
    """A non-finite value or a step that goes back: FAILED with one clear line, earlier reports kept."""
    ex = make()
    try:
        bad = {"reports_nan": ("ValueError: hyperfleet.report: the value must be finite, got nan", 1),
               "reports_backwards": ("ValueError: hyperfleet.report: step 2 does not come after step 3", 3)}
        tasks = {run: task(run, folder) for run in bad}
        good = task("reports_curve", folder, x=0.5)
        for t in [*tasks.values(), good]:
            ex.submit(t)
        by_id = {o.eval_id: o for o in collect(ex, len(tasks) + 1)}
        for run, (line, step) in bad.items():
            outcome = by_id[tasks[run].eval_id]
            assert outcome.state == "FAILED" and outcome.error.splitlines()[0].startswith(line), outcome.error
            assert [s for s, _, _ in outcome.reports] == [step] and outcome.last_step == step
        assert by_id[good.eval_id].state == "DONE" and by_id[good.eval_id].last_step == 5
    finally:
        ex.shutdown()


REPORT_CHECKS = [check_reports_are_buffered_without_a_stopper, check_live_reports_get_decisions,
                 check_bad_reports_fail_only_their_evaluation]

def check_children_die_at_shutdown(make: Make, folder: Path) -> None:
    """An evaluation still running at shutdown takes the processes it started with it."""
    ex = make()
    running = task("starts_children", folder, seconds=60, isolate=True)
    ex.submit(running)
    deadline = time.time() + 30
    while not (Path(running.folder) / "children.txt").exists():
        assert time.time() < deadline, "the evaluation did not start"
        time.sleep(0.05)
    ex.shutdown()
    _assert_children_dead(running)


ALL_CHECKS = [check_results_arrive_as_they_finish, check_failures_are_outcomes, check_output_goes_to_the_folder,
              check_timeout_kills_and_the_worker_carries_on, check_crash_is_a_failure, check_cancel,
              check_shutdown_leaves_nothing_running, check_children_die_with_their_evaluation,
              check_children_die_at_shutdown, *REPORT_CHECKS]


def _assert_children_dead(t: EvalTask, within: float = 15) -> None:
    deadline = time.time() + within
    while not (Path(t.folder) / "children.txt").exists():
        assert time.time() < deadline, f"{t.eval_id} wrote no children.txt"
        time.sleep(0.05)
    for pid in (int(p) for p in (Path(t.folder) / "children.txt").read_text().split()):
        _assert_pid_dead(pid, t.eval_id, max(1.0, deadline - time.time()))


def _wait_for_pids(tasks: list[EvalTask], limit: float = 30) -> None:
    deadline = time.time() + limit
    while time.time() < deadline:
        if all((Path(t.folder) / "pid.txt").exists() for t in tasks):
            return
        time.sleep(0.05)
    raise AssertionError("the evaluations did not start")


def _assert_dead(t: EvalTask, within: float = 10) -> None:
    pid = int((Path(t.folder) / "pid.txt").read_text())
    assert pid != os.getpid(), "the evaluation ran in the driver's own process"
    _assert_pid_dead(pid, t.eval_id, within)


def _assert_pid_dead(pid: int, eval_id: str, within: float) -> None:
    deadline = time.time() + within
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        if _is_zombie(pid):
            return
        time.sleep(0.1)
    raise AssertionError(f"process {pid} of {eval_id} is still running")


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def main() -> int:
    """Run every check against the MPI executor (under ``mpiexec -n 3``); exit 1 on failure."""
    import tempfile
    import traceback

    from hyperfleet.execute.mpi import MPIExecutor

    failures = 0
    for check in ALL_CHECKS:
        ex = MPIExecutor.start()
        if ex is None:  # a worker rank: served this check's evaluations
            continue
        with tempfile.TemporaryDirectory() as folder:
            given = [ex]

            def make(given=given):
                return given.pop() if given else _reused_error()
            kwargs = {"isolate": True} if check is check_crash_is_a_failure else {}
            try:
                check(make, Path(folder), **kwargs)
                print(f"PASSED {check.__name__}", flush=True)
            except Exception:  # noqa: BLE001
                failures += 1
                print(f"FAILED {check.__name__}\n{traceback.format_exc()}", flush=True)
    from mpi4py import MPI

    if MPI.COMM_WORLD.Get_rank() == 0:
        print(f"{len(ALL_CHECKS) - failures} passed, {failures} failed", flush=True)
    return 1 if failures else 0


def _reused_error():
    raise AssertionError("a check asked for a second executor")


if __name__ == "__main__":
    raise SystemExit(main())
