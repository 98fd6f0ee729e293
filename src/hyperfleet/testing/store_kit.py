"""The behaviour every store must show, as plain check functions.

Each check takes ``make_store``, a function that opens the store under test: every call within
one check opens the *same* location, which starts empty (so a second call tests persistence).
A check raises ``AssertionError`` when the store misbehaves. ``tests/store`` runs them under
pytest against SQLite (WAL and rollback journal) and PostgreSQL; a new store passes them all
before it is used.

- :data:`ALL_CHECKS`: the :class:`~hyperfleet.store.Store` interface only.
- :data:`SQL_CHECKS`: a :class:`~hyperfleet.store.SqlStore` (they reach into ``store.engine`` to
  write what an older or newer hyperfleet would have written).
- :func:`check_concurrent_writers_and_reader`: two writer processes and a polling reader, as a
  running driver and ``hyperfleet ls`` do; ``make_store`` must be picklable (e.g.
  ``functools.partial(SqlStore, url)``).
"""

from __future__ import annotations

import math
import time
from typing import Callable

import sqlalchemy as sa

from hyperfleet.store import EvaluationState, SearchState, Store, StoreError
from hyperfleet.testing import store_kit_reports as _reports
from hyperfleet.testing.store_claim_kit import CLAIM_CHECKS, check_migrates_from_version_2

MakeStore = Callable[[], Store]
DONE, RUNNING, FAILED = EvaluationState.DONE, EvaluationState.RUNNING, EvaluationState.FAILED


def new_search(store: Store, label: str = "demo", search_id: str | None = None):
    """A search with typical settings."""
    return store.create_search(label, "/tmp/searches/demo", {"dims": [["x", 0.0, 1.0]]}, {"max_evals": 3},
                               problem_path="problem.py:Problem", run_path="run.py:run", search_id=search_id)


def raises(error: type[BaseException], call: Callable[[], object], match: str = "") -> BaseException:
    """The exception ``call()`` raised; ``AssertionError`` when it raised none or another one."""
    try:
        call()
    except error as err:
        assert match in str(err), f"{type(err).__name__} {str(err)!r} does not say {match!r}"
        return err
    raise AssertionError(f"no {error.__name__} raised")


def check_search_round_trip_and_updates(make_store: MakeStore) -> None:
    store = make_store()
    try:
        record = new_search(store)
        again = store.get_search(record.id)
        assert again == record, f"{again} != {record}"
        assert again.state == SearchState.CREATED and again.created_time and again.job_id is None
        store.update_search(record.id, state=SearchState.RUNNING, start_time=10.5, driver_host="node-1",
                            driver_pid=4242, scheduler="slurm", job_id="123456", message="running")
        again = store.get_search(record.id)
        assert again.state == SearchState.RUNNING and again.start_time == 10.5
        assert (again.driver_host, again.driver_pid) == ("node-1", 4242)
        assert (again.scheduler, again.job_id) == ("slurm", "123456")
        store.update_search(record.id, state="FINISHED", end_time=11.0, message=None)
        again = store.get_search(record.id)
        assert again.state == SearchState.FINISHED and again.message is None and again.end_time == 11.0
        assert [s.id for s in store.list_searches()] == [record.id]
        raises(StoreError, lambda: store.get_search("no-such-id"), "no search")
        raises(TypeError, lambda: store.update_search(record.id, colour="blue"), "unknown field")
    finally:
        store.close()


