"""The hot statements run on the DBAPI cursor (SQLite) write and read exactly what
``Connection.execute`` would, and fail the same way; other dialects go through SQLAlchemy."""

import sqlite3

import pytest
import sqlalchemy as sa

from hyperfleet.store import SqlStore, direct
from hyperfleet.store.members import _INSERT_EVALUATION, _LAST_DONE_SEQ, _RESERVE_QUERY, _finish_statement


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "postgresql":
        opened = SqlStore(request.getfixturevalue("postgres_schema_url"))
    else:
        opened = SqlStore(str(tmp_path / "store.db"))
    yield opened
    opened.close()


def _row(search_id, eval_id, number, **fields):
    row = dict(id=eval_id, search_id=search_id, number=number, config={"x": 1.5, "c": [1, "b"], "n": None},
               state="RUNNING", objective=None, metadata={"gpu": "0"}, error=None, created_time=1.0,
               start_time=None, end_time=None, worker=None, host=None, folder=None, last_step=None,
               finish_seq=None, driver_id=None, config_key="k", done_seq=None, objectives=None,
               constraints=None, feasible=None)
    return {**row, **fields}


def _stored(store, search_id):
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(f"SELECT * FROM evaluations WHERE search_id = '{search_id}' ORDER BY number").all()
    return [tuple(r)[1:] for r in rows]  # all but the id


def test_direct_statements_store_what_sqlalchemy_stores(store):
    search = store.create_search("direct", "/tmp", {"dims": []}, {"max_evals": 5})
    end = dict(state="DONE", objective=0.5, objectives=[0.5, 2.0], feasible=True, end_time=3.0)
    query = _finish_statement(tuple(sorted(end)), False)
    with store.engine.begin() as conn:
        conn.execute(_INSERT_EVALUATION, _row(search.id, "a1", 0))
        conn.execute(query, {"_id": "a1", **end, "done_seq": 1})
    with store.engine.begin() as conn:
        direct.write(conn, _INSERT_EVALUATION, _row(search.id, "b1", 1))
        changed = direct.write(conn, query, {"_id": "b1", **end, "done_seq": 1})
        missing = direct.write(conn, query, {"_id": "nobody", **end, "done_seq": 1})
    assert (changed, missing) == (1, 0)
    first, second = _stored(store, search.id)
    assert second[1] == 1 and first[1] == 0
    assert second[2:] == first[2:]  # JSON (None as JSON null, as SQLAlchemy stores it), booleans, floats
    records = store.list_evaluations(search.id)
    assert records[1].config == {"x": 1.5, "c": [1, "b"], "n": None} and records[1].objectives == [0.5, 2.0]
    assert records[1].constraints is None and records[1].feasible is True
    with store.engine.connect() as conn:
        assert direct.one(conn, _RESERVE_QUERY, {"sid": search.id, "key": "k"}) == \
            tuple(conn.execute(_RESERVE_QUERY, {"sid": search.id, "key": "k"}).one()) == (1, 1, 0)
        assert direct.scalar(conn, _LAST_DONE_SEQ, {"sid": search.id}) == 1
        assert direct.one(conn, _RESERVE_QUERY, {"sid": "none", "key": "k"}) == (0, -1, 0)


def test_a_locked_database_is_a_sqlalchemy_error_that_the_store_retries(tmp_path):
    path = tmp_path / "store.db"
    store = SqlStore(str(path))
    search = store.create_search("locked", "/tmp", {"dims": []}, {"max_evals": 5})
    holder = sqlite3.connect(path, timeout=0)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
        with engine.connect() as conn:
            with pytest.raises(sa.exc.OperationalError, match="locked"):
                direct.write(conn, _INSERT_EVALUATION, _row(search.id, "c1", 0))
        engine.dispose()
    finally:
        holder.rollback()
        holder.close()
        store.close()

