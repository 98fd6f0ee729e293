"""`hyperfleet report`: valid PNG plots and a self-contained HTML page that a browser loads cleanly."""

import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from hyperfleet import HpProblem, run_search
from hyperfleet.report.html_report import write_report
from hyperfleet.store import SqlStore

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def finished_search(tmp_path):
    pytest.importorskip("matplotlib")
    problem = HpProblem()
    problem.add_dim("x", (0.0, 1.0))
    problem.add_dim("n", (1, 64), log=True)
    problem.add_dim("kind", ["a", "b", "c"])
    run = tmp_path / "run.py"
    run.write_text("def run(c):\n"
                   "    if c['kind'] == 'c' and c['x'] > 0.8:\n"
                   "        raise ValueError('diverged')\n"
                   "    return -(c['x'] - 0.3) ** 2 + (0.1 if c['kind'] == 'b' else 0.0)\n")
    store = SqlStore(tmp_path / "hf.db")
    result = run_search(problem, str(run), search="random", max_evals=30, evaluator="process", workers=2,
                        store=store, label="rep", seed=1)
    return store, store.get_search(result.search.id)


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.images = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs)["src"])


def test_report_files_are_valid(finished_search):
    store, search = finished_search
    files = write_report(store, search)
    assert set(files) == {"best", "utilization", "parameters", "importance", "html"}
    for name in ("best", "utilization", "parameters", "importance"):
        data = files[name].read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5000, name
        import matplotlib.image

        assert matplotlib.image.imread(files[name]).shape[2] in (3, 4)
    page = files["html"].read_text()
    parser = _Collector()
    parser.feed(page)
    assert parser.tags[0] == "html" and "table" in parser.tags
    assert len(parser.images) == 4 and all(src.startswith("data:image/png;base64,") for src in parser.images)
    best = max(e.objective for e in store.list_evaluations(search.id) if e.objective is not None)
    assert f"{best:.6g}" in page
    assert '"max_evals": 30' in __import__('html').unescape(page)


def test_importance_finds_the_parameters_that_matter(finished_search):
    from hyperfleet.report.plots import importance_scores
    from hyperfleet.store import EvaluationState

    store, search = finished_search
    done = store.list_evaluations(search.id, [EvaluationState.DONE])
    scores = importance_scores(HpProblem.from_dict(search.problem), done)
    assert scores[0] > scores[1]  # x drives the objective, n does not


def test_report_from_the_cli_and_on_a_running_search(finished_search, tmp_path):
    store, search = finished_search
    proc = subprocess.run([sys.executable, "-m", "hyperfleet", "report", "rep", "--store", str(tmp_path / "hf.db")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "report.html" in proc.stdout
    # a search with nothing finished yet still gets its page (importance needs 8 results)
    problem = HpProblem()
    problem.add_dim("x", (0.0, 1.0))
    fresh = store.create_search("empty", str(tmp_path / "empty"), problem.to_dict(), {})
    Path(fresh.folder).mkdir()
    files = write_report(store, fresh)
    assert "importance" not in files and files["html"].exists()


@pytest.mark.skipif(not (shutil.which("chromium") or shutil.which("chromium-browser")),
                    reason="headless Chromium not installed (.ci/run installs Debian's chromium)")
def test_html_loads_in_headless_chromium_without_console_errors(finished_search, tmp_path):
    store, search = finished_search
    page = write_report(store, search)["html"]
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    proc = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                           "--disable-background-networking", "--disable-component-update", "--disable-sync",
                           f"--user-data-dir={tmp_path / 'chrome'}", "--enable-logging=stderr", "--v=0",
                           "--virtual-time-budget=3000", "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "<h1>Search rep</h1>" in proc.stdout and proc.stdout.count("<img") == 4
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line]
    assert not console, console