def check_evaluations_create_update_list_filter(make_store: MakeStore) -> None:
    store = make_store()
    try:
        search = new_search(store)
        other = new_search(store, "other")
        made = [store.create_evaluation(search.id, n, {"x": n / 10}, folder=f"/tmp/e{n}", state=RUNNING,
                                        worker=f"w{n}", host="node-1", start_time=100.0 + n)
                for n in range(4)]
        store.create_evaluation(other.id, 0, {"x": 0.9})
        store.update_evaluation(made[0].id, state=DONE, objective=0.5, end_time=110.0,
                                metadata={"loss": [1, 2]})
        store.update_evaluation(made[1].id, state=FAILED, error="Traceback ...\nRuntimeError: boom")
        store.update_evaluation(made[2].id, state="TIMEOUT")
        listed = store.list_evaluations(search.id)
        assert [e.number for e in listed] == [0, 1, 2, 3]
        assert [e.state for e in listed] == [DONE, FAILED, EvaluationState.TIMEOUT, RUNNING]
        first = listed[0]
        assert (first.objective, first.metadata, first.end_time) == (0.5, {"loss": [1, 2]}, 110.0)
        assert (first.config, first.folder, first.worker) == ({"x": 0.0}, "/tmp/e0", "w0")
        assert (first.host, first.start_time) == ("node-1", 100.0)
        assert listed[1].error.endswith("RuntimeError: boom") and listed[1].objective is None
        assert listed[3].metadata == {} and listed[3].error is None
        assert [e.id for e in store.list_evaluations(search.id, [DONE])] == [made[0].id]
        assert [e.number for e in store.list_evaluations(search.id, [RUNNING, FAILED])] == [1, 3]
        assert store.list_evaluations(search.id, []) == []
        assert [e.number for e in store.list_evaluations(other.id)] == [0]
        assert store.list_evaluations("no-such-search") == []
        raises(TypeError, lambda: store.update_evaluation(made[0].id, colour="blue"), "unknown field")
    finally:
        store.close()


def check_update_evaluations_is_one_transaction(make_store: MakeStore) -> None:
    store = make_store()
    try:
        search = new_search(store)
        a, b, c = (store.create_evaluation(search.id, n, {"n": n}, state=RUNNING) for n in range(3))
        store.update_evaluations([(a.id, {"state": DONE, "objective": 1.0}),
                                  (b.id, {"state": FAILED, "error": "x"})])
        assert [e.state for e in store.list_evaluations(search.id)] == [DONE, FAILED, RUNNING]
        # The second update breaks the (search, number) uniqueness: the first must not stay applied.
        try:
            store.update_evaluations([(c.id, {"state": DONE, "objective": 2.0}),
                                      (b.id, {"number": a.number})])
        except Exception:  # the database's integrity error, whatever its class
            pass
        else:
            raise AssertionError("an update breaking (search, number) uniqueness was accepted")
        after = store.list_evaluations(search.id)
        assert [(e.number, e.state, e.objective) for e in after] == [(0, DONE, 1.0), (1, FAILED, None),
                                                                     (2, RUNNING, None)], after
        store.update_evaluations([])
        store.update_evaluations([(c.id, {"state": DONE, "objective": 2.0})])
        assert store.summary(search.id).done == 2
    finally:
        store.close()


def check_summaries_counts_and_best(make_store: MakeStore) -> None:
    store = make_store()
    try:
        empty = new_search(store, "empty")
        search = new_search(store, "busy")
        outcomes = [(DONE, 0.5), (DONE, -1.0), (DONE, 2.5), (FAILED, None), (EvaluationState.TIMEOUT, None),
                    (RUNNING, None), (EvaluationState.CREATED, None), (EvaluationState.CANCELLED, None)]
        for n, (state, objective) in enumerate(outcomes):
            store.create_evaluation(search.id, n, {"n": n}, state=state, objective=objective)
        # A failed evaluation's objective (if any) never counts as the best.
        store.create_evaluation(search.id, 99, {}, state=FAILED, objective=1000.0)
        summary = store.summary(search.id)
        assert (summary.done, summary.failed, summary.running, summary.total) == (3, 3, 1, 9), summary.counts
        assert summary.counts == {"DONE": 3, "FAILED": 2, "TIMEOUT": 1, "RUNNING": 1, "CREATED": 1,
                                  "CANCELLED": 1}, summary.counts
        assert summary.best == 2.5 and summary.search.label == "busy"
        blank = store.summary(empty.id)
        assert (blank.counts, blank.best, blank.total) == ({}, None, 0)
        assert [s.search.id for s in store.summaries()] == [empty.id, search.id]
        assert [s.search.id for s in store.summaries([search.id, empty.id])] == [search.id, empty.id]
        assert store.summaries([]) == []
        raises(StoreError, lambda: store.summaries(["no-such-search"]), "no search")
    finally:
        store.close()


