"""Isolated evaluations are forked by one fork server per process: fresh, watched, and cheap.

Real processes throughout: the fork server is a real child interpreter and every evaluation a
real process it forks.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
import warnings
from pathlib import Path

import pytest

from hyperfleet.execute import fork_server
from hyperfleet.execute.isolation import evaluate_isolated
from hyperfleet.execute.task import EvalTask

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fork server is Linux's")

RUN = textwrap.dedent("""
    import os, sys, time
    CALLS = []

    def fresh(p):
        CALLS.append(1)  # a process shared between evaluations would count up
        return {"objective": len(CALLS),
                "pid": os.getpid(), "ppid": os.getppid(), "sid": os.getsid(0),
                "numpy_preloaded": "numpy" in sys.modules, "env": os.environ.get("HF_TEST_VAR"),
                "cwd": os.getcwd(), "random": __import__("random").random()}

    def sleeper(p):
        print("started", flush=True)
        time.sleep(p["seconds"])
        return 1.0

    def crash(p):
        os.kill(os.getpid(), 11)

    def starts_children_and_dies(p):
        import hyperfleet.testing.runs as runs
        runs.starts_children(p)
        os._exit(3)  # no clean-up of its own: its worker's sweep must find them
""")


@pytest.fixture
def run_file(tmp_path: Path) -> str:
    path = tmp_path / "runs_for_fork.py"
    path.write_text(RUN)
    return str(path)


def _task(run_file: str, attr: str, folder: Path, **options) -> EvalTask:
    eval_id = f"{attr}-{uuid.uuid4().hex[:8]}"
    sub = folder / eval_id
    sub.mkdir(parents=True)
    return EvalTask(eval_id, run_file, attr, options.pop("config", {}), str(sub), isolate=True, **options)


def test_each_evaluation_is_a_fresh_process_of_one_fork_server(run_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    outcomes = [evaluate_isolated(_task(run_file, "fresh", tmp_path, env={"HF_TEST_VAR": str(i)}))
                for i in range(4)]
    assert [o.state for o in outcomes] == ["DONE"] * 4, [o.error for o in outcomes]
    meta = [o.metadata for o in outcomes]
    assert [o.objective for o in outcomes] == [1, 1, 1, 1]  # no module state carried over
    assert len({m["pid"] for m in meta}) == 4
    assert len({m["random"] for m in meta}) == 4  # random's state is reseeded per process
    parents = {m["ppid"] for m in meta}
    assert len(parents) == 1 and parents != {os.getpid()}  # one fork server, not this process
    assert all(m["sid"] == m["pid"] for m in meta)  # each in a session of its own
    assert [m["env"] for m in meta] == ["0", "1", "2", "3"]  # the task's environment, each time
    assert {m["cwd"] for m in meta} == {str(tmp_path)}
    # libraries that read the environment when imported (BLAS threads, CUDA) are imported by the
    # evaluation, after its environment was set, never by the server
    assert not any(m["numpy_preloaded"] for m in meta)


def test_without_the_fork_server_each_evaluation_is_a_new_interpreter(run_file, tmp_path, monkeypatch):
    monkeypatch.setenv(fork_server.ENV_SWITCH, "0")
    outcome = evaluate_isolated(_task(run_file, "fresh", tmp_path))
    assert outcome.state == "DONE", outcome.error
    assert outcome.metadata["ppid"] == os.getpid()


def test_a_crash_a_timeout_and_output_through_the_fork_server(run_file, tmp_path):
    crashed = evaluate_isolated(_task(run_file, "crash", tmp_path))
    assert crashed.state == "FAILED" and "SIGSEGV" in crashed.error
    task = _task(run_file, "sleeper", tmp_path, config={"seconds": 30}, timeout=1.0)
    began = time.time()
    timed_out = evaluate_isolated(task)
    assert timed_out.state == "TIMEOUT" and time.time() - began < 15
    assert (Path(task.folder) / "stdout.txt").read_text() == "started\n"


def test_a_dead_fork_server_takes_its_evaluations_and_a_new_one_starts(run_file, tmp_path):
    import threading

    evaluate_isolated(_task(run_file, "fresh", tmp_path))  # the server runs
    server = fork_server._server._process
    task = _task(run_file, "sleeper", tmp_path, config={"seconds": 60})
    result = {}
    worker = threading.Thread(target=lambda: result.setdefault("outcome", evaluate_isolated(task)))
    worker.start()
    stdout = Path(task.folder) / "stdout.txt"
    deadline = time.time() + 30
    while time.time() < deadline and "started" not in (stdout.read_text() if stdout.exists() else ""):
        time.sleep(0.05)
    os.kill(server.pid, signal.SIGKILL)
    worker.join(30)
    assert not worker.is_alive()
    assert result["outcome"].state == "FAILED" and "SIGKILL" in result["outcome"].error
    again = evaluate_isolated(_task(run_file, "fresh", tmp_path))
    assert again.state == "DONE" and fork_server._server._process.pid != server.pid


def test_the_fork_server_ends_with_the_process_that_started_it(run_file, tmp_path):
    script = textwrap.dedent(f"""
        import pathlib, uuid
        from hyperfleet.execute import fork_server
        from hyperfleet.execute.isolation import evaluate_isolated
        from hyperfleet.execute.task import EvalTask
        folder = pathlib.Path({str(tmp_path)!r}) / uuid.uuid4().hex
        folder.mkdir()
        outcome = evaluate_isolated(EvalTask("e1", {run_file!r}, "fresh", {{}}, str(folder), isolate=True))
        assert outcome.state == "DONE", outcome.error
        print(fork_server._server._process.pid, flush=True)
        import os; os._exit(0)  # no clean-up: the server must notice on its own
    """)
    owner = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert owner.returncode == 0, owner.stderr
    server_pid = int(owner.stdout.split()[-1])
    deadline = time.time() + 10
    while time.time() < deadline and _alive(server_pid):
        time.sleep(0.05)
    assert not _alive(server_pid)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_what_a_forked_evaluation_starts_dies_with_it(run_file, tmp_path):
    """The sweep for left-behind processes is skipped only when no process id was handed out
    since the evaluation's own: here it started three, so it must run and kill them."""
    from hyperfleet.testing.executor_kit import _assert_children_dead

    dies = _task(run_file, "starts_children_and_dies", tmp_path)
    dies = dataclasses.replace(dies, config={"folder": dies.folder})
    outcome = evaluate_isolated(dies)
    assert outcome.state == "FAILED" and "code 3" in outcome.error, outcome.error
    _assert_children_dead(dies)


