"""The store's side of several drivers: slots reserved atomically (never past the budget, never a
configuration twice), ends numbered in commit order, members and their leases; on SQLite and PostgreSQL."""

import threading
import uuid

import pytest

from hyperfleet.store import EvaluationState, MemberState, SqlStore
from hyperfleet.store.members import Reservation


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request, tmp_path):
    if request.param == "postgresql":  # a new, empty schema of the test server per test
        return request.getfixturevalue("postgres_schema_url")
    return str(tmp_path / "store.db")


@pytest.fixture
def store(location):
    opened = SqlStore(location)
    yield opened
    opened.close()


def _search(store):
    return store.create_search(f"res-{uuid.uuid4().hex[:8]}", "/tmp", {"dims": []}, {"max_evals": 20})


def test_concurrent_reservations_never_exceed_the_budget_nor_repeat_a_configuration(location):
    first = SqlStore(location)
    search = _search(first)
    outcomes, errors = [], []

    def driver(k):
        store = SqlStore(location)
        try:
            for i in range(15):
                key = f"k{(i * 7 + k) % 30}"  # the drivers' keys overlap: duplicates must be refused
                _, outcome = store.reserve_evaluation(search.id, {"i": key}, key, f"driver-{k}", limit=20)
                outcomes.append((outcome, key))
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)
        finally:
            store.close()

    threads = [threading.Thread(target=driver, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert not errors, errors
        evals = first.list_evaluations(search.id)
        assert len(evals) == 20 == sum(1 for o, _ in outcomes if o == "ok")
        assert sorted(e.number for e in evals) == list(range(20))
        assert len({e.config_key for e in evals}) == 20
        assert {o for o, _ in outcomes} <= {"ok", "full", "duplicate"}
        # a cancelled evaluation frees its slot and its configuration
        first.finish_evaluations(search.id, [(evals[0].id, {"state": EvaluationState.CANCELLED})])
        record, outcome = first.reserve_evaluation(search.id, evals[0].config, evals[0].config_key, "x", limit=20)
        assert outcome == "ok" and record.number == 20
        assert first.reserve_evaluation(search.id, {"i": "new"}, "new", "x", limit=20) == (None, "full")
    finally:
        first.close()


def test_ends_are_numbered_in_order_and_read_by_cursor(store):
    search = _search(store)
    made = [store.reserve_evaluation(search.id, {"i": n}, f"c{n}", "a" if n % 2 else "b")[0] for n in range(4)]
    store.finish_evaluations(search.id, [(made[1].id, {"state": EvaluationState.DONE, "objective": 1.0}),
                                         (made[2].id, {"state": EvaluationState.FAILED})])
    seen = store.evaluations_since(search.id, 3, 0, exclude_driver="b")
    assert [(e.number, e.done_seq) for e in seen] == [(1, 1)]  # b's row left out
    assert store.finish_evaluations(search.id, [(made[1].id, {"state": EvaluationState.CANCELLED})],
                                    only_running=True) == []  # it had ended: a recovery leaves it
    store.finish_evaluations(search.id, [(made[3].id, {"state": EvaluationState.DONE})])
    assert [(e.number, e.done_seq) for e in store.evaluations_since(search.id, 3, 1)] == [(2, 2), (3, 3)]


def test_members_leases_and_the_one_that_marks_a_dead_one(store):
    search = _search(store)
    a = store.add_member(search.id, "primary", 30.0, host="h", pid=1)
    b = store.add_member(search.id, "member", 30.0, host="h", pid=2)
    assert [m.role for m in store.list_members(search.id)] == ["primary", "member"]
    assert store.renew_member(b.id, 30.0)
    assert store.end_member(b.id, MemberState.LOST) and not store.end_member(b.id, MemberState.LOST)
    assert not store.renew_member(b.id, 30.0)  # a member found dead must stop
    assert store.end_member(a.id)
    assert [m.state for m in store.list_members(search.id)] == [MemberState.LEFT, MemberState.LOST]
    assert store.list_members(search.id, [MemberState.RUNNING]) == []


def test_a_batch_records_ends_then_reserves_until_the_budget_is_full(store):
    search = _search(store)
    made = [store.reserve_evaluation(search.id, {"i": n}, f"c{n}", "a", limit=5)[0] for n in range(3)]
    store.finish_evaluations(search.id, [(made[0].id, {"state": EvaluationState.CANCELLED})])  # frees a slot
    wanted = [Reservation({"i": "x"}, "cx"), Reservation({"i": 1}, "c1"),  # c1 runs: a duplicate
              Reservation({"i": "y"}, "cy"), Reservation({"i": "y2"}, "cy2"), Reservation({"i": "z"}, "cz")]
    out = store.reserve_evaluations(search.id, wanted, "a", limit=5, ends=[
        (made[1].id, {"state": EvaluationState.DONE, "objective": 2.0})])
    assert [o for _, o in out] == ["ok", "duplicate", "ok", "ok", "full"]  # 2 running + 3 new = 5
    assert [r.number for r, _ in out if r is not None] == [3, 4, 5]
    rows = {e.number: e for e in store.list_evaluations(search.id)}
    assert rows[1].state == EvaluationState.DONE and rows[1].objective == 2.0 and rows[1].done_seq == 2
    assert [rows[n].config_key for n in (3, 4, 5)] == ["cx", "cy", "cy2"]
    assert store.reserve_evaluations(search.id, [Reservation({"i": 1}, "c1", unique=False)], "a",
                                     limit=None)[0][1] == "ok"  # not unique: run again anyway


def test_the_budget_counts_rows_not_numbers(store):
    """Numbers may have gaps (rows written by create_evaluation): the budget still counts rows."""
    search = _search(store)
    for n in (0, 10, 20):
        store.create_evaluation(search.id, n, {"n": n}, state=EvaluationState.DONE)
    out = store.reserve_evaluations(search.id, [Reservation({"i": k}, f"k{k}") for k in range(3)], "a", limit=4)
    assert [o for _, o in out] == ["ok", "full", "full"] and out[0][0].number == 21


def test_a_reservation_reads_the_rows_of_its_key_not_every_running_one(tmp_path):
    """The duplicate check goes by (search_id, config_key): with an equality on the state SQLite
    chose (search_id, state) and read every running and evaluated row of the search, so that each
    reservation took longer as the search grew."""
    from hyperfleet.store.members import _RESERVE_QUERY

    store = SqlStore(tmp_path / "plan.db")
    try:
        search = _search(store)
        for n in range(50):
            store.reserve_evaluation(search.id, {"n": n}, f"c{n}", "a")
        with store.engine.connect() as conn:
            compiled = _RESERVE_QUERY.compile(conn)
            params = compiled.construct_params({"sid": search.id, "key": "c3"})
            names = compiled.positiontup
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + str(compiled), tuple(params[n] for n in names)))
        assert "ix_evaluations_search_key" in plan, plan
        assert "ix_evaluations_search_state" not in plan, plan
    finally:
        store.close()
