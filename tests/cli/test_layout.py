"""What the CLI prints: 80-column layouts, failures made visible, values with brackets, help."""

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hyperfleet.cli.progress import ProgressDisplay, progress_line
from hyperfleet.cli.tables import Column, render
from hyperfleet.store import EvaluationState
from tests.conftest import TUTORIAL

STATES = {s.value for s in EvaluationState} | {"FINISHED", "QUEUED", "RUNNING", "FAILED", "CANCELLED",
                                               "INTERRUPTED", "CREATED"}


def hf(*args, cwd, columns=None, check=True):
    env = {k: v for k, v in os.environ.items() if k not in ("HYPERFLEET_STORE", "COLUMNS")}
    env["SYNTHETIC_SLEEP"] = "0.01"
    if columns:
        env["COLUMNS"] = str(columns)
    proc = subprocess.run([sys.executable, "-m", "hyperfleet", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=180)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """One store with the tutorial's search (all done) and a search whose choices hold brackets,
    where some evaluations fail (one error with brackets too)."""
    work = tmp_path_factory.mktemp("layout")
    hf("search", "-p", str(TUTORIAL / "problem.py"), "-r", str(TUTORIAL / "synthetic_run.py"), "--search", "random",
       "--max-evals", "12", "--evaluator", "serial", "--name", "test-mnist", "--seed", "0", "--quiet", cwd=work)
    (work / "problem.py").write_text(
        "from hyperfleet import HpProblem\nProblem = HpProblem()\nProblem.add_dim('x', (0.0, 1.0))\n"
        "Problem.add_dim('act', ['[relu]', '[/]', 'tanh'])\n")
    (work / "run.py").write_text(
        "def run(c):\n    print('out [/] line')\n"
        "    if c['x'] > 0.5:\n        raise ValueError(f\"diverged at [/bold] x={c['x']:.2f}\")\n"
        "    return 0.9120000004768372 + 0.0 * c['x']\n")
    hf("search", "-p", "problem.py", "-r", "run.py", "--search", "random", "--max-evals", "10", "--seed", "2",
       "--evaluator", "serial", "--name", "brackets", "--quiet", cwd=work)
    return work


def _table(text: str) -> tuple[str, list[str]]:
    lines = text.splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("──"))
    return lines[rule - 1], [line for line in lines[rule + 1:] if re.match(r"\s*\S+\s", line)
                             and not line.startswith(("one evaluation", "hyperfleet"))]


def test_ls_at_80_columns(work):
    out = hf("ls", cwd=work, columns=80).stdout
    header, rows = _table(out)
    assert all(len(line) <= 80 for line in out.splitlines())
    assert "…" not in header and header.split() == ["id", "label", "state", "done", "run", "fail", "best",
                                                    "started"]
    for row in rows:
        assert row.split()[2] in STATES, row  # never FINI…
    assert re.search(r"test-mnist\s+FINISHED\s+12\s+0\s+0\s", out)


def test_ls_search_at_80_columns_shows_the_first_error_line(work):
    out = hf("ls", "brackets", cwd=work, columns=80).stdout
    header, rows = _table(out)
    assert all(len(line) <= 80 for line in out.splitlines())
    assert "…" not in header and "error" in header.split() and "state" in header.split()
    failed = [r for r in rows if " FAILED " in r]
    assert failed and all(r.split()[2] in STATES for r in rows)
    assert all("ValueError: diverged" in r for r in failed)
    assert "act=[relu]" in out or "act=[/]" in out
    assert "hyperfleet ls ID" in out
    wide = hf("ls", "brackets", cwd=work).stdout  # piped without COLUMNS: whole rows
    assert "ValueError: diverged at [/bold] x=" in wide


def test_results_at_80_columns(work):
    out = hf("results", "test-mnist", "--top", "5", cwd=work, columns=80).stdout
    header, rows = _table(out)
    assert all(len(line) <= 80 for line in out.splitlines())
    assert "…" not in out
    assert header.split() == ["rank", "id", "objective", "configuration"]
    assert "optimizer_type=" in out and "nunits_1=" in out and "nunits_2=" in out
    wide = hf("results", "test-mnist", "--top", "5", cwd=work, columns=200).stdout
    header, _ = _table(wide)
    assert header.split()[3:] == ["log2_batch_size", "nunits_1", "nunits_2", "dropout_1", "dropout_2",
                                  "optimizer_type"]


def test_objectives_are_rounded_and_brackets_kept(work):
    out = hf("results", "brackets", cwd=work, columns=80).stdout
    assert "0.912" in out and "0.9120000004768372" not in out
    assert "[relu]" in out or "[/]" in out
    listing = hf("ls", cwd=work).stdout
    assert "brackets" in listing and "0.912 " in listing + " "


def test_one_evaluation_in_full(work):
    listing = hf("ls", "brackets", "--state", "failed", cwd=work).stdout
    _, rows = _table(listing)
    eval_id = rows[0].split()[0]
    out = hf("ls", eval_id, cwd=work).stdout
    assert out.startswith(f"evaluation {eval_id}")
    for word in ("state      FAILED", "config", "x = ", "act = ", "started", "ended", "worker     serial-0",
                 "error", "ValueError: diverged at [/bold]", "stdout.txt", "out [/] line", "folder"):
        assert word in out, word
    folder = out.rsplit("folder", 1)[1].split()[0]
    assert Path(folder).is_dir() and hf("path", eval_id, cwd=work).stdout.strip() == folder


