"""Evaluation threads that start together import the run file once, and none of them sees the
module before its code has run (a slow import, e.g. a deep-learning framework's, used to leave
the second thread with a module that had no ``run`` yet)."""

import threading

from hyperfleet.user_code import CodeRef, load_attr


def test_threads_loading_a_slow_run_file_all_get_its_function(tmp_path):
    run_file = tmp_path / "slow_run.py"
    run_file.write_text("import time\ntime.sleep(0.5)\nIMPORTS = []\nIMPORTS.append(1)\n\n"
                        "def run(config):\n    return 1.0\n")
    run_file.chmod(0o600)
    tmp_path.chmod(0o700)
    got, errors = [], []

    def load():
        try:
            got.append(load_attr(CodeRef(str(run_file), "run"), "run function"))
        except Exception as err:  # noqa: BLE001 - recorded for the assertion
            errors.append(err)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert errors == [] and len(got) == 4 and len({id(f) for f in got}) == 1
    assert got[0].__globals__["IMPORTS"] == [1]  # imported once
