"""Short evaluations are queued ahead (threads: one per thread; serial: a few run in one wait),
so that the driver's round trip is not paid between two of them; long ones are not."""

import time

from hyperfleet.execute.serial import SerialExecutor
from hyperfleet.execute.thread import RECENT, SHORT_EVAL_S, ThreadExecutor
from hyperfleet.testing import executor_kit as kit


def _run_many(ex, tmp_path, n, **config):
    for _ in range(n):
        ex.submit(kit.task("sleeps_and_records_pid", tmp_path, **config))
    return kit.collect(ex, n)


def test_short_evaluations_get_one_queued_per_thread(tmp_path):
    ex = ThreadExecutor(2)
    try:
        assert ex.queue_depth == 0  # nothing known yet: a configuration waits for every result
        outcomes = _run_many(ex, tmp_path, RECENT, seconds=0.0)
        assert all(o.state == "DONE" for o in outcomes)
        assert ex.queue_depth == 2
    finally:
        ex.shutdown()


def test_long_evaluations_get_none_queued(tmp_path):
    ex = ThreadExecutor(4)
    try:
        outcomes = _run_many(ex, tmp_path, RECENT, seconds=SHORT_EVAL_S * 1.5)
        assert all(o.state == "DONE" for o in outcomes)
        assert ex.queue_depth == 0
    finally:
        ex.shutdown()


def test_a_queued_evaluation_starts_when_a_thread_frees(tmp_path):
    """Beyond the threads, a submitted evaluation waits (it does not run a third at once)."""
    ex = ThreadExecutor(2)
    try:
        start = time.time()
        outcomes = _run_many(ex, tmp_path, 3, seconds=0.3)
        starts = sorted(o.start_time - start for o in outcomes)
        assert starts[2] >= 0.25, starts  # the third started after one of the first two ended
    finally:
        ex.shutdown()


def test_serial_takes_short_evaluations_several_at_a_time(tmp_path):
    """Short evaluations: the driver may queue BATCH more, and one wait runs them all (one cycle
    of the driver records them together); long ones one at a time, as every result is awaited."""
    ex = SerialExecutor()
    assert ex.queue_depth == 0
    for _ in range(SerialExecutor.RECENT):
        ex.submit(kit.task("quadratic", tmp_path))
        assert len(ex.wait_any()) == 1
    assert ex.queue_depth == SerialExecutor.BATCH
    for _ in range(3):
        ex.submit(kit.task("quadratic", tmp_path))
    assert [o.state for o in ex.wait_any()] == ["DONE"] * 3
    assert ex.in_flight == 0


def test_serial_runs_long_evaluations_one_per_wait(tmp_path):
    ex = SerialExecutor()
    for _ in range(SerialExecutor.RECENT):
        ex.submit(kit.task("sleeps_and_records_pid", tmp_path, seconds=SerialExecutor.SHORT_EVAL_S * 1.2))
    for left in range(SerialExecutor.RECENT - 1, -1, -1):
        assert len(ex.wait_any()) == 1 and ex.in_flight == left
    assert ex.queue_depth == 0


def test_a_serial_batch_ends_at_a_failure(tmp_path):
    """The driver hears of each failure before the next evaluation runs, so that
    ``--max-failures`` stops the search where it would without batches."""
    ex = SerialExecutor()
    for _ in range(SerialExecutor.RECENT):
        ex.submit(kit.task("quadratic", tmp_path))
        ex.wait_any()
    assert ex.queue_depth == SerialExecutor.BATCH
    ex.submit(kit.task("quadratic", tmp_path))
    ex.submit(kit.task("fails_above_half", tmp_path, x=0.9))
    ex.submit(kit.task("quadratic", tmp_path))
    assert [o.state for o in ex.wait_any()] == ["DONE", "FAILED"]
    assert [o.state for o in ex.wait_any()] == ["DONE"]
