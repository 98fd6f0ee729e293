"""The README's quickstart, run literally and in order in a shell (the `cd` included).

The commands are read out of README.md, so this test breaks when the README drifts from what
works. For speed the search is the README's synthetic variant of the tutorial; the read commands
that follow are the README's own, with its label `mnist` replaced by the synthetic search's label.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
README = ROOT / "README.md"


def _blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", text, flags=re.S)


def quickstart() -> tuple[str, list[str]]:
    """(the synthetic search command, the read commands after the MNIST search) of the README."""
    section = README.read_text().split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks = _blocks(section)
    synthetic = next(b.strip() for b in blocks if "synthetic_run.py" in b and b.strip().startswith("hyperfleet search"))
    reads = next(b for b in blocks if "hyperfleet path" in b)
    return synthetic, [line.strip() for line in reads.splitlines() if line.strip()]


def test_the_readme_lists_the_workflow_this_test_runs():
    synthetic, reads = quickstart()
    assert "--name" in synthetic and "examples/tutorial/problem.py" in synthetic
    commands = [line.split("#", 1)[0].strip() for line in reads]
    assert commands == ["hyperfleet ls", "hyperfleet ls mnist", 'cd "$(hyperfleet path mnist)"', "ls",
                        "hyperfleet results mnist --top 5", "hyperfleet report mnist"]


def test_readme_quickstart_runs_literally_in_a_shell(tmp_path):
    synthetic, reads = quickstart()
    label = shlex.split(synthetic)[shlex.split(synthetic).index("--name") + 1]
    shutil.copytree(ROOT / "examples" / "tutorial", tmp_path / "examples" / "tutorial")
    steps = [synthetic, *(line.replace(" mnist", f" {label}") for line in reads)]
    script = [f"hyperfleet() {{ {shlex.quote(sys.executable)} -m hyperfleet \"$@\"; }}", "set -e"]
    for number, step in enumerate(steps):
        script += [f"echo '=== step {number}' >&2", f"echo '=== step {number}'", step]
    env = {k: v for k, v in os.environ.items() if k not in ("HYPERFLEET_STORE", "COLUMNS")}
    env["SYNTHETIC_SLEEP"] = "0.02"
    proc = subprocess.run(["bash", "-c", "\n".join(script)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = dict(re.findall(r"=== step (\d+)\n(.*?)(?==== step |\Z)", proc.stdout, flags=re.S))
    search, listing, evaluations, _cd, files, results, report = (out[str(i)] for i in range(7))
    assert "30 done, 0 failed" in search and "best objective" in search
    assert label in listing and "FINISHED" in listing
    assert evaluations.count(" DONE ") == 30
    assert set(files.split()) >= {"evals", "hyperfleet.log", "results.csv", "results.json"}
    rows = [line.split() for line in results.splitlines() if line.strip()[:1].isdigit()]
    assert [r[0] for r in rows] == ["1", "2", "3", "4", "5"]
    assert "report.html" in report
    folder = next(tmp_path.glob(f"searches/{label}-*"))
    assert (folder / "report.html").is_file() and (folder / "report_best.png").is_file()
    # the read commands found the store above the search folder and created none there
    assert not (folder / "hyperfleet.db").exists() and (tmp_path / "hyperfleet.db").is_file()


def test_readme_documents_search_quiet_report_top_and_the_store_discovery():
    text = README.read_text()
    search_options = text.split("### `hyperfleet search`", 1)[1].split("\n### ", 1)[0]
    assert "| `--quiet` |" in search_options
    assert "`hyperfleet report LABEL\\|ID [--top K]`" in text
    assert "hyperfleet.store.locate_store()" in text and "or a parent" in text
