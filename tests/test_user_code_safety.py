"""Code beside the run file, or a run file others can write, never runs as the search's owner."""

import grp
import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

from tests.conftest import TUTORIAL

PLANT = ("import os\n"
         "open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'PLANTED-%d' % os.getpid()), 'w').close()\n")

RUN = ("import colorsys, pprint\n"
       "def run(config):\n"
       "    colorsys.rgb_to_hsv(0.1, 0.2, 0.3)\n"
       "    return {'objective': config['dropout_1'], 'colorsys': colorsys.__file__, 'pprint': pprint.__file__}\n")


@pytest.fixture
def project(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    shutil.copy(TUTORIAL / "problem.py", folder / "problem.py")
    (folder / "run.py").write_text(RUN)
    for name in ("pprint.py", "colorsys.py"):  # planted by someone else
        (folder / name).write_text(PLANT)
    for path in folder.iterdir():
        os.chmod(path, 0o644)
    return folder


def hf(args, cwd):
    env = {k: v for k, v in os.environ.items() if k != "HYPERFLEET_STORE"}
    return subprocess.run([sys.executable, "-m", "hyperfleet", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("evaluator", [["--evaluator", "thread"], ["--evaluator", "process"],
                                       ["--evaluator", "process", "--eval-timeout", "120"]],
                         ids=["thread", "process", "isolated-child"])
def test_a_module_planted_beside_the_run_file_is_not_imported(project, evaluator):
    proc = hf(["search", "-p", "problem.py", "-r", "run.py", "--search", "random", "--max-evals", "2",
               "--workers", "1", *evaluator, "--name", "planted"], project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not list(project.glob("PLANTED-*")), "a planted module ran"
    with sqlite3.connect(project / "hyperfleet.db") as conn:
        rows = conn.execute("SELECT state, metadata FROM evaluations").fetchall()
    assert len(rows) == 2 and all(state == "DONE" for state, _ in rows), rows
    for _, metadata in rows:
        assert str(project) not in metadata and "lib/python" in metadata


def _refused(project, target, mode, what, group=None):
    os.chmod(target, mode)
    if group is not None:
        os.chown(target, -1, group)
    proc = hf(["search", "-p", "problem.py", "-r", "run.py", "--search", "random", "--max-evals", "2",
               "--name", "refused"], project)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    message = proc.stderr.strip()
    assert len(message.splitlines()) == 1 and message.startswith("error: refusing to load"), message
    assert what in message
    assert not (project / "hyperfleet.db").exists() and not (project / "searches").exists()
    assert not list(project.glob("PLANTED-*"))
    return message


def test_a_world_writable_run_folder_is_refused(project):
    message = _refused(project, project, 0o777, "writable by every user")
    assert f"chmod go-w {project}" in message


def test_a_world_writable_run_file_is_refused(project):
    message = _refused(project, project / "run.py", 0o666, "writable by every user")
    assert f"chmod go-w {project / 'run.py'}" in message


def test_a_sticky_shared_folder_like_tmp_is_refused(project):
    message = _refused(project, project, 0o1777, "writable by every user")
    assert "move problem.py to a folder only you can write" in message


def test_a_file_writable_by_a_shared_group_is_refused(project):
    try:
        group = grp.getgrnam("daemon").gr_gid
    except KeyError:
        pytest.skip("no group 'daemon' to share the file with")
    if os.geteuid() != 0 and group not in os.getgroups():
        pytest.skip("cannot give the file to group 'daemon'")
    _refused(project, project / "problem.py", 0o664, "writable by its group", group=group)
