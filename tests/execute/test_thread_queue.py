"""The thread executor queues one evaluation per thread once evaluations are short, so that the
driver's round trip is not paid between two of them, and none while they are long."""

import time

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
