"""A SIGTERM, SIGHUP or Ctrl-C that lands inside a store transaction waits for its end.

Raised in the middle (between SQLite's BEGIN IMMEDIATE and its COMMIT), it left a connection with
an open write transaction held alive by the traceback, and the driver's clean-up then waited for
that lock for ever (a driver that never exited after SIGHUP, seen in CI)."""

import os
import signal

import pytest
import sqlalchemy as sa

from hyperfleet.driver_lifecycle import Terminated, TerminationSignals
from hyperfleet.store import EvaluationState, SqlStore
from hyperfleet.store.critical import critical


def _store_with_evaluation(tmp_path):
    store = SqlStore(tmp_path / "hyperfleet.db")
    search = store.create_search("sig", str(tmp_path), {"dims": {}}, {})
    evaluation = store.create_evaluation(search.id, 0, {"x": 1}, state=EvaluationState.RUNNING)
    return store, search, evaluation


def _get(store, eval_id):
    return next(e for e in store.find_evaluations(eval_id))


def _signal_on_begin(store, signum):
    """Send ``signum`` to this process right after the store's next BEGIN IMMEDIATE."""
    sent = []

    @sa.event.listens_for(store.engine, "after_cursor_execute")
    def after(conn, cursor, statement, *args):
        if statement.startswith("BEGIN IMMEDIATE") and not sent:
            sent.append(statement)
            os.kill(os.getpid(), signum)
    return sent


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_mid_transaction_is_raised_after_the_commit(tmp_path, signum):
    store, search, evaluation = _store_with_evaluation(tmp_path)
    sent = _signal_on_begin(store, signum)
    with TerminationSignals(), pytest.raises(Terminated) as caught:
        store.finish_evaluations(search.id, [(evaluation.id, {"state": EvaluationState.DONE, "objective": 0.5})])
    assert sent and caught.value.signum == signum
    # the transaction committed whole, and no lock is left behind: another store writes at once
    other = SqlStore(tmp_path / "hyperfleet.db")
    assert _get(other, evaluation.id).state == EvaluationState.DONE
    other.update_evaluation(evaluation.id, error="written after the signal")
    assert _get(store, evaluation.id).error == "written after the signal"


def test_ctrl_c_mid_transaction_is_raised_after_the_commit(tmp_path):
    store, search, evaluation = _store_with_evaluation(tmp_path)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # Python's own Ctrl-C
    try:
        sent = _signal_on_begin(store, signal.SIGINT)
        with TerminationSignals(), pytest.raises(KeyboardInterrupt):
            store.finish_evaluations(search.id, [(evaluation.id, {"state": EvaluationState.DONE, "objective": 0.5})])
        assert sent
        assert _get(SqlStore(tmp_path / "hyperfleet.db"), evaluation.id).state == EvaluationState.DONE
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)


def test_outside_a_store_call_the_signal_is_raised_at_once(tmp_path):
    reached = []
    with TerminationSignals(), pytest.raises(Terminated):
        os.kill(os.getpid(), signal.SIGTERM)
        reached.append("after the kill")  # pragma: no cover - the handler raised before
    assert not reached


def test_a_second_signal_while_one_waits_is_counted_not_raised_twice():
    with TerminationSignals() as signals, pytest.raises(Terminated) as caught:
        with critical():
            os.kill(os.getpid(), signal.SIGHUP)
            os.kill(os.getpid(), signal.SIGTERM)
            finished = True
    assert finished and caught.value.signum == signal.SIGHUP and signals.ignored == 1


def test_a_ctrl_c_handler_installed_before_the_search_still_runs_after_the_transaction(tmp_path):
    # e.g. a notebook's or a framework's own SIGINT handler
    store, search, evaluation = _store_with_evaluation(tmp_path)
    calls = []

    class Mine(Exception):
        pass

    def mine(signum, frame):
        calls.append(signum)
        raise Mine

    previous = signal.signal(signal.SIGINT, mine)
    try:
        sent = _signal_on_begin(store, signal.SIGINT)
        with TerminationSignals(), pytest.raises(Mine):
            store.finish_evaluations(search.id, [(evaluation.id, {"state": EvaluationState.DONE})])
        assert sent and calls == [signal.SIGINT]
        assert _get(store, evaluation.id).state == EvaluationState.DONE
        assert signal.getsignal(signal.SIGINT) is mine  # given back at the end
    finally:
        signal.signal(signal.SIGINT, previous)
