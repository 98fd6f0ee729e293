"""The dashboard in a real headless Chromium: no console errors, escaped values, the table sorts
and filters, and a running search's count rises on screen without a reload."""

import threading
import time
from pathlib import Path

import pytest

import hyperfleet
from hyperfleet import HpProblem
from hyperfleet.store import SqlStore
from hyperfleet.testing.synthetic_store import fill_search
from tests.dashboard.conftest import console_errors

XSS = "<script>alert(1)</script>"
GATED = Path(__file__).with_name("gated_run.py")


def wait_for(predicate, timeout=30.0, what="the condition"):
    from selenium.common.exceptions import StaleElementReferenceException

    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except StaleElementReferenceException:  # the table was drawn again meanwhile
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def column(driver, n):
    """The texts of the table's column ``n`` (from 1), read at once."""
    return driver.execute_script(
        f"return [...document.querySelectorAll('#evaluations tbody tr td:nth-child({n})')].map(td => td.textContent)")


def by_id(driver, element_id):
    return driver.find_element("id", element_id)


def no_alert(driver):
    from selenium.common.exceptions import NoAlertPresentException

    try:
        driver.switch_to.alert  # noqa: B018 - raises when there is none
    except NoAlertPresentException:
        return True
    return False


@pytest.fixture
def xss_store(tmp_path):
    problem = HpProblem()
    problem.add_dim("x", (0.0, 1.0))
    problem.add_dim("units", (8, 512), log=True)
    problem.add_dim("opt", ["adam", XSS])
    db = SqlStore(str(tmp_path / "hyperfleet.db"))
    sid = fill_search(db, 600, label=XSS, problem=problem, folder=str(tmp_path), curves=20)
    db.close()
    return str(tmp_path / "hyperfleet.db"), sid


def test_pages_load_without_errors_and_show_scripts_as_text(page, serve, xss_store, artifacts):
    path, sid = xss_store
    served = serve(path)
    page.get(served.url + "/")
    link = page.find_element("css selector", "#searches a.label")
    assert link.text == XSS and no_alert(page)
    link.click()
    wait_for(lambda: "/search/" in page.current_url, what="the search page")
    assert by_id(page, "search-label").text == XSS
    wait_for(lambda: page.find_elements("css selector", "#plot-best-evals .main-svg"), what="the plots")
    wait_for(lambda: page.find_elements("css selector", "#plot-importance .main-svg"), what="importance")
    wait_for(lambda: page.find_elements("css selector", "#plot-parcoords .main-svg"), what="parallel coordinates")
    wait_for(lambda: not by_id(page, "curves").get_attribute("hidden"), what="learning curves")
    assert by_id(page, "count-finished").text == "600"
    # the categorical value shows as text in the table and the plots, and never runs
    page.find_element("css selector", "#filter-text").send_keys("script")
    wait_for(lambda: by_id(page, "table-count").text.endswith(f"of {by_id(page, 'table-count').text.split()[-1]}")
             and page.find_elements("xpath", f"//table[@id='evaluations']//td[text()='{XSS}']"),
             what="the filtered rows")
    assert page.execute_script("return document.querySelectorAll('main script').length") == 0
    assert no_alert(page)
    artifacts(page, "dashboard-search.png")
    assert console_errors(page) == []


def test_table_sorts_filters_and_opens_an_evaluation(page, serve, xss_store, artifacts):
    path, sid = xss_store
    served = serve(path)
    page.get(f"{served.url}/search/{sid}")
    rows = "#evaluations tbody tr"
    wait_for(lambda: page.find_elements("css selector", rows), what="the table")
    best = SqlStore(path, create=False).summary(sid).best
    page.find_element("css selector", "th[data-sort='objective']").click()
    wait_for(lambda: column(page, 4)[:1] == [f"{best:.6g}"], what="the best row first")
    objectives = [float(t) for t in column(page, 4)]
    assert objectives == sorted(objectives, reverse=True)
    page.find_element("css selector", "th[data-sort='objective']").click()  # ascending now
    wait_for(lambda: float(column(page, 4)[0]) < best - 0.1, what="the worst row first")
    from selenium.webdriver.support.ui import Select

    Select(by_id(page, "filter-state")).select_by_value("FAILED")
    wait_for(lambda: set(column(page, 3)) == {"FAILED"}, what="only failed rows")
    failed = SqlStore(path, create=False).summary(sid).failed
    assert by_id(page, "table-count").text.endswith(f"of {failed}")
    wait_for(lambda: page.find_element("css selector", rows).click() or True, what="a row to click")
    wait_for(lambda: by_id(page, "detail").is_displayed(), what="the evaluation's detail")
    assert "diverged" in by_id(page, "detail-error").text
    artifacts(page, "dashboard-table.png")
    assert console_errors(page) == []


def test_a_running_search_counts_up_without_reload(page, serve, tmp_path, monkeypatch, artifacts):
    store = str(tmp_path / "hyperfleet.db")
    gate = tmp_path / "gate"
    problem = HpProblem()
    problem.add_dim("x", (0.0, 1.0))
    monkeypatch.setenv("HF_TEST_GATE", str(gate))
    SqlStore(store).close()
    search = threading.Thread(target=hyperfleet.run_search, daemon=True, kwargs=dict(
        problem=problem, run=f"{GATED}:run", search="random", max_evals=30, evaluator="thread",
        workers=2, label="running", seed=1, store=store))
    search.start()
    served = serve(store)
    sid = wait_for(lambda: SqlStore(store, create=False).list_searches(), what="the search")[0].id
    page.get(f"{served.url}/search/{sid}")
    page.execute_script("window.__same_page = true")
    wait_for(lambda: by_id(page, "live-status").text.startswith("live: updated"), what="a live update")
    assert by_id(page, "count-finished").text == "0"
    wait_for(lambda: by_id(page, "count-running").text == "2", what="two running evaluations")
    gate.touch()  # the evaluations may finish now
    wait_for(lambda: int(by_id(page, "count-finished").text) >= 3, timeout=60, what="the count to rise")
    assert page.execute_script("return window.__same_page") is True  # no reload happened
    wait_for(lambda: by_id(page, "count-finished").text == "30", timeout=90, what="the search to finish")
    wait_for(lambda: by_id(page, "search-state").text == "FINISHED", what="FINISHED on screen")
    # the rows that arrived live were drawn: one best-so-far point per evaluation
    wait_for(lambda: page.execute_script("return document.getElementById('plot-best-evals').data[1].x.length") >= 30,
             what="the live points")
    artifacts(page, "dashboard-live.png")
    search.join(timeout=30)
    assert console_errors(page) == []


def test_a_search_with_two_objectives_shows_its_pareto_front(page, serve, tmp_path, monkeypatch, artifacts):
    from tests.dashboard.conftest import two_objective_store

    monkeypatch.chdir(tmp_path)
    path = two_objective_store(tmp_path, "front", max_evals=40, seed=1)
    served = serve(path)
    page.get(served.url + "/search/front")
    wait_for(lambda: not by_id(page, "pareto").get_attribute("hidden"), what="the Pareto section")
    wait_for(lambda: page.find_elements("css selector", "#plot-pareto .main-svg"), what="the front plot")
    assert int(by_id(page, "pareto-size").text) >= 1
    artifacts(page, "dashboard-pareto.png")
    assert console_errors(page) == []