def test_every_evaluation_failed(tmp_path):
    (tmp_path / "problem.py").write_text("from hyperfleet import HpProblem\nProblem = HpProblem()\n"
                                         "Problem.add_dim('x', (0.0, 1.0))\n")
    (tmp_path / "run.py").write_text("def run(c):\n    raise RuntimeError('no GPU [cuda:0]')\n")
    proc = hf("search", "-p", "problem.py", "-r", "run.py", "--max-evals", "3", "--evaluator", "serial",
              "--search", "random", "--name", "doomed", "--quiet", cwd=tmp_path, check=False)
    assert proc.returncode == 1
    assert "every evaluation failed (3); see the errors with: hyperfleet ls doomed" in proc.stdout
    assert "error: every evaluation of search doomed failed" in proc.stderr
    listing = hf("ls", "doomed", cwd=tmp_path).stdout
    assert listing.count("RuntimeError: no GPU [cuda:0]") == 3
    resumed = hf("resume", "doomed", "--max-evals", "4", "--quiet", cwd=tmp_path, check=False)
    assert resumed.returncode == 1 and "every evaluation failed" in resumed.stdout
    report = hf("report", "doomed", cwd=tmp_path).stdout
    assert "no evaluation succeeded (4 failed)" in report
    page = next(tmp_path.glob("searches/doomed-*/report.html")).read_text()
    assert "No evaluation succeeded: 4 failed" in page and "RuntimeError: no GPU [cuda:0]" in page


def test_render_never_cuts_fixed_columns():
    columns = [Column("id"), Column("state"), Column("config", flexible=True, min_width=10),
               Column("worker", priority=3)]
    rows = [["abcd1234", "CANCELLED", "a=1 " * 30, "pid-123456"], ["ef567890", "DONE", "b=2", "pid-1"]]
    text = render(columns, rows, 40)
    lines = text.splitlines()
    assert all(len(line) <= 40 for line in lines)
    assert "CANCELLED" in lines[2] and lines[2].rstrip().endswith("…")
    assert "worker" not in lines[0]  # left out rather than cutting the rest


@pytest.mark.parametrize("width", [60, 80, 120, 200])
def test_progress_line_fits_and_keeps_the_counts(width):
    class Stats:
        done, failed, running, best, start_time = 18, 2, 2, 0.9120000004768372, 0.0
        finished, stopped = 20, 0

    line = progress_line(Stats, 100, width, now=12.0)
    assert len(line) <= width
    assert "20/100" in line and "0.912" in line and "0.9120000004768372" not in line
    bar = re.match(r"\[([━ ]+)\]", line)
    assert bar and len(bar.group(1)) >= 10
    if width >= 80:
        assert "fail 2" in line or "failed 2" in line


def test_progress_without_a_terminal_prints_plain_lines():
    class Stats:
        done = failed = running = finished = stopped = 0
        best, start_time = None, 0.0

    stream = io.StringIO()
    display = ProgressDisplay(50, stream=stream)

    class Record:
        id, label, folder = "id", "label", "/f"

    display.on_start(Record, Stats)
    for n in range(1, 51):
        Stats.done = Stats.finished = n
        display.on_done(Record, Stats)
    display.close()
    lines = stream.getvalue().splitlines()
    assert 10 <= len(lines) <= 11 and lines[-1].startswith("progress 50/50: 50 done")


def test_ls_state_choices_are_the_evaluation_states():
    from hyperfleet.cli.ls import STATE_NAMES

    assert STATE_NAMES == [s.value for s in EvaluationState]


def test_help_and_bare_command(tmp_path):
    bare = hf(cwd=tmp_path)
    assert bare.returncode == 0 and "Commands:" in bare.stdout
    submit = hf("submit", "--help", cwd=tmp_path).stdout
    for option in ("--search", "--max-evals", "--seed"):
        line = next(x for x in submit.splitlines() if x.strip().startswith(option))
        assert len(line.split(None, 2)) == 3, line  # described, not just named
    assert "the word `hps`" in submit
    resume = hf("resume", "--help", cwd=tmp_path).stdout
    assert "--queued-only" in resume and "--dask-address" in resume and "batch jobs" in resume
    ls = hf("ls", "--help", cwd=tmp_path).stdout
    assert "CREATED, RUNNING, DONE, FAILED, TIMEOUT, CANCELLED" in " ".join(ls.split())
    seed = hf("search", "-p", "p.py", "-r", "r.py", "--seed", "-5", cwd=tmp_path, check=False)
    assert seed.returncode == 2 and "'--seed'" in seed.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_missing_search_folder_is_one_line(work, tmp_path):
    import shutil

    hf("search", "-p", "problem.py", "-r", "run.py", "--search", "random", "--max-evals", "1", "--evaluator",
       "serial", "--name", "gone", "--quiet", cwd=work, check=False)
    folder = Path(hf("path", "gone", cwd=work).stdout.strip())
    shutil.rmtree(folder)
    for command in (["report", "gone"], ["resume", "gone", "--max-evals", "2", "--quiet"]):
        proc = hf(*command, cwd=work, check=False)
        assert proc.returncode == 2 and "does not exist any more" in proc.stderr, command
        assert "Errno" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_progress_on_a_terminal_redraws_one_line(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    class Stats:
        done, failed, running, finished, best, start_time = 3, 1, 2, 4, 0.5, 0.0
        stopped = 0

    class Record:
        id, label, folder = "id", "label", "/f"

    monkeypatch.setenv("COLUMNS", "80")
    stream = Tty()
    display = ProgressDisplay(10, stream=stream)
    display.on_start(Record, Stats)
    display.on_done(Record, Stats)
    display.close()
    text = stream.getvalue()
    assert text.startswith("\r[") and text.endswith("\n") and "4/10" in text
    assert all(len(part) <= 80 for part in text.replace("\r", "\n").splitlines())
