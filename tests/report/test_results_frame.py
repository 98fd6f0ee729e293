"""``hyperfleet.load_results`` and ``hyperfleet results --format csv|json`` on real stores."""

import io
import json
import subprocess
import sys

import pandas as pd
import pytest

import hyperfleet
from hyperfleet import HpProblem
from hyperfleet.store import SqlStore, StoreError
from hyperfleet.testing.synthetic_store import fill_search
from tests.conftest import run_ref


@pytest.fixture(scope="module")
def real_search(tmp_path_factory):
    """A real search (serial, random): 12 evaluations, those with x > 0.5 fail."""
    folder = tmp_path_factory.mktemp("frame")
    problem = HpProblem()
    problem.add_dim("x", (0.0, 1.0))
    problem.add_dim("opt", ["adam", "sgd"])
    store = str(folder / "hyperfleet.db")
    hyperfleet.run_search(problem, run_ref("fails_above_half"), search="random", max_evals=12,
                          evaluator="serial", label="frame", seed=3, store=store)
    return store


def test_one_row_per_evaluation_with_the_store_values(real_search):
    frame = hyperfleet.load_results("frame", store=real_search)
    db = SqlStore(real_search, create=False)
    records = db.list_evaluations(db.resolve_search("frame").id)
    assert len(frame) == len(records) == 12
    assert list(frame.columns[:6]) == ["number", "id", "state", "objective", "x", "opt"]
    assert list(frame["id"]) == [r.id for r in records]
    for row, record in zip(frame.itertuples(), records):
        assert row.state == record.state.value
        assert row.x == record.config["x"] and row.opt == record.config["opt"]
        if record.objective is None:
            assert pd.isna(row.objective) and "diverged" in row.error
        else:
            assert row.objective == record.objective and pd.isna(row.error)
        assert row.start_time == pd.Timestamp(record.start_time, unit="s", tz="UTC")
        assert row.duration_s == pytest.approx(record.end_time - record.start_time)
    assert set(frame.state) == {"DONE", "FAILED"}
    assert str(frame["end_time"].dtype) == "datetime64[ns, UTC]"


def test_by_id_prefix_and_unknown_search(real_search):
    db = SqlStore(real_search, create=False)
    search_id = db.resolve_search("frame").id
    assert len(hyperfleet.load_results(search_id[:8], store=db)) == 12
    with pytest.raises(StoreError, match="no search with label or id 'nope'"):
        hyperfleet.load_results("nope", store=real_search)


def test_postgresql_metadata_curves_and_collisions(postgres_schema_url):
    problem = HpProblem()
    problem.add_dim("x", (0.0, 1.0))
    problem.add_dim("state", ["a", "b"])  # the name of a fixed column: becomes config.state
    store = SqlStore(postgres_schema_url)
    fill_search(store, 300, label="pg", problem=problem, curves=4)
    frame = hyperfleet.load_results("pg", store=store)
    assert len(frame) == 300 and list(frame.number) == list(range(300))
    assert set(frame["config.state"]) == {"a", "b"} and set(frame.state) <= {"DONE", "FAILED"}
    assert list(frame["metadata.epochs"][:8]) == [0, 1, 2, 3, 4, 5, 6, 0]
    assert list(frame.last_step[:5]) == [5, 5, 5, 5, pd.NA]
    store.close()


def test_empty_search_has_the_columns(tmp_path):
    store = SqlStore(str(tmp_path / "hf.db"))
    fill_search(store, 0, label="empty")
    frame = hyperfleet.load_results("empty", store=store)
    assert len(frame) == 0 and {"objective", "x", "units", "opt", "end_time"} <= set(frame.columns)


def hf(*args, cwd, check=True):
    return subprocess.run([sys.executable, "-m", "hyperfleet", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=check)


def test_cli_csv_json_and_table(real_search, tmp_path):
    csv_out = hf("results", "frame", "--format", "csv", "--store", real_search, cwd=tmp_path).stdout
    frame = pd.read_csv(io.StringIO(csv_out))
    assert len(frame) == 12 and "objective" in frame.columns and "x" in frame.columns
    records = json.loads(hf("results", "frame", "--format", "json", "--top", "2", "--store", real_search,
                            cwd=tmp_path).stdout)
    best = hyperfleet.load_results("frame", store=real_search).nlargest(2, "objective")
    assert [r["id"] for r in records] == list(best["id"])
    assert records[0]["end_time"].endswith("Z") or "+00:00" in records[0]["end_time"]
    table = hf("results", "frame", "--store", real_search, cwd=tmp_path).stdout
    assert table.startswith("best ") and "rank" in table


def test_without_pandas_one_line_says_what_to_install(real_search, tmp_path):
    code = ("import sys; sys.modules['pandas'] = None; from hyperfleet.cli import main; "
            f"main(['results', 'frame', '--format', 'csv', '--store', {real_search!r}])")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("error: load_results needs pandas, which is not installed; install it "
                                   "with pip install 'hyperfleet[data]'")
