"""The store kit's checks of a driver's claim on a search (token, lease, take-over) and of the
migration from schema version 2, which added them. :mod:`hyperfleet.testing.store_kit` runs them
with the rest (``ALL_CHECKS`` / ``SQL_CHECKS``)."""

from __future__ import annotations

import threading
import time
from typing import Callable

import sqlalchemy as sa

from hyperfleet.store import SCHEMA_VERSION, SearchState, Store

MakeStore = Callable[[], Store]


def _search(store: Store):
    return store.create_search("claimed", "/tmp/searches/claimed", {"dims": [["x", 0.0, 1.0]]},
                               {"max_evals": 3}, run_path="run.py:run")


def check_claim_is_exclusive_until_released(make_store: MakeStore) -> None:
    store = make_store()
    try:
        record = _search(store)
        assert store.claim_search(record.id, "token-a", 60, driver_host="h", driver_pid=11, driver_started=5.5,
                                  driver_boot_id="boot-1")
        got = store.get_search(record.id)
        assert (got.driver_token, got.driver_pid, got.driver_started, got.driver_boot_id) == \
            ("token-a", 11, 5.5, "boot-1")
        assert got.lease_expires > time.time() + 50
        assert store.claim_search(record.id, "token-a", 60), "the holder may claim again"
        assert not store.claim_search(record.id, "token-b", 60, driver_pid=22), "a second driver won a held search"
        assert store.get_search(record.id).driver_pid == 11, "a lost claim wrote something"
        assert store.renew_lease(record.id, "token-a", 60) and not store.renew_lease(record.id, "token-b", 60)
        assert not store.release_search(record.id, "token-b", state=SearchState.FAILED)
        assert store.get_search(record.id).state == SearchState.CREATED, "a stranger's release wrote the state"
        assert store.release_search(record.id, "token-a", state=SearchState.FINISHED)
        got = store.get_search(record.id)
        assert (got.state, got.driver_token, got.lease_expires) == (SearchState.FINISHED, None, None)
        assert store.claim_search(record.id, "token-b", 60), "a released search cannot be claimed"
    finally:
        store.close()


def check_claim_takes_over_an_expired_lease_or_a_dead_token(make_store: MakeStore) -> None:
    store = make_store()
    try:
        record = _search(store)
        assert store.claim_search(record.id, "short", 0.2)
        assert not store.claim_search(record.id, "early", 60)
        time.sleep(0.4)
        assert store.claim_search(record.id, "late", 60), "an expired lease was not taken over"
        assert not store.renew_lease(record.id, "short", 60), "the expired driver still renews"
        assert store.claim_search(record.id, "heir", 60, take_from="late"), "a dead token was not taken over"
        assert not store.claim_search(record.id, "other", 60, take_from="late"), "taken from a token no one holds"
        assert store.get_search(record.id).driver_token == "heir"
    finally:
        store.close()


def check_simultaneous_claims_have_one_winner(make_store: MakeStore, contenders: int = 6) -> None:
    stores = [make_store() for _ in range(contenders)]
    try:
        record = _search(stores[0])
        stores[0].claim_search(record.id, "dead", 60)
        barrier = threading.Barrier(contenders)
        wins: list[bool] = [False] * contenders
        errors: list[BaseException] = []

        def contend(i: int) -> None:
            try:
                barrier.wait()
                wins[i] = stores[i].claim_search(record.id, f"token-{i}", 60, take_from="dead", driver_pid=i)
            except BaseException as err:  # noqa: BLE001 - reported below
                errors.append(err)

        threads = [threading.Thread(target=contend, args=(i,)) for i in range(contenders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors, errors
        assert sum(wins) == 1, f"{sum(wins)} drivers won one search"
        winner = wins.index(True)
        got = stores[0].get_search(record.id)
        assert (got.driver_token, got.driver_pid) == (f"token-{winner}", winner)
    finally:
        for store in stores:
            store.close()


def check_migrates_from_version_2(make_store: MakeStore) -> None:
    """A store written by hyperfleet with schema version 2 (before claims) opens, keeps its data and claims."""
    from hyperfleet.store.schema import evaluations_table, meta_table, searches_table

    store = make_store()
    engine = store.engine
    meta_table.metadata.drop_all(engine)
    store.close()
    v2 = sa.MetaData()
    added = {"driver_started", "driver_boot_id", "driver_token", "lease_expires"}
    meta_table.to_metadata(v2)
    sa.Table("searches", v2, *[sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
                               for c in searches_table.columns if c.name not in added])
    later = {"last_step", "finish_seq",  # added by version 4 (intermediate values)
             "objectives", "constraints", "feasible",  # version 5 (several objectives)
             "driver_id", "config_key", "done_seq"}  # version 6 (several drivers)
    sa.Table("evaluations", v2, *[sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
                                  for c in evaluations_table.columns if c.name not in later])
    v2.create_all(engine)
    with engine.begin() as conn:
        conn.execute(v2.tables["hyperfleet_meta"].insert().values(key="schema_version", value="2"))
        conn.execute(v2.tables["searches"].insert().values(
            id="v2-search", label="v2", state="RUNNING", folder="/tmp", problem={"dims": []},
            settings={"max_evals": 4}, created_time=1.0, driver_host="node-9", driver_pid=77))
        conn.execute(v2.tables["evaluations"].insert().values(
            id="v2-eval", search_id="v2-search", number=0, config={"x": 0.5}, state="DONE", objective=0.5,
            metadata={}))
    engine.dispose()

    store = make_store()
    try:
        record = store.resolve_search("v2")
        assert (record.state, record.driver_pid, record.driver_token, record.lease_expires) == \
            (SearchState.RUNNING, 77, None, None)
        assert [e.objective for e in store.list_evaluations("v2-search")] == [0.5]
        assert store.claim_search("v2-search", "new-driver", 30, driver_pid=78)
        with store.engine.connect() as conn:
            version = conn.execute(sa.select(meta_table.c.value)).scalar_one()
        assert version == str(SCHEMA_VERSION), version
    finally:
        store.close()


CLAIM_CHECKS = [check_claim_is_exclusive_until_released, check_claim_takes_over_an_expired_lease_or_a_dead_token,
                check_simultaneous_claims_have_one_winner]
