"""The tutorial's workflow through the real `hyperfleet` command."""

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import RUNS, TUTORIAL


def hf(*args, cwd, env=None, check=True):
    full_env = {k: v for k, v in os.environ.items() if k != "HYPERFLEET_STORE"}
    full_env.update({"SYNTHETIC_SLEEP": "0.02", **(env or {})})
    proc = subprocess.run([sys.executable, "-m", "hyperfleet", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"hyperfleet {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def tutorial_search(tmp_path_factory):
    work = tmp_path_factory.mktemp("tutorial")
    proc = hf("search", "-p", str(TUTORIAL / "problem.py"), "-r", str(TUTORIAL / "synthetic_run.py"),
              "--search", "random", "--max-evals", "30", "--evaluator", "process", "--workers", "2",
              "--name", "test-mnist", "--seed", "0", cwd=work)
    return work, proc


def test_search_prints_id_folder_and_best(tutorial_search):
    work, proc = tutorial_search
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("search ") and "(test-mnist)" in lines[0]
    assert lines[1].startswith("folder ") and Path(lines[1].split(" ", 1)[1]).is_dir()
    assert "30 done, 0 failed" in proc.stdout
    assert "best objective" in proc.stdout and "optimizer_type = " in proc.stdout
    assert (work / "hyperfleet.db").is_file()


def test_results_csv_matches_the_tutorial_layout(tutorial_search):
    work, _ = tutorial_search
    folder = Path(hf("path", "test-mnist", cwd=work).stdout.strip())
    with open(folder / "results.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["log2_batch_size", "nunits_1", "nunits_2", "dropout_1", "dropout_2", "optimizer_type",
                       "objective", "elapsed_sec"]
    assert len(rows) == 31
    start = ["7", "100", "20", "0.2", "0.2", "RMSprop"]  # the starting point, once (rows in finish order:
    assert [r[:6] for r in rows[1:]].count(start) == 1  # the other worker ran another point meanwhile)
    objectives = [float(r[-2]) for r in rows[1:]]
    assert all(0 < y < 1 for y in objectives)
    records = json.loads((folder / "results.json").read_text())["evaluations"]
    assert len(records) == 30 and all(r["state"] == "DONE" for r in records)
    first = min(records, key=lambda r: r["number"])  # launched first
    assert [str(first["config"][k]) for k in ("log2_batch_size", "nunits_1", "nunits_2", "dropout_1", "dropout_2",
                                              "optimizer_type")] == start
    assert (folder / "hyperfleet.log").is_file()


def test_ls_lists_searches_and_evaluations(tutorial_search):
    work, _ = tutorial_search
    listing = hf("ls", cwd=work).stdout
    assert "test-mnist" in listing and "FINISHED" in listing and " 30 " in listing
    evaluations = hf("ls", "test-mnist", cwd=work).stdout
    assert evaluations.count(" DONE ") == 30
    assert "optimizer_type=RMSprop" in evaluations


def test_path_of_search_and_of_evaluation(tutorial_search):
    work, _ = tutorial_search
    search_folder = hf("path", "test-mnist", cwd=work).stdout.strip()
    records = json.loads((Path(search_folder) / "results.json").read_text())["evaluations"]
    first = min(records, key=lambda r: r["number"])
    eval_folder = hf("path", first["id"][:8], cwd=work).stdout.strip()
    assert eval_folder == first["folder"] and eval_folder.startswith(search_folder)
    assert "trained with" in (Path(eval_folder) / "stdout.txt").read_text()
    search_id = json.loads((Path(search_folder) / "results.json").read_text())["search"]["id"]
    assert hf("path", search_id[:8], cwd=work).stdout.strip() == search_folder
    # the tutorial's `bcd`: cd into the folder in a shell
    shell = subprocess.run(["bash", "-c", f'cd "$({sys.executable} -m hyperfleet path test-mnist)" && ls'],
                           cwd=work, capture_output=True, text=True)
    assert "results.csv" in shell.stdout.split()


def test_results_shows_the_best_first(tutorial_search):
    work, _ = tutorial_search
    out = hf("results", "test-mnist", "--top", "3", cwd=work).stdout
    rows = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert [r[0] for r in rows] == ["1", "2", "3"]
    values = [float(r[2]) for r in rows]
    assert values == sorted(values, reverse=True)


def test_store_option_and_environment(tmp_path):
    store = tmp_path / "elsewhere" / "my.db"
    store.parent.mkdir()
    hf("search", "-p", str(TUTORIAL / "problem.py"), "-r", str(TUTORIAL / "synthetic_run.py"),
       "--search", "random", "--max-evals", "3", "--evaluator", "serial", "--name", "env", cwd=tmp_path,
       env={"HYPERFLEET_STORE": str(store)})
    assert store.is_file() and not (tmp_path / "hyperfleet.db").exists()
    assert "env" in hf("ls", "--store", str(store), cwd=tmp_path).stdout
    assert (store.parent / "searches").is_dir()


def test_search_no_drain_is_recorded_and_reaches_its_budget(tmp_path):
    proc = hf("search", "-p", str(TUTORIAL / "problem.py"), "-r", str(TUTORIAL / "synthetic_run.py"),
              "--search", "random", "--max-evals", "6", "--evaluator", "process", "--workers", "2",
              "--no-drain", "--name", "busy", "--seed", "1", cwd=tmp_path)
    assert "max_evals reached" in proc.stdout
    # two evaluations may finish in the same instant, so the budget can be passed by one
    assert int(re.search(r"(\d+) done", proc.stdout).group(1)) in (6, 7)
    from hyperfleet.store import SqlStore

    db = SqlStore(tmp_path / "hyperfleet.db")
    assert db.resolve_search("busy").settings["drain"] is False


@pytest.mark.parametrize("args, message", [
    (["search", "-p", "missing.py", "-r", "x.py"], "file"),
    (["search", "-p", "{problem}", "-r", "{runs}:nope"], "no run function named 'nope'"),
    (["search", "-p", "{runs}", "-r", "{runs}:quadratic"], "defines no problem named 'Problem'"),
    (["search", "-p", "{runs}:quadratic", "-r", "{runs}:quadratic"], "not an HpProblem"),
    (["search", "-p", "{problem}", "-r", "{runs}:quadratic", "--search", "grid"], "Invalid value"),
    (["search", "-p", "{problem}", "-r", "{runs}:quadratic", "--max-evals", "0"], "Invalid value"),
    (["ls", "no-such-search"], "no search label, search id or evaluation id matches 'no-such-search'"),
    (["path", "zzzz"], "no search label, search id or evaluation id matches 'zzzz'"),
    (["results", "zzzz"], "no search with label or id 'zzzz'"),
])
def test_bad_input_gives_one_clear_line(tmp_path, args, message):
    args = [a.format(problem=TUTORIAL / "problem.py", runs=RUNS) for a in args]
    if args[0] != "search":  # a store without that search
        from hyperfleet.store import SqlStore

        SqlStore(tmp_path / "hyperfleet.db").close()
    proc = hf(*args, cwd=tmp_path, check=False)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    if args[0] != "search":  # the message names the store it looked in
        assert f"in store {tmp_path / 'hyperfleet.db'}" in proc.stderr


def test_no_searches_yet(tmp_path):
    from hyperfleet.store import SqlStore

    SqlStore(tmp_path / "hyperfleet.db").close()
    assert "no searches yet" in hf("ls", cwd=tmp_path).stdout


def test_unwritable_store_folder_is_one_clear_line(tmp_path):
    proc = hf("search", "-p", str(TUTORIAL / "problem.py"), "-r", str(TUTORIAL / "synthetic_run.py"),
              "--store", "/sys/hf.db", "--max-evals", "1", cwd=tmp_path, check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: cannot create the store /sys/hf.db")
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_debug_shows_the_traceback(tmp_path):
    proc = hf("--debug", "ls", "no-such-search", cwd=tmp_path, check=False)
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_ls_watch_refreshes(tutorial_search):
    work, _ = tutorial_search
    proc = subprocess.Popen([sys.executable, "-m", "hyperfleet", "ls", "test-mnist", "--watch", "--interval", "0.3"],
                            cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    import time

    first = proc.stdout.readline()  # started (on a loaded machine Python's start alone can take seconds)
    time.sleep(3)
    proc.send_signal(__import__("signal").SIGINT)
    out, _ = proc.communicate(timeout=30)
    out = first + out
    assert out.count("hyperfleet ls test-mnist (every 0.3 s") >= 2
    assert out.count("FINISHED: 30 done") >= 2


def test_path_of_an_evaluation_that_never_started_says_so(tmp_path):
    from hyperfleet.store import EvaluationState, SqlStore

    db = SqlStore(tmp_path / "hf.db")
    search = db.create_search("never", str(tmp_path / "never"), {}, {})
    folder = tmp_path / "never" / "evals" / "00000"
    record = db.create_evaluation(search.id, 0, {"x": 1}, folder=str(folder), state=EvaluationState.CANCELLED)
    db.close()
    out = subprocess.run([sys.executable, "-m", "hyperfleet", "path", record.id[:8], "--store",
                          str(tmp_path / "hf.db")], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 1 and out.stdout == ""
    assert "evaluation 0 (CANCELLED) has not started" in out.stderr and str(folder) in out.stderr
    assert "Traceback" not in out.stderr and not folder.exists()


def test_path_of_an_evaluation_that_printed_nothing_makes_its_folder(tmp_path):
    """A thread or serial evaluation's folder is made on its first output: ``cd "$(hyperfleet path
    ID)"`` works all the same."""
    from hyperfleet.store import EvaluationState, SqlStore

    db = SqlStore(tmp_path / "hf.db")
    search = db.create_search("quiet", str(tmp_path / "quiet"), {}, {})
    folder = tmp_path / "quiet" / "evals" / "00000"
    record = db.create_evaluation(search.id, 0, {"x": 1}, folder=str(folder), state=EvaluationState.DONE,
                                  start_time=1.0, end_time=2.0)
    db.close()
    out = subprocess.run([sys.executable, "-m", "hyperfleet", "path", record.id[:8], "--store",
                          str(tmp_path / "hf.db")], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(folder) and folder.is_dir()
    assert folder.stat().st_mode & 0o777 == 0o700


def test_path_whose_folder_cannot_be_made_is_one_clear_line(tmp_path):
    from hyperfleet.store import EvaluationState, SqlStore

    db = SqlStore(tmp_path / "hf.db")
    search = db.create_search("blocked", str(tmp_path / "blocked"), {}, {})
    (tmp_path / "blocked").write_text("a file where the search's folder should be")
    folder = tmp_path / "blocked" / "evals" / "00000"
    record = db.create_evaluation(search.id, 0, {"x": 1}, folder=str(folder), state=EvaluationState.DONE,
                                  start_time=1.0, end_time=2.0)
    db.close()
    out = subprocess.run([sys.executable, "-m", "hyperfleet", "path", record.id[:8], "--store",
                          str(tmp_path / "hf.db")], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 1 and out.stdout == ""
    assert "printed nothing" in out.stderr and "cannot be made now" in out.stderr
    assert "Traceback" not in out.stderr
