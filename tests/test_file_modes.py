"""Everything a search writes has exactly its mode, whatever the umask (hyperfleet.files)."""

import os
import shutil
import stat
import subprocess
import sys

import pytest

from tests.conftest import TUTORIAL


def _mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.mark.parametrize("umask", [0o000, 0o077], ids=["umask000", "umask077"])
@pytest.mark.parametrize("shared", [False, True], ids=["private", "shared"])
def test_every_file_and_folder_of_a_search_has_its_mode(tmp_path, umask, shared):
    pytest.importorskip("matplotlib")
    for name in ("problem.py", "synthetic_run.py"):
        shutil.copy(TUTORIAL / name, tmp_path / name)
        os.chmod(tmp_path / name, 0o644)
    env = {k: v for k, v in os.environ.items() if k not in ("HYPERFLEET_STORE", "HYPERFLEET_SHARED")}
    env["SYNTHETIC_SLEEP"] = "0.01"
    if shared:
        env["HYPERFLEET_SHARED"] = "1"
    isolate = ["--eval-timeout", "60"] if umask == 0 else []  # outputs of isolated children and of workers

    def hf(*args):
        proc = subprocess.run([sys.executable, "-m", "hyperfleet", *args], cwd=tmp_path, env=env, umask=umask,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr

    hf("search", "-p", "problem.py", "-r", "synthetic_run.py", "--search", "random", "--max-evals", "6",
       "--workers", "2", *isolate, "--name", "modes")
    hf("report", "modes")
    folders, files = (0o755, 0o644) if shared else (0o700, 0o600)
    searches = tmp_path / "searches"
    (search,) = list(searches.iterdir())
    names = {p.name for p in search.iterdir()}
    assert {"evals", "results.csv", "results.json", "hyperfleet.log", "report.html", "report_best.png"} <= names
    seen = {}
    for path in [searches, *searches.rglob("*")]:
        seen[str(path.relative_to(tmp_path))] = _mode(path)
    wrong = {p: f"{m:o}" for p, m in seen.items()
             if m != (folders if os.path.isdir(tmp_path / p) else files)}
    assert not wrong, f"expected folders {folders:o} and files {files:o}; these differ: {wrong}"
    assert len([p for p in seen if p.endswith("stdout.txt")]) == 6
    assert _mode(tmp_path / "hyperfleet.db") == 0o600
