"""Finding the store (as git finds its repository) and never creating one from a read command."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hyperfleet.store import NoStoreFound, SqlStore, StoreError, locate_store, open_store
from tests.conftest import TUTORIAL


def hf(*args, cwd, env=None):
    full_env = {k: v for k, v in os.environ.items() if k not in ("HYPERFLEET_STORE", "COLUMNS")}
    full_env.update({"SYNTHETIC_SLEEP": "0.01", **(env or {})})
    return subprocess.run([sys.executable, "-m", "hyperfleet", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A folder whose store (named other.db in a second copy) holds one small finished search."""
    work = tmp_path_factory.mktemp("project")
    proc = hf("search", "-p", str(TUTORIAL / "problem.py"), "-r", str(TUTORIAL / "synthetic_run.py"),
              "--search", "random", "--max-evals", "4", "--evaluator", "serial", "--name", "found", "--quiet",
              cwd=work)
    assert proc.returncode == 0, proc.stderr
    return work


@pytest.mark.parametrize("args", [["ls"], ["ls", "x"], ["results", "x"], ["path", "x"], ["report", "x"],
                                  ["resume", "x"], ["cancel", "x"]])
def test_read_commands_in_an_empty_folder_create_nothing(tmp_path, args):
    proc = hf(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.strip() == (f"error: no hyperfleet store found (looked for hyperfleet.db in {tmp_path} "
                                   f"and its parents); run `hyperfleet search` first or give --store")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [["ls"], ["results", "x"], ["report", "x"], ["resume", "x"]])
def test_a_missing_store_given_by_path_is_not_created(tmp_path, args):
    proc = hf(*args, "--store", str(tmp_path / "nope.db"), cwd=tmp_path)
    assert proc.returncode == 2 and f"no hyperfleet store at {tmp_path / 'nope.db'}" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_commands_work_inside_the_search_folder_and_below(project):
    folder = Path(hf("path", "found", cwd=project).stdout.strip())
    for where in (folder, folder / "evals" / "00000"):
        results = hf("results", "found", "--top", "2", cwd=where)
        assert results.returncode == 0, results.stderr
        assert "best 2 of search" in results.stdout
        assert hf("path", "found", cwd=where).stdout.strip() == str(folder)
    report = hf("report", "found", cwd=folder / "evals")
    assert report.returncode == 0, report.stderr
    assert (folder / "report.html").is_file()
    assert not any(p.name == "hyperfleet.db" for p in folder.rglob("*.db"))


def test_no_such_search_names_the_store_it_searched(project):
    for args in (["results", "nothing"], ["ls", "nothing"], ["report", "nothing"], ["path", "nothing"]):
        proc = hf(*args, cwd=project / "searches")
        assert proc.returncode == 2 and f"in store {project / 'hyperfleet.db'}" in proc.stderr, args


def test_a_store_of_another_name_is_found_from_its_search_folder(tmp_path):
    proc = hf("search", "-p", str(TUTORIAL / "problem.py"), "-r", str(TUTORIAL / "synthetic_run.py"),
              "--search", "random", "--max-evals", "2", "--evaluator", "serial", "--name", "named", "--quiet",
              "--store", str(tmp_path / "mine.db"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    folder = next(tmp_path.glob("searches/named-*"))
    assert "named" in hf("ls", cwd=folder).stdout
    assert locate_store(start=folder / "evals") == str(tmp_path / "mine.db")


def test_locate_store_order(tmp_path, monkeypatch):
    monkeypatch.delenv("HYPERFLEET_STORE", raising=False)
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    with pytest.raises(NoStoreFound, match="looked for hyperfleet.db in"):
        locate_store(start=deep)
    assert locate_store(start=deep, create=True) == str(deep / "hyperfleet.db")
    assert not (deep / "hyperfleet.db").exists()
    SqlStore(tmp_path / "hyperfleet.db").close()
    assert locate_store(start=deep) == str(tmp_path / "hyperfleet.db")
    assert locate_store(start=deep, create=True) == str(tmp_path / "hyperfleet.db")  # git-like for search too
    monkeypatch.setenv("HYPERFLEET_STORE", str(tmp_path / "env.db"))
    assert locate_store(start=deep) == str(tmp_path / "env.db")
    assert locate_store("given.db", start=deep) == "given.db"


def test_the_python_api_defaults_find_the_store(tmp_path, monkeypatch, x_problem):
    from hyperfleet import run_search
    from hyperfleet.api import continue_search

    monkeypatch.delenv("HYPERFLEET_STORE", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError, match="no hyperfleet store found"):
        continue_search("x")
    assert not (tmp_path / "hyperfleet.db").exists()
    from tests.conftest import run_ref

    result = run_search(x_problem, run_ref("quadratic"), search="random", max_evals=2, evaluator="serial",
                        label="api")
    monkeypatch.chdir(result.folder)
    assert open_store(create=False).resolve_search("api").id == result.search.id


def test_read_only_open_of_postgres_creates_no_tables(postgres_schema_url, tmp_path):
    import sqlalchemy as sa

    from hyperfleet.store.engines import parse_url

    proc = hf("ls", "--store", postgres_schema_url, cwd=tmp_path)
    assert proc.returncode == 2 and "is not a hyperfleet store" in proc.stderr
    assert "Traceback" not in proc.stderr
    engine = sa.create_engine(parse_url(postgres_schema_url))
    try:
        with engine.connect() as conn:
            assert sa.inspect(conn).get_table_names() == []
    finally:
        engine.dispose()
    SqlStore(postgres_schema_url).close()  # a creating command makes the tables
    assert hf("ls", "--store", postgres_schema_url, cwd=tmp_path).returncode == 0