def test_a_process_forked_from_a_worker_starts_its_own_fork_server(run_file, tmp_path):
    evaluate_isolated(_task(run_file, "fresh", tmp_path))
    parent_server = fork_server._server._process.pid
    import threading

    read, write = os.pipe()
    held, release = threading.Event(), threading.Event()

    def starting_an_evaluation():  # another thread, inside spawn() when the process forks
        with fork_server._server._lock:
            held.set()
            release.wait(30)

    other = threading.Thread(target=starting_an_evaluation)
    other.start()
    held.wait(30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork() with a thread running
        pid = os.fork()
    release.set()
    other.join()
    if pid == 0:  # the forked copy of this process: its own server, the parent's left alone
        code = 1
        try:
            outcome = evaluate_isolated(_task(run_file, "fresh", tmp_path))
            os.write(write, f"{outcome.state} {outcome.metadata['ppid']}".encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    status, deadline = None, time.time() + 30
    while status is None and time.time() < deadline:
        done, code = os.waitpid(pid, os.WNOHANG)
        status = code if done else None
        time.sleep(0 if done else 0.05)
    if status is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked process hung on the lock of its parent's fork server")
    state, ppid = os.read(read, 100).decode().split()
    os.close(read)
    assert os.waitstatus_to_exitcode(status) == 0 and state == "DONE"
    assert int(ppid) != parent_server
    assert evaluate_isolated(_task(run_file, "fresh", tmp_path)).metadata["ppid"] == parent_server
