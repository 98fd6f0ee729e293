"""``resume`` rebuilds the stopper from the store: replaying the recorded reports, ends and
protections in their order gives it exactly the calls, hence the state and decisions, it had."""

import os
import signal
import subprocess
import sys
import time
from statistics import median

import pytest

from hyperfleet import HpProblem, run_search
from hyperfleet.api import continue_search
from hyperfleet.driver_reports import ReportRouter
from hyperfleet.stop import Stopper
from hyperfleet.store import EvaluationState, SearchState, SqlStore

RUN = """
import os, time
import hyperfleet

def run(config):
    value = 0.0
    for epoch in range(1, 9):
        value = config['x'] * epoch / 8 + config['k'] / 1000
        if not hyperfleet.report(value, step=epoch):
            break
        time.sleep(float(os.environ.get('CURVE_SLEEP', '0.002')))
    return value
"""


class LoggingMedian(Stopper):
    """A stateful stopper that logs every call: stop below the median of the others at a step."""

    name = "logging-median"

    def __init__(self, *, seed=None, **settings):
        self.seed, self.log, self.curves, self.protected, self.settings = seed, [], {}, set(), None

    def report(self, eval_id, step, value):
        others = [c[step] for e, c in self.curves.items() if e != eval_id and step in c]
        self.curves.setdefault(eval_id, {})[step] = value
        go = eval_id in self.protected or len(others) < 2 or value >= median(others)
        self.log.append(("report", eval_id, step, value, go))
        return go

    def finish(self, eval_id, *, stopped):
        self.log.append(("finish", eval_id, stopped))

    def protect(self, eval_id):
        self.protected.add(eval_id)
        self.log.append(("protect", eval_id))


def problem():
    p = HpProblem()
    p.add_dim("x", (0.0, 1.0))
    p.add_dim("k", (0, 50))
    p.add_starting_point(x=0.2, k=3)
    return p


@pytest.fixture
def run_file(tmp_path):
    path = tmp_path / "run.py"
    path.write_text(RUN)
    return str(path)


@pytest.mark.parametrize("evaluator", ["serial", "process"])
def test_replay_gives_the_stopper_the_same_calls_in_the_same_order(tmp_path, run_file, evaluator):
    live = LoggingMedian()
    result = run_search(problem(), run_file, search="random", max_evals=12, evaluator=evaluator,
                        workers=None if evaluator == "serial" else 2, seed=4, store=tmp_path / "hf.db",
                        stopper=live)
    assert result.stats.stopped >= 2 and result.stats.done >= 2, result.stats  # it decided both ways
    db = SqlStore(tmp_path / "hf.db")
    history = db.list_evaluations(result.search.id)
    starting = [e.id for e in history if e.config == {"x": 0.2, "k": 3}]
    rebuilt = LoggingMedian()
    ReportRouter(db, result.search.id, rebuilt).replay(history, starting)
    assert rebuilt.log == live.log
    assert [e for e in live.log if e[0] == "protect"] == [("protect", starting[0])]
    probe = ("probe-eval", 3, 0.05)
    assert rebuilt.report(*probe) == live.report(*probe)


def test_resume_mid_search_continues_with_the_stoppers_state(tmp_path, run_file):
    first = LoggingMedian()
    result = run_search(problem(), run_file, search="random", max_evals=6, evaluator="process", workers=2,
                        seed=5, store=tmp_path / "hf.db", stopper=first, label="halfway")
    assert result.search.settings["stopper"] == "logging-median"
    second = LoggingMedian()
    again = continue_search("halfway", store=tmp_path / "hf.db", max_evals=12, stopper=second)
    assert second.log[:len(first.log)] == first.log  # what it knew before, in the same order
    db = SqlStore(tmp_path / "hf.db")
    records = db.list_evaluations(again.search.id)
    assert len(records) == 12 and all(e.state in (EvaluationState.DONE, EvaluationState.STOPPED) for e in records)
    assert again.stats.finished == 12
    numbers = {e.id: e.number for e in records}
    later = [entry for entry in second.log[len(first.log):] if entry[0] == "report"]
    assert later and all(numbers[entry[1]] >= 6 for entry in later)  # only the new ones report now
    for e in records:
        steps = [r.step for r in db.list_reports(again.search.id, [e.id])]
        assert steps == list(range(1, e.last_step + 1))


def test_resume_keeps_a_named_stopper_and_refuses_a_custom_one_from_the_cli(tmp_path, run_file):
    run_search(problem(), run_file, search="random", max_evals=3, evaluator="serial", seed=1,
               store=tmp_path / "hf.db", stopper=LoggingMedian(), label="custom")
    with pytest.raises(ValueError, match=r"used a custom stopper \(logging-median\); continue it from Python"):
        continue_search("custom", store=tmp_path / "hf.db", max_evals=5)


def test_sigkill_mid_search_then_resume_keeps_every_curve(tmp_path, run_file):
    """The driver is killed while trainings report; `hyperfleet resume` keeps the recorded stopper,
    re-runs what was running, and every finished evaluation keeps its curve."""
    (tmp_path / "problem.py").write_text("from hyperfleet import HpProblem\nProblem = HpProblem()\n"
                                         "Problem.add_dim('x', (0.0, 1.0))\nProblem.add_dim('k', (0, 50))\n")
    env = {k: v for k, v in os.environ.items() if k != "HYPERFLEET_STORE"}
    env["CURVE_SLEEP"] = "0.05"
    args = ["search", "-p", "problem.py", "-r", "run.py", "--search", "random", "--max-evals", "16", "--workers",
            "2", "--name", "killed", "--seed", "0", "--quiet", "--stopper", "fixed", "--stopper-setting", "step=3"]
    proc = subprocess.Popen([sys.executable, "-m", "hyperfleet", *args], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline:  # kill once a few evaluations have finished and others run
        if (tmp_path / "hyperfleet.db").exists():
            db = SqlStore(tmp_path / "hyperfleet.db")
            searches = db.find_searches("killed")
            finished = [e for e in db.list_evaluations(searches[0].id) if e.state.finished] if searches else []
            db.close()
            if len(finished) >= 4:
                break
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    db = SqlStore(tmp_path / "hyperfleet.db")
    search = db.resolve_search("killed")
    assert search.state == SearchState.RUNNING  # as the killed driver left it
    before = {e.id: [r.step for r in db.list_reports(search.id, [e.id])]
              for e in db.list_evaluations(search.id) if e.state.finished}
    out = subprocess.run([sys.executable, "-m", "hyperfleet", "resume", "killed", "--quiet"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    search = db.resolve_search("killed")
    assert search.state == SearchState.FINISHED and search.settings["stopper"] == "fixed"
    records = db.list_evaluations(search.id)
    for eval_id, steps in before.items():  # nothing finished before the kill was lost
        assert [r.step for r in db.list_reports(search.id, [eval_id])] == steps
    stopped = [e for e in records if e.state == EvaluationState.STOPPED]
    assert len(stopped) == 16 and all(e.last_step == 3 for e in stopped)
    assert all(e.state in (EvaluationState.STOPPED, EvaluationState.CANCELLED) for e in records)
    for e in stopped:
        assert [r.step for r in db.list_reports(search.id, [e.id])] == [1, 2, 3]
