"""The thread executor sweeps for processes evaluations left behind once per idle moment, not
once per evaluation (a sweep reads every process's environment in /proc)."""

import hyperfleet.execute.thread as thread_module
from hyperfleet.execute.thread import SWEEP_DELAY, ThreadExecutor
from hyperfleet.testing import executor_kit as kit


def test_short_evaluations_share_one_sweep(tmp_path, monkeypatch):
    sweeps = []
    real = thread_module.kill_tree
    monkeypatch.setattr(thread_module, "kill_tree", lambda token: sweeps.append(token) or real(token))
    ex = ThreadExecutor(1)
    try:
        for _ in range(30):  # one at a time: nothing runs between two of them
            ex.submit(kit.task("quadratic", tmp_path, x=0.3))
            assert kit.collect(ex, 1)[0].state == "DONE"
    finally:
        ex.shutdown()
    # before: one sweep after each of the 30 evaluations, on the evaluations' critical path
    assert len(sweeps) < 15, len(sweeps)


def test_a_process_left_behind_is_still_killed_once_nothing_runs(tmp_path):
    ex = ThreadExecutor(2)
    try:
        done = kit.task("starts_children", tmp_path)
        ex.submit(done)
        assert kit.collect(ex, 1)[0].state == "DONE"
        kit._assert_children_dead(done, within=15 + SWEEP_DELAY)  # before any shutdown
    finally:
        ex.shutdown()


def test_the_sweeper_thread_ends_with_its_executor(tmp_path):
    import threading
    import time

    before = sum(t.name == "hyperfleet-eval-sweeper" for t in threading.enumerate())
    ex = ThreadExecutor(1)
    ex.submit(kit.task("quadratic", tmp_path, x=0.3))
    assert kit.collect(ex, 1)[0].state == "DONE"
    ex.shutdown()  # right after the evaluation: the sweeper is in its SWEEP_DELAY sleep
    deadline = time.time() + 10 * SWEEP_DELAY + 5
    while sum(t.name == "hyperfleet-eval-sweeper" for t in threading.enumerate()) > before \
            and time.time() < deadline:
        time.sleep(0.05)
    assert sum(t.name == "hyperfleet-eval-sweeper" for t in threading.enumerate()) == before