def check_resolve_by_label_and_id_prefix(make_store: MakeStore) -> None:
    store = make_store()
    try:
        first = new_search(store, "mnist", search_id="aaaa1111-0000-4000-8000-000000000001")
        time.sleep(0.002)
        second = new_search(store, "mnist", search_id="aaaa2222-0000-4000-8000-000000000002")
        other = new_search(store, "other", search_id="bbbb3333-0000-4000-8000-000000000003")
        tricky = new_search(store, "aaaa", search_id="cccc4444-0000-4000-8000-000000000004")
        assert store.resolve_search("mnist").id == second.id, "a label means its latest search"
        assert store.resolve_search("aaaa1").id == first.id
        assert store.resolve_search("AAAA2").id == second.id, "id prefixes ignore case"
        assert store.resolve_search(other.id).id == other.id
        assert store.resolve_search("aaaa").id == tricky.id, "a label wins over an id prefix"
        assert [s.id for s in store.find_searches("aaaa")] == [first.id, second.id, tricky.id]
        assert [s.id for s in store.find_searches("mnist")] == [first.id, second.id]
        raises(StoreError, lambda: store.resolve_search("aaa"), "matches 2 searches")
        raises(StoreError, lambda: store.resolve_search("nope"), "no search with label or id 'nope'")
        # LIKE wildcards in a reference are plain characters.
        assert store.find_searches("%") == [] and store.find_searches("_a") == []
    finally:
        store.close()


def check_find_evaluations_by_prefix(make_store: MakeStore) -> None:
    store = make_store()
    try:
        search = new_search(store)
        ids = ["e1f0aaaa-0000-4000-8000-000000000001", "e1f0bbbb-0000-4000-8000-000000000002",
               "e2000000-0000-4000-8000-000000000003"]
        for n, eval_id in enumerate(ids):
            store.create_evaluation(search.id, n, {"n": n}, eval_id=eval_id)
        assert [e.id for e in store.find_evaluations("e1f0")] == ids[:2]
        assert [e.config for e in store.find_evaluations("E1F0B")] == [{"n": 1}]
        assert [e.id for e in store.find_evaluations(ids[2])] == [ids[2]]
        assert store.find_evaluations("f") == [] and store.find_evaluations("e1%") == []
        made = store.create_evaluation(search.id, 3, {"n": 3})
        assert store.find_evaluations(made.id[:10])[0].id == made.id
    finally:
        store.close()


def check_evaluation_numbers_are_unique_per_search(make_store: MakeStore) -> None:
    store = make_store()
    try:
        search, other = new_search(store), new_search(store, "other")
        store.create_evaluation(search.id, 0, {})
        store.create_evaluation(other.id, 0, {})
        try:
            store.create_evaluation(search.id, 0, {"again": True})
        except Exception:  # the database's integrity error, whatever its class
            pass
        else:
            raise AssertionError("a second evaluation number 0 in one search was accepted")
        store.create_evaluation(search.id, 1, {})  # the store still works after the refusal
        assert [e.config for e in store.list_evaluations(search.id)] == [{}, {}]
    finally:
        store.close()


# Nested, unicode, NUL, big and small numbers; JSON has no NaN or infinity: they come back as None.
METADATA = {"loss": [1.5, 0.25, [0.125, {"deep": [True, False, None]}]], "epochs": 20, "big": 2**53,
            "tiny": 5e-324, "neg": -0.0, "text": "naïve ☃ 東京 🚀", "quote": 'a"b\\c\n',
            "nul": "a\x00b",
            "empty": {"list": [], "dict": {}, "str": ""}, "ünïcödé-këy": 1}
STRANGE = {"nan": float("nan"), "inf": [float("inf"), -float("inf")], "ok": 1.0}


