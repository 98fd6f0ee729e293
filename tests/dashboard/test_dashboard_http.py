"""The dashboard over HTTP, served by a real uvicorn: read-only, escaped, token, files, data."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from hyperfleet import HpProblem
from hyperfleet.dashboard.security import access_token, inside
from hyperfleet.dashboard.source import ReadOnlyStore
from hyperfleet.store import SCHEMA_VERSION, SqlStore, StoreError
from hyperfleet.store.schema import evaluations_table
from hyperfleet.testing.synthetic_store import fill_search

XSS = "<script>alert(1)</script>"
TIMEOUT = 120  # seconds: the machine that runs the tests may be busy


def get(url, **kwargs):
    return httpx.get(url, timeout=TIMEOUT, **kwargs)


@pytest.fixture
def store_path(tmp_path):
    """A SQLite store with a search whose label and one categorical value are a script."""
    folder = tmp_path / "searches" / "s1"
    problem = HpProblem()
    problem.add_dim("x", (0.0, 1.0))
    problem.add_dim("opt", ["adam", XSS])
    db = SqlStore(str(tmp_path / "hyperfleet.db"))
    sid = fill_search(db, 400, label=XSS, problem=problem, folder=str(folder), curves=3)
    eval_folder = folder / "evals" / "000001"
    eval_folder.mkdir(parents=True)
    (eval_folder / "stdout.txt").write_text("epoch 1\nepoch 2 <b>bold</b>\n")
    (eval_folder / "stderr.txt").write_text("a warning\n")
    (tmp_path / "secret.txt").write_text("top secret\n")
    (folder / "link.txt").symlink_to(tmp_path / "secret.txt")
    db.close()
    return str(tmp_path / "hyperfleet.db"), sid


def test_write_methods_are_refused_and_the_store_stays_unchanged(serve, store_path):
    path, sid = store_path
    before = SqlStore(path, create=False).summary(sid).counts
    served = serve(path)
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        for url in ("/", f"/search/{sid}", f"/api/search/{sid}/live", "/api/searches", "/nowhere"):
            response = httpx.request(method, served.url + url, content=b"state=CANCELLED", timeout=TIMEOUT)
            assert response.status_code == 405, (method, url)
            assert response.headers["allow"] == "GET, HEAD"
    assert httpx.head(served.url + "/", timeout=TIMEOUT).status_code == 200
    assert SqlStore(path, create=False).summary(sid).counts == before


def test_the_store_is_opened_read_only(store_path, postgres_schema_url):
    path, sid = store_path
    db = ReadOnlyStore(path)
    with pytest.raises(StoreError, match="attempt to write a readonly database"):
        db.update_search(sid, label="changed")
    with pytest.raises(sa.exc.OperationalError, match="readonly"), db.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM evaluations")
    SqlStore(postgres_schema_url).close()  # creates the tables
    pg = ReadOnlyStore(postgres_schema_url)
    with pytest.raises(StoreError, match="read-only transaction"):
        pg.create_search("x", "/tmp", {}, {})
    with pytest.raises(sa.exc.DBAPIError, match="read-only transaction"), pg.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM evaluations")
    pg.close()


def test_an_unknown_or_outdated_store_is_one_clear_error(tmp_path):
    with pytest.raises(StoreError, match="no hyperfleet store at .*nothing.db; give the store"):
        ReadOnlyStore(str(tmp_path / "nothing.db"))
    sa.create_engine(f"sqlite:///{tmp_path / 'other.db'}").connect().close()
    with pytest.raises(StoreError, match="is not a hyperfleet store"):
        ReadOnlyStore(str(tmp_path / "other.db"))


def test_an_older_store_is_refused_not_migrated(tmp_path):
    old = tmp_path / "store-v2.db"
    shutil.copy(Path(__file__).parents[1] / "store" / "data" / "store-v2.db", old)
    before = old.read_bytes()
    with pytest.raises(StoreError, match=f"has schema version 2; this dashboard reads version {SCHEMA_VERSION}. "
                                         f"Run `hyperfleet ls --store ...` once"):
        ReadOnlyStore(str(old))
    assert old.read_bytes() == before


def test_values_from_the_store_are_escaped(serve, store_path):
    path, sid = store_path
    served = serve(path)
    for url in ("/", f"/search/{sid}"):
        page = get(served.url + url).text
        assert XSS not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    headers = get(served.url + f"/search/{sid}").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"].split("script-src")[1].split(";")[0]
    assert headers["x-content-type-options"] == "nosniff"
    ref = "<img src=x onerror=alert(1)>"
    missing = get(served.url + "/search/" + ref)
    assert missing.status_code == 404 and ref not in missing.text
    assert "no search with label or id &#39;&lt;img src=x onerror=alert(1)&gt;&#39;" in missing.text


def test_files_only_from_inside_the_search_folder(serve, store_path):
    path, sid = store_path
    served = serve(path)
    base = f"{served.url}/search/{sid}/file/"
    ok = get(base + "evals/000001/stdout.txt")
    assert ok.status_code == 200 and ok.text == "epoch 1\nepoch 2 <b>bold</b>\n"
    assert ok.headers["content-type"].startswith("text/plain")
    assert "sandbox" in ok.headers["content-security-policy"]
    for bad in ("../../secret.txt", "%2e%2e/%2e%2e/secret.txt", "..%2f..%2fsecret.txt", "link.txt",
                "%2Fetc%2Fpasswd", "evals/000001/../../../../secret.txt", "evals", "nothing.txt"):
        response = get(base + bad)
        assert response.status_code == 404, bad
        assert "top secret" not in response.text
    detail = get(f"{served.url}/api/search/{sid}/evaluation/1").json()
    assert detail["files"]["stdout.txt"] == {"tail": "epoch 1\nepoch 2 <b>bold</b>",
                                             "href": "evals/000001/stdout.txt"}
    assert detail["files"]["stderr.txt"]["tail"] == "a warning"


def test_inside_refuses_what_leads_out(tmp_path):
    (tmp_path / "s").mkdir()
    assert inside(str(tmp_path / "s"), "a/b.txt") == (tmp_path / "s" / "a" / "b.txt").resolve()
    assert inside(str(tmp_path / "s"), "../x") is None
    assert inside(str(tmp_path / "s"), "/etc/passwd") is None
    assert inside(str(tmp_path / "s"), "a\x00b") is None
    assert inside(None, "a") is None


def test_the_token_once_in_the_address_then_a_cookie_or_a_header(serve, store_path):
    path, sid = store_path
    token = "t" * 24
    served = serve(path, token=token)
    assert get(served.url + "/").status_code == 401
    assert get(served.url + "/api/searches").status_code == 401
    assert get(served.url + "/?token=wrong-wrong-wrong").status_code == 401
    first = get(f"{served.url}/search/{sid}?token={token}&x=1")
    assert first.status_code == 303 and first.headers["location"] == f"/search/{sid}?x=1"
    cookie = first.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    with httpx.Client(base_url=served.url, timeout=TIMEOUT) as client:
        client.get(f"/?token={token}")
        assert client.get(f"/search/{sid}").status_code == 200
    bearer = get(served.url + "/api/searches", headers={"Authorization": f"Bearer {token}"})
    assert bearer.status_code == 200 and bearer.json()["searches"][0]["id"] == sid


def test_only_loopback_goes_without_a_token():
    assert access_token("127.0.0.1", None) == (None, None)
    assert access_token("::1", None) == (None, None)
    token, warning = access_token("0.0.0.0", None)
    assert len(token) >= 24 and warning.startswith("warning: the dashboard listens on 0.0.0.0")
    assert access_token("10.1.2.3", "g" * 20)[0] == "g" * 20
    with pytest.raises(ValueError, match="at least 16 characters"):
        access_token("10.1.2.3", "short")


def test_no_store_password_on_any_page_and_postgresql_serves_every_view(serve, postgres_schema_url):
    password = sa.engine.make_url(postgres_schema_url).password
    db = SqlStore(postgres_schema_url)
    sid = fill_search(db, 50, label="pg")
    db.close()
    served = serve(postgres_schema_url)
    for url in ("/", f"/search/{sid}", "/api/searches", f"/api/search/{sid}/plots",
                f"/api/search/{sid}/evaluations", f"/api/search/{sid}/evaluation/3", "/search/nope"):
        text = get(served.url + url).text
        assert password not in text, url
    assert "***" in get(served.url + "/").text or "@" not in get(served.url + "/").text
    api = f"{served.url}/api/search/{sid}"
    by_units = get(api + "/evaluations", params={"sort": "param:units", "order": "desc", "limit": 50}).json()
    assert [r["config"][1] for r in by_units["rows"]] == sorted((r["config"][1] for r in by_units["rows"]), reverse=True)
    by_opt = get(api + "/evaluations", params={"sort": "param:opt", "limit": 50}).json()["rows"]
    assert [r["config"][2] for r in by_opt] == sorted(r["config"][2] for r in by_opt)
    assert get(api + "/evaluations", params={"q": "sgd"}).json()["total"] > 0
    plots = get(api + "/plots").json()
    assert plots["finished"] == 50 and len(plots["params"]["values"]) == 3


def test_table_pages_sorts_filters_and_searches(serve, store_path):
    path, sid = store_path
    served = serve(path)
    api = f"{served.url}/api/search/{sid}/evaluations"
    page = get(api, params={"limit": 10, "offset": 20}).json()
    assert page["total"] == 400 and [r["number"] for r in page["rows"]] == list(range(20, 30))
    best = get(api, params={"sort": "objective", "order": "desc", "limit": 5}).json()["rows"]
    objectives = [r["objective"] for r in best]
    assert objectives == sorted(objectives, reverse=True)
    db = SqlStore(path, create=False)
    assert objectives[0] == db.summary(sid).best
    by_x = get(api, params={"sort": "param:x", "limit": 400}).json()["rows"]
    assert [r["config"][0] for r in by_x] == sorted(r["config"][0] for r in by_x)
    failed = get(api, params={"state": "FAILED", "limit": 500}).json()
    assert failed["total"] == db.summary(sid).failed and {r["state"] for r in failed["rows"]} == {"FAILED"}
    found = get(api, params={"q": "script", "limit": 500}).json()
    assert found["total"] > 0 and all(r["config"][1] == XSS for r in found["rows"])
    assert get(api, params={"q": "12"}).json()["rows"][0]["number"] in range(400)
    assert get(api, params={"q": "100%_"}).json()["total"] == 0  # LIKE wildcards are literal
    bad = get(api, params={"sort": "nope"})
    assert bad.status_code == 400 and "cannot sort by 'nope'" in bad.json()["error"]
    assert get(api, params={"state": "BAD"}).status_code == 400


def test_live_sends_only_what_finished_since_the_cursor(serve, tmp_path):
    db = SqlStore(str(tmp_path / "hf.db"))
    sid = fill_search(db, 20_000, label="big")
    served = serve(str(tmp_path / "hf.db"))
    plots = get(f"{served.url}/api/search/{sid}/plots")
    data = plots.json()
    assert data["finished"] == 20_000 and len(plots.content) < 400_000
    assert len(data["history"]["x"]) <= 2100 and len(data["points"]["x"]) <= 1000
    assert len(data["params"]["objective"]) <= 1500
    live = get(f"{served.url}/api/search/{sid}/live", params={"since": data["cursor"]})
    body = live.json()
    # only the last LIVE_LAG_S seconds come again (8 workers, 0.5-2 s each: well under 1,000 rows)
    assert 0 < len(body["rows"]) < 1000 and len(live.content) < 60_000
    assert body["counts"]["DONE"] + body["counts"]["FAILED"] == 20_000
    later = data["cursor"] + 60
    newer = get(f"{served.url}/api/search/{sid}/live", params={"since": later}).json()
    assert newer["rows"] == [] and newer["cursor"] == later
    # a poll repeated with the same cursor still sees what finished meanwhile
    with db.engine.begin() as conn:
        conn.execute(evaluations_table.insert(), [{
            "id": "new-evaluation", "search_id": sid, "number": 20_000, "config": {"x": 0.3, "units": 8, "opt": "sgd"},
            "state": "DONE", "objective": 2.0, "metadata": {}, "end_time": later + 1, "start_time": later}])
    again = get(f"{served.url}/api/search/{sid}/live", params={"since": later}).json()
    assert again["rows"] == [[20_000, later + 1, 2.0, "DONE"]] and again["best"] == 2.0
    assert again["cursor"] == later + 1 and again["counts"]["DONE"] == newer["counts"]["DONE"] + 1
    importance = get(f"{served.url}/api/search/{sid}/importance").json()["importance"]
    assert importance[0]["name"] == "x"  # the objective depends on x only


def test_cli_warns_and_prints_a_token_off_loopback(tmp_path, store_path):
    path, _ = store_path
    from tests.dashboard.conftest import free_port

    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "hyperfleet", "dashboard", "--store", path, "--host",
                             "0.0.0.0", "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
        assert lines[0].startswith("warning: the dashboard listens on 0.0.0.0")
        address = lines[1].split(" at ")[1].strip()
        assert address.startswith(f"http://0.0.0.0:{port}/?token=")
        token = address.split("token=")[1]
        deadline = time.monotonic() + 30
        while True:
            try:
                response = get(f"http://127.0.0.1:{port}/api/searches",
                                     headers={"Authorization": f"Bearer {token}"})
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert response.status_code == 200 and json.loads(response.text)["searches"]
        assert get(f"http://127.0.0.1:{port}/").status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.parametrize("args, message", [
    (["--store", "/nonexistent/x.db"], "error: no hyperfleet store at /nonexistent/x.db"),
    (["--token", "short"], "error: --token must be at least 16 characters"),
])
def test_cli_bad_input_is_one_line(tmp_path, args, message):
    proc = subprocess.run([sys.executable, "-m", "hyperfleet", "dashboard", *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.startswith(message) and proc.stderr.count("\n") == 1


def test_cli_on_loopback_needs_no_token(tmp_path, store_path):
    path, sid = store_path
    from tests.dashboard.conftest import free_port

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "hyperfleet", "dashboard", "--port", str(port)],
                            cwd=Path(path).parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        first = proc.stdout.readline()
        assert first == f"dashboard of store {path} at http://127.0.0.1:{port}/\n"  # found as `ls` finds it
        deadline = time.monotonic() + 30
        while True:
            try:
                page = get(f"http://127.0.0.1:{port}/search/{sid[:8]}")
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert page.status_code == 200 and sid[:8] in page.text
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_a_search_with_two_objectives_sends_its_pareto_front(serve, tmp_path, monkeypatch):
    from hyperfleet.pareto import pareto_mask
    from tests.dashboard.conftest import two_objective_store

    monkeypatch.chdir(tmp_path)
    path = two_objective_store(tmp_path, "two-obj", max_evals=60, seed=3)
    db = SqlStore(path, create=False)
    [search] = db.list_searches()
    done = [e for e in db.list_evaluations(search.id) if e.objectives is not None]
    db.close()
    feasible = [e for e in done if e.feasible]
    expected = {e.number for e, on in zip(feasible, pareto_mask([e.objectives for e in feasible],
                                                                ["maximize", "minimize"])) if on}
    assert 0 < len(expected) < len(feasible) < len(done)  # some dominated, some infeasible

    served = serve(path)
    pareto = get(f"{served.url}/api/search/{search.id}/plots").json()["pareto"]
    assert pareto["names"] == ["acc", "size"] and pareto["directions"] == ["maximize", "minimize"]
    assert set(pareto["front"]["numbers"]) == expected and pareto["size"] == len(expected)
    assert len(pareto["infeasible"]["numbers"]) == len(done) - len(feasible)
    assert len(pareto["others"]["numbers"]) == len(feasible) - len(expected)
    acc = pareto["front"]["values"][0]
    assert acc == sorted(acc)  # the front is drawn in order of its first objective


def test_a_search_with_one_objective_has_no_pareto_front(serve, store_path):
    path, sid = store_path
    served = serve(path)
    assert get(f"{served.url}/api/search/{sid}/plots").json()["pareto"] is None
