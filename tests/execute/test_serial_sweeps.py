"""The serial evaluator scans every process for what an evaluation left behind only when a
process was started while it ran (a scan reads all of /proc; most evaluations start nothing)."""

import subprocess
import sys

from hyperfleet.execute import process_tree as pt
from hyperfleet.execute.serial import SerialExecutor
from hyperfleet.testing import executor_kit as kit


def test_last_pid_moves_when_a_process_starts():
    before = pt.last_pid()
    assert before is not None
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    assert pt.last_pid() != before


def _scans(monkeypatch):
    scans = []
    real = pt.kill_tree
    monkeypatch.setattr(pt, "kill_tree", lambda token, **kw: scans.append(token) or real(token, **kw))
    return scans


def test_an_evaluation_that_starts_nothing_is_not_followed_by_a_scan(tmp_path, monkeypatch):
    scans = _scans(monkeypatch)
    ex = SerialExecutor()
    done = 0
    for _ in range(20):
        ex.submit(kit.task("quadratic", tmp_path, x=0.3))
        done += sum(o.state == "DONE" for o in kit.collect(ex, 1))
    ex.shutdown()
    assert done == 20
    # another process of the machine may start during one of them: that one is scanned after
    assert len(scans) < 10, len(scans)


def test_an_evaluation_that_starts_a_process_is_scanned_and_its_children_killed(tmp_path, monkeypatch):
    scans = _scans(monkeypatch)
    ex = SerialExecutor()
    task = kit.task("starts_children", tmp_path)
    ex.submit(task)
    assert kit.collect(ex, 1)[0].state == "DONE"
    ex.shutdown()
    assert task.eval_id in scans
    kit._assert_children_dead(task, within=15)