def check_json_round_trip(make_store: MakeStore) -> None:
    store = make_store()
    try:
        search = store.create_search("☃ label", "/tmp/ordner-ü", {"dims": [["lr", 1e-5, 1e-1, "log"]]},
                                     {"nested": METADATA})
        evaluation = store.create_evaluation(search.id, 0, {"x": 0.1, "act": "relu", "layers": [64, 32]},
                                             metadata={"at_start": True})
        store.update_evaluation(evaluation.id, state=DONE, objective=0.75, metadata=METADATA)
        again = store.get_search(search.id)
        assert again.settings == {"nested": METADATA} and again.label == "☃ label"
        assert again.problem == {"dims": [["lr", 1e-5, 1e-1, "log"]]} and again.folder == "/tmp/ordner-ü"
        got = store.list_evaluations(search.id)[0]
        assert got.metadata == METADATA, got.metadata
        assert math.copysign(1.0, got.metadata["neg"]) == -1.0
        assert got.config == {"x": 0.1, "act": "relu", "layers": [64, 32]}
        store.update_evaluation(evaluation.id, metadata=STRANGE)
        strange = store.list_evaluations(search.id)[0].metadata
        assert strange["ok"] == 1.0 and (strange["nan"] is None or math.isnan(strange["nan"])), strange
        assert all(v is None or math.isinf(v) for v in strange["inf"]), strange
    finally:
        store.close()


def check_text_round_trip(make_store: MakeStore) -> None:
    store = make_store()
    try:
        search = new_search(store)
        error = "Traceback (most recent call last):\n  File \"run.py\"\nValueError: 'ü' ☃ 🚀 tab\there"
        evaluation = store.create_evaluation(search.id, 0, {}, worker="proc-1@nödé", host="nödé")
        store.update_evaluation(evaluation.id, state=FAILED, error=error)
        got = store.list_evaluations(search.id)[0]
        assert (got.error, got.worker, got.host) == (error, "proc-1@nödé", "nödé")
        # A NUL character is kept, or replaced by U+FFFD where the database cannot hold it (PostgreSQL).
        store.update_evaluation(evaluation.id, error="before\x00after")
        assert store.list_evaluations(search.id)[0].error in ("before\x00after", "before\ufffdafter")
        store.update_search(search.id, message="stopped: ☃ " + "x" * 5000)
        assert store.get_search(search.id).message == "stopped: ☃ " + "x" * 5000
    finally:
        store.close()


def check_persists_across_reopen(make_store: MakeStore) -> None:
    store = make_store()
    search = new_search(store)
    evaluation = store.create_evaluation(search.id, 0, {"x": 1}, state=RUNNING)
    store.update_evaluations([(evaluation.id, {"state": DONE, "objective": 3.0, "metadata": {"k": [1]}})])
    store.update_search(search.id, state=SearchState.FINISHED)
    store.close()
    again = make_store()
    try:
        assert again.get_search(search.id).state == SearchState.FINISHED
        [got] = again.list_evaluations(search.id)
        assert (got.state, got.objective, got.metadata) == (DONE, 3.0, {"k": [1]})
        assert again.summary(search.id).best == 3.0
    finally:
        again.close()


def check_two_open_stores_see_each_other(make_store: MakeStore) -> None:
    """A driver writes while ``hyperfleet ls`` reads: each sees the other's committed work at once."""
    writer, reader = make_store(), make_store()
    try:
        search = new_search(writer)
        assert reader.resolve_search("demo").id == search.id
        evaluation = writer.create_evaluation(search.id, 0, {}, state=RUNNING)
        assert reader.summary(search.id).running == 1
        writer.update_evaluation(evaluation.id, state=DONE, objective=1.0)
        assert reader.summary(search.id).done == 1
        reader.update_search(search.id, message="note from the reader")
        assert writer.get_search(search.id).message == "note from the reader"
    finally:
        writer.close()
        reader.close()


ALL_CHECKS = [check_search_round_trip_and_updates, check_evaluations_create_update_list_filter,
              check_update_evaluations_is_one_transaction, check_summaries_counts_and_best,
              check_resolve_by_label_and_id_prefix, check_find_evaluations_by_prefix,
              check_evaluation_numbers_are_unique_per_search, check_json_round_trip, check_text_round_trip,
              check_persists_across_reopen, check_two_open_stores_see_each_other]
ALL_CHECKS += CLAIM_CHECKS
ALL_CHECKS += _reports.REPORT_CHECKS


# ----- SqlStore: what older and newer hyperfleet versions left in the database --------------------
def _drop_later_indexes(table: sa.Table) -> None:
    """A copy of the evaluations table without the indexes schema versions 6 and 8 added."""
    later = ("ix_evaluations_search_key", "ix_evaluations_search_done", "ix_evaluations_search_end")
    for index in [i for i in table.indexes if i.name in later]:
        table.indexes.discard(index)


