"""A dashboard served by a real uvicorn on a free port, and a real headless Chromium."""

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
pytest.importorskip("plotly")

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """uvicorn serving the dashboard of ``store`` in a thread of this process."""

    def __init__(self, store, token=None):
        import uvicorn

        from hyperfleet.dashboard import create_app

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(store, token=token), host="127.0.0.1", port=self.port,
                                log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)

    def stop(self):
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def serve():
    started = []

    def start(store, token=None):
        served = Served(store, token)
        started.append(served)
        return served

    yield start
    for served in started:
        served.stop()


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium through Selenium, on Debian's binaries (nothing downloaded)."""
    webdriver = pytest.importorskip("selenium.webdriver")
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.skip(f"needs {CHROMIUM} and {CHROMEDRIVER}: apt-get install chromium chromium-driver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1800",
                "--enable-unsafe-swiftshader", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture
def page(browser):
    """The browser on a blank page with its console emptied (the last test's page polled a
    server that is gone)."""
    browser.get("about:blank")
    browser.get_log("browser")
    return browser


def console_errors(driver) -> list:
    """Console messages of level SEVERE since the last call (errors, CSP violations, failed loads)."""
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


@pytest.fixture
def artifacts(tmp_path):
    """Where screenshots go: the test's tmp folder, and $HYPERFLEET_ARTIFACTS when set."""
    extra = os.environ.get("HYPERFLEET_ARTIFACTS")

    def save(driver, name: str) -> Path:
        path = tmp_path / name
        driver.save_screenshot(str(path))
        if extra:
            Path(extra).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(extra) / name)
        return path

    return save


def _two_objectives(config):
    """Accuracy-like (maximized) against size-like (minimized), with a constraint on x + y."""
    x, y = config["x"], config["y"]
    return {"objectives": {"acc": 1.0 - (x - 0.3) ** 2, "size": y + 0.5 * x},
            "constraints": {"budget": x + y - 1.5}}


def two_objective_store(folder: Path, label: str, max_evals: int, seed: int) -> str:
    """A real random search with two objectives and a constraint, run in ``folder``; its store."""
    from hyperfleet import HpProblem, run_search

    problem = HpProblem()
    problem.add_dim("x", (0.0, 1.0))
    problem.add_dim("y", (0.0, 1.0))
    problem.add_objective("acc")
    problem.add_objective("size", direction="minimize")
    problem.add_constraint("budget")
    path = str(folder / "hyperfleet.db")
    run_search(problem, _two_objectives, search="random", max_evals=max_evals, evaluator="serial",
               seed=seed, store=path, label=label)
    return path
