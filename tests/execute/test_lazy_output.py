"""The folder and output files of evaluations run in threads or in the driver are made only when
something is written to them (most evaluations print nothing; creating a folder and two empty
files each costs more than a short evaluation)."""

import dataclasses
import sys

import pytest

from hyperfleet.execute import SerialExecutor, ThreadExecutor
from hyperfleet.execute.lazy_output import LazyOutput
from hyperfleet.testing import executor_kit as kit


@pytest.mark.parametrize("make", [lambda: ThreadExecutor(2), SerialExecutor], ids=["thread", "serial"])
def test_output_files_exist_only_for_evaluations_that_wrote(make, tmp_path):
    quiet = kit.task("quadratic", tmp_path / "q")
    noisy = kit.task("chatty", tmp_path / "n")
    # the driver does not make the folder, and the worker makes it only on a first write
    quiet = dataclasses.replace(quiet, folder=str(tmp_path / "q" / "not-yet" / "00001"))
    ex = make()
    try:
        ex.submit(quiet)
        ex.submit(noisy)
        outcomes = {o.eval_id: o for o in kit.collect(ex, 2)}
    finally:
        ex.shutdown()
    assert {o.state for o in outcomes.values()} == {"DONE"}, [o.error for o in outcomes.values()]
    assert not (tmp_path / "q" / "not-yet").exists()  # printed nothing: no folder either
    n = tmp_path / "n" / noisy.eval_id
    assert "stdout line for x=0.25" in (n / "stdout.txt").read_text()
    assert "stderr line for x=0.25" in (n / "stderr.txt").read_text()


def test_lazy_output_opens_on_first_write_or_fileno(tmp_path):
    out = LazyOutput(tmp_path / "stdout.txt")
    out.write("")
    out.flush()
    assert not (tmp_path / "stdout.txt").exists() and not out.opened
    print("hello", file=out)
    out.flush()
    assert (tmp_path / "stdout.txt").read_text() == "hello\n"
    other = LazyOutput(tmp_path / "stderr.txt")
    assert other.fileno() > 2 and (tmp_path / "stderr.txt").exists()
    out.close()
    other.close()
    assert sys.stdout is not out
