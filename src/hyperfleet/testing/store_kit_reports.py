"""Store checks for early stopping: intermediate values, STOPPED, the version 2 -> 4 migration.

Part of :mod:`hyperfleet.testing.store_kit` (its :data:`ALL_CHECKS` and :data:`SQL_CHECKS`
include these); same conventions: each check takes ``make_store``.
"""

from __future__ import annotations

import sqlalchemy as sa

from hyperfleet.store import EvaluationState, ReportRecord, SearchState

STOPPED, DONE, RUNNING = EvaluationState.STOPPED, EvaluationState.DONE, EvaluationState.RUNNING


def check_reports_round_trip_in_order(make_store) -> None:
    from hyperfleet.testing.store_kit import new_search

    store = make_store()
    try:
        search, other = new_search(store), new_search(store, "other")
        a = store.create_evaluation(search.id, 0, {"x": 0.1}, state=RUNNING)
        b = store.create_evaluation(search.id, 1, {"x": 0.2}, state=RUNNING)
        c = store.create_evaluation(other.id, 0, {"x": 0.3}, state=RUNNING)
        store.add_reports(search.id, [ReportRecord(a.id, 1, 1, 0.5, 10.0), ReportRecord(b.id, 2, 1, 0.25, 10.5)])
        store.add_reports(search.id, [ReportRecord(a.id, 3, 2, 0.75, 11.0)])
        store.add_reports(search.id, [])
        store.add_reports(other.id, [ReportRecord(c.id, 1, 1, -1.0, 9.0)])
        got = store.list_reports(search.id)
        assert [(r.evaluation_id, r.seq, r.step, r.value, r.time) for r in got] == [
            (a.id, 1, 1, 0.5, 10.0), (b.id, 2, 1, 0.25, 10.5), (a.id, 3, 2, 0.75, 11.0)], got
        assert [r.step for r in store.list_reports(search.id, [a.id])] == [1, 2]
        assert store.list_reports(search.id, []) == []
        assert [r.value for r in store.list_reports(other.id)] == [-1.0]
    finally:
        store.close()
    again = make_store()  # they persist
    try:
        assert len(again.list_reports(search.id)) == 3
    finally:
        again.close()


def check_report_vectors_round_trip(make_store) -> None:
    """Several objectives (schema 7): a report's objective and constraint values come back as
    stored, beside one-number reports (None there)."""
    from hyperfleet.testing.store_kit import new_search

    store = make_store()
    try:
        search = new_search(store)
        a = store.create_evaluation(search.id, 0, {"x": 0.1}, state=RUNNING)
        store.add_reports(search.id, [ReportRecord(a.id, 1, 1, 0.5, 10.0, [0.5, -2.25], [0.125]),
                                      ReportRecord(a.id, 2, 2, 0.75, 11.0)])
        first, second = store.list_reports(search.id)
        assert first.objectives == [0.5, -2.25] and first.constraints == [0.125]
        assert second.objectives is None and second.constraints is None
    finally:
        store.close()


def check_stopped_state_and_last_step(make_store) -> None:
    from hyperfleet.testing.store_kit import new_search

    store = make_store()
    try:
        search = new_search(store)
        stopped = store.create_evaluation(search.id, 0, {"x": 0.1}, state=RUNNING)
        done = store.create_evaluation(search.id, 1, {"x": 0.2}, state=RUNNING)
        store.update_evaluations([(stopped.id, {"state": STOPPED, "objective": 9.0, "last_step": 3,
                                                "finish_seq": 5}),
                                  (done.id, {"state": DONE, "objective": 0.5, "last_step": 20, "finish_seq": 7})])
        by_id = {e.id: e for e in store.list_evaluations(search.id)}
        assert (by_id[stopped.id].state, by_id[stopped.id].last_step, by_id[stopped.id].finish_seq) == (STOPPED, 3, 5)
        assert by_id[stopped.id].state.finished and by_id[done.id].last_step == 20
        assert [e.id for e in store.list_evaluations(search.id, [STOPPED])] == [stopped.id]
        summary = store.summary(search.id)
        assert (summary.stopped, summary.done, summary.failed, summary.total) == (1, 1, 0, 2)
        assert summary.best == 0.5, "a stopped evaluation's value is not a full training's: not the best"
    finally:
        store.close()


def check_reports_migrate_from_version_2(make_store) -> None:
    """A store as hyperfleet with schema version 2 wrote it: kept, and usable with reports."""
    from hyperfleet.store.schema import SCHEMA_VERSION, evaluations_table, meta_table, reports_table
    from hyperfleet.testing.store_kit import new_search

    store = make_store()
    engine = store.engine
    meta_table.metadata.drop_all(engine)
    store.close()
    v2 = sa.MetaData()
    for table in meta_table.metadata.sorted_tables:
        if table is not reports_table and table.name != "drivers":
            table.to_metadata(v2)
    evals = v2.tables["evaluations"]
    for name in ("last_step", "finish_seq", "objectives", "constraints", "feasible", "driver_id", "config_key",
                 "done_seq"):
        evals._columns.remove(evals.c[name])
    from hyperfleet.testing.store_kit import _drop_later_indexes

    _drop_later_indexes(evals)
    searches = v2.tables["searches"]
    for name in ("driver_started", "driver_boot_id", "driver_token", "lease_expires"):  # version 3
        searches._columns.remove(searches.c[name])
    v2.create_all(engine)
    with engine.begin() as conn:
        conn.execute(v2.tables["hyperfleet_meta"].insert().values(key="schema_version", value="2"))
        conn.execute(v2.tables["searches"].insert().values(
            id="old-search", label="old", state="FINISHED", folder="/tmp", problem={"dims": []},
            settings={"max_evals": 1}, created_time=1.0, job_id="7"))
        conn.execute(evals.insert().values(id="old-eval", search_id="old-search", number=0, config={"x": 0.5},
                                           state="DONE", objective=0.25, metadata={}))
    engine.dispose()
    store = make_store()
    try:
        [old] = store.list_evaluations("old-search")
        assert (old.state, old.objective, old.last_step, old.finish_seq) == (DONE, 0.25, None, None)
        assert store.list_reports("old-search") == []
        store.add_reports("old-search", [ReportRecord("old-eval", 1, 1, 0.1, 1.0)])
        assert [r.value for r in store.list_reports("old-search")] == [0.1]
        store.update_evaluation("old-eval", last_step=1)
        assert store.get_search("old-search").state == SearchState.FINISHED
        new_search(store)
        with store.engine.connect() as conn:
            version = conn.execute(sa.select(meta_table.c.value)).scalar_one()
        assert version == str(SCHEMA_VERSION), version
        assert {c.name for c in evaluations_table.columns} <= {c["name"] for c in
                                                               sa.inspect(conn_engine(store)).get_columns("evaluations")}
    finally:
        store.close()


def conn_engine(store):
    return store.engine


REPORT_CHECKS = [check_reports_round_trip_in_order, check_stopped_state_and_last_step,
                 check_report_vectors_round_trip]
REPORT_SQL_CHECKS = [check_reports_migrate_from_version_2]
