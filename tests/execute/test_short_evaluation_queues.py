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


class _Recording:
    """A search's ``ask`` wrapped to record (n asked, configurations pending) at each call."""

    def __init__(self, search):
        self.calls = []
        ask = search.ask

        def recording_ask(n=1):
            self.calls.append((n, len(search.pending)))
            return ask(n)
        search.ask = recording_ask


def _instant(config):
    return -(config["x"] - 0.3) ** 2


def _searches():
    from hyperfleet import HpProblem
    from hyperfleet.search import RandomSearch
    from hyperfleet.search.ambs import AMBS

    def problem():
        p = HpProblem()
        p.add_dim("x", (0.0, 1.0))
        return p
    return AMBS(problem(), seed=0, n_candidates=64, n_local=0), RandomSearch(problem(), seed=0)


def test_a_model_based_search_gets_every_result_before_each_proposal(tmp_path, monkeypatch):
    """Evaluations far shorter than SHORT_EVAL_S (a table lookup): the serial evaluator would
    batch them, but a search that learns from results is asked for one configuration at a time
    with nothing pending (the same proposals as a plain ask/tell loop); random search, which
    learns nothing, is still batched."""
    from hyperfleet import run_search

    monkeypatch.chdir(tmp_path)
    n = SerialExecutor.RECENT + 12
    ambs, random = _searches()
    for search, batched in ((ambs, False), (random, True)):
        rec = _Recording(search)
        run_search(search.problem, _instant, search=search, max_evals=n, evaluator="serial",
                   store=tmp_path / f"{type(search).__name__}.db", label=type(search).__name__)
        assert len(search.history) == n
        if batched:
            assert max(k for k, _ in rec.calls) > 1, rec.calls
        else:
            assert rec.calls == [(1, 0)] * n, rec.calls


def test_thread_workers_never_queue_ahead_for_a_model_based_search(tmp_path, monkeypatch):
    """Two threads and the default prefetch of one: at most three configurations pending or
    asked at once (without the rule, the threads' queues add two more)."""
    from hyperfleet import run_search

    monkeypatch.chdir(tmp_path)
    ambs, _ = _searches()
    rec = _Recording(ambs)
    run_search(ambs.problem, _instant, search=ambs, max_evals=RECENT + 12, evaluator="thread",
               workers=2, store=tmp_path / "t.db")
    assert len(ambs.history) == RECENT + 12
    assert max(pending + k for k, pending in rec.calls) <= 3, rec.calls