def check_migrates_from_version_1(make_store: MakeStore) -> None:
    from hyperfleet.store.schema import SCHEMA_VERSION, evaluations_table, meta_table

    store = make_store()
    engine = store.engine
    meta_table.metadata.drop_all(engine)
    store.close()
    v1 = sa.MetaData()  # the tables as hyperfleet 0.1 (schema version 1) created them
    sa.Table("hyperfleet_meta", v1, sa.Column("key", sa.String(64), primary_key=True),
             sa.Column("value", sa.String(256), nullable=False))
    sa.Table("searches", v1, sa.Column("id", sa.String(36), primary_key=True),
             sa.Column("label", sa.String(256), nullable=False, index=True),
             sa.Column("state", sa.String(16), nullable=False), sa.Column("folder", sa.Text, nullable=False),
             sa.Column("problem_path", sa.Text), sa.Column("run_path", sa.Text),
             sa.Column("problem", sa.JSON, nullable=False), sa.Column("settings", sa.JSON, nullable=False),
             sa.Column("created_time", sa.Float), sa.Column("start_time", sa.Float),
             sa.Column("end_time", sa.Float), sa.Column("message", sa.Text))
    evaluations_table.to_metadata(v1)
    for name in ("last_step", "finish_seq", "objectives", "constraints", "feasible",  # versions 4, 5
                 "driver_id", "config_key", "done_seq"):  # and 6
        v1.tables["evaluations"]._columns.remove(v1.tables["evaluations"].c[name])
    _drop_later_indexes(v1.tables["evaluations"])
    v1.create_all(engine)
    with engine.begin() as conn:
        conn.execute(v1.tables["hyperfleet_meta"].insert().values(key="schema_version", value="1"))
        conn.execute(v1.tables["searches"].insert().values(
            id="old-search", label="old", state="FINISHED", folder="/tmp", problem={"dims": []},
            settings={"max_evals": 1}, created_time=1.0))
        conn.execute(v1.tables["evaluations"].insert().values(
            id="old-eval", search_id="old-search", number=0, config={"x": 0.5}, state="DONE", objective=0.25,
            metadata={"k": "ü"}))
    engine.dispose()

    store = make_store()
    try:
        record = store.resolve_search("old")
        assert (record.id, record.state, record.job_id) == ("old-search", SearchState.FINISHED, None)
        assert record.settings == {"max_evals": 1}
        [evaluation] = store.list_evaluations("old-search")
        assert (evaluation.objective, evaluation.metadata) == (0.25, {"k": "ü"})
        store.update_search("old-search", scheduler="slurm", job_id="42", driver_host="h", driver_pid=7)
        assert store.get_search("old-search").job_id == "42"
        new_search(store)
        with store.engine.connect() as conn:
            version = conn.execute(sa.select(meta_table.c.value)).scalar_one()
        assert version == str(SCHEMA_VERSION), version
    finally:
        store.close()
    again = make_store()  # opening a migrated store again changes nothing
    try:
        assert again.get_search("old-search").driver_pid == 7 and len(again.list_searches()) == 2
    finally:
        again.close()


def check_newer_schema_is_refused(make_store: MakeStore) -> None:
    from hyperfleet.store.schema import meta_table

    store = make_store()
    with store.engine.begin() as conn:
        conn.execute(meta_table.update().values(value="99"))
    store.close()
    raises(StoreError, make_store, "schema version 99")


def check_invalid_schema_version_is_one_line(make_store: MakeStore) -> None:
    from hyperfleet.store.schema import meta_table

    store = make_store()
    with store.engine.begin() as conn:
        conn.execute(meta_table.update().values(value="two"))
    store.close()
    err = raises(StoreError, make_store, "schema version 'two'")
    assert "invalid literal" not in str(err) and "\n" not in str(err), str(err)


SQL_CHECKS = [check_migrates_from_version_1, check_migrates_from_version_2, check_newer_schema_is_refused,
              check_invalid_schema_version_is_one_line, *_reports.REPORT_SQL_CHECKS]

# two writers and a reader, in separate processes: in a module of its own
from hyperfleet.testing.store_kit_concurrency import check_concurrent_writers_and_reader  # noqa: E402,F401
