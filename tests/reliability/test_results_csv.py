"""Item 7: results.csv holds each finished evaluation (DONE, FAILED, TIMEOUT) exactly once,
whatever the order evaluations finished in and wherever a crash fell."""

import csv

from hyperfleet.api import continue_search
from hyperfleet.report.exports import IDS_NAME, ResultsCsv
from hyperfleet.store import EvaluationRecord, EvaluationState, SqlStore

from .conftest import check_agreement, crash, csv_rows, hf, search_args


def _drop_rows(folder, eval_ids, keep_ids=False):
    """What a kill leaves: the store has these evaluations, results.csv does not (``keep_ids``: the
    kill fell between the ids file and the CSV)."""
    rows = list(csv.reader(open(folder / "results.csv", newline="")))
    ids = (folder / IDS_NAME).read_text().splitlines()
    keep = [i for i, e in enumerate(ids) if e not in eval_ids]
    with open(folder / "results.csv", "w", newline="") as f:
        csv.writer(f).writerows([rows[0]] + [rows[i + 1] for i in keep])
    if not keep_ids:
        (folder / IDS_NAME).write_text("".join(ids[i] + "\n" for i in keep))


def test_a_lost_row_that_finished_before_a_written_one_is_caught_up_once(project):
    """The CSV order is not the end-time order (results come back from several workers): a row lost
    by a kill is found by id, not by counting (which duplicated one row and lost another)."""
    assert hf(search_args("order", max_evals=8), project).returncode == 0
    store = SqlStore(project / "hyperfleet.db")
    search = store.resolve_search("order")
    evaluations = store.list_evaluations(search.id)
    # evaluation 7 finished (in the store) before 6 and was recorded in a later batch; the kill came
    # after the store write of its batch and before the CSV write
    late = evaluations[7]
    store.update_evaluation(late.id, end_time=evaluations[5].end_time + 0.001)
    folder = __import__("pathlib").Path(search.folder)
    _drop_rows(folder, {late.id})
    crash(store, "order", n_running=0)
    continue_search("order", store=store, evaluator="serial")
    counts = check_agreement(store, search.id)
    assert len(csv_rows(folder)) == 8 == counts["DONE"] + counts.get("FAILED", 0)


def test_a_kill_between_the_ids_file_and_the_csv_loses_nothing(project):
    assert hf(search_args("between", max_evals=6), project).returncode == 0
    store = SqlStore(project / "hyperfleet.db")
    search = store.resolve_search("between")
    last = store.list_evaluations(search.id)[-1]
    folder = __import__("pathlib").Path(search.folder)
    crash(store, "between", n_running=0)
    _drop_rows(folder, {last.id}, keep_ids=True)
    with open(folder / "results.csv", "a") as f:
        f.write("0.123,4")  # half a row
    continue_search("between", store=store, max_evals=7, evaluator="serial")
    check_agreement(store, search.id)
    assert len(csv_rows(folder)) == 7


def test_running_fail_then_resume_writes_each_failure_once(project):
    assert hf(search_args("failing", max_evals=6), project).returncode == 0
    store = SqlStore(project / "hyperfleet.db")
    search, interrupted = crash(store, "failing", n_running=2)
    proc = hf(["resume", "failing", "--running", "fail", "--quiet"], project)
    assert proc.returncode == 0, proc.stderr
    counts = check_agreement(store, search.id)
    assert counts["FAILED"] >= 2
    folder = __import__("pathlib").Path(search.folder)
    assert len(csv_rows(folder)) == 6
    assert hf(["resume", "failing", "--max-evals", 10, "--quiet"], project).returncode == 0
    check_agreement(store, search.id)
    rows = csv_rows(folder)
    assert len(rows) == 10, "rows are not the distinct finished evaluations"


def test_cancelled_evaluations_get_no_row(tmp_path, x_problem):
    table = ResultsCsv(tmp_path, x_problem, 0.0)
    records = [EvaluationRecord(id=f"e{i}", search_id="s", number=i, config={"x": i / 10}, state=state,
                                objective=0.1 * i if state == EvaluationState.DONE else None, end_time=float(i))
               for i, state in enumerate([EvaluationState.DONE, EvaluationState.CANCELLED,
                                          EvaluationState.FAILED, EvaluationState.TIMEOUT])]
    table.append(records)
    table.append(records)  # twice: still one row each
    assert [r[0] for r in csv_rows(tmp_path)] == ["0.0", "0.2", "0.3"]
    again = ResultsCsv(tmp_path, x_problem, 0.0)
    assert again.catch_up(records) == 0


def test_a_csv_written_before_the_ids_file_is_matched_by_content(tmp_path, x_problem):
    """A search folder left by an older hyperfleet (no ids file): rows are matched to evaluations."""
    table = ResultsCsv(tmp_path, x_problem, 0.0)
    records = [EvaluationRecord(id=f"e{i}", search_id="s", number=i, config={"x": i / 10},
                                state=EvaluationState.DONE, objective=i / 10, end_time=10.0 - i) for i in range(4)]
    table.append([records[0], records[2]])
    (tmp_path / IDS_NAME).unlink()
    assert ResultsCsv(tmp_path, x_problem, 0.0).catch_up(records) == 2
    assert sorted(r[0] for r in csv_rows(tmp_path)) == ["0.0", "0.1", "0.2", "0.3"]


def _done(i, end):
    return EvaluationRecord(id=f"e{i}", search_id="s", number=i, config={"x": i / 10},
                            state=EvaluationState.DONE, objective=i / 10, end_time=end)


def test_a_shared_writer_keeps_appending_to_the_file_another_one_rewrote(tmp_path, x_problem):
    """The files stay open between appends; when another driver's catch-up replaces them (a new
    file under the same name), the next append goes to the new file, and none of its rows is lost."""
    mine, other = ResultsCsv(tmp_path, x_problem, 0.0, shared=True), ResultsCsv(tmp_path, x_problem, 0.0, shared=True)
    try:
        mine.append([_done(0, 1.0)])
        other.append([_done(1, 2.0)])
        with open(tmp_path / "results.csv", "a") as f:
            f.write("0.9,0.9,9.000\n")  # a row without an id: the catch-up rewrites the CSV without it
        before = (tmp_path / "results.csv").stat().st_ino
        other.catch_up([_done(0, 1.0), _done(1, 2.0)])
        assert (tmp_path / "results.csv").stat().st_ino != before  # replaced, not edited in place
        mine.append([_done(2, 3.0)])
        (tmp_path / IDS_NAME).unlink()  # gone: the catch-up makes a new one from the rows
        other.catch_up([_done(i, i + 1.0) for i in range(3)])
        mine.append([_done(3, 4.0)])
        other.append([_done(4, 5.0)])
        assert [r[0] for r in csv_rows(tmp_path)] == ["0.0", "0.1", "0.2", "0.3", "0.4"]
        assert (tmp_path / IDS_NAME).read_text().split() == ["e0", "e1", "e2", "e3", "e4"]
    finally:
        mine.close()
        other.close()


def test_closing_releases_the_files_and_appending_again_reopens_them(tmp_path, x_problem):
    table = ResultsCsv(tmp_path, x_problem, 0.0)
    table.append([_done(0, 1.0)])
    table.close()
    table.append([_done(1, 2.0)])
    table.close()
    assert [r[0] for r in csv_rows(tmp_path)] == ["0.0", "0.1"]
