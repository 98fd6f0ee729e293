"""Entry point of an isolated evaluation: ``python -m hyperfleet.execute.child RESULT_FILE`` (the task
on stdin), or :func:`run_and_record` in a process the fork server forked."""

from __future__ import annotations

import os
import pickle
import sys

from hyperfleet.execute.isolation import REPORT_FDS_ENV, die_with_parent
from hyperfleet.execute.reporting import encode_value


def main() -> None:
    parent = os.getppid()
    die_with_parent()
    if os.getppid() != parent:  # the parent died before prctl took effect
        sys.exit(1)
    run_and_record(pickle.loads(sys.stdin.buffer.read()), sys.argv[1])


def run_and_record(task, result_file: str) -> None:
    """Run the evaluation in this process (its own) and leave its outcome in ``result_file``
    (also the work of a process the fork server forked)."""
    from hyperfleet.execute.worker import OWN_PROCESS, evaluate, no_capture

    outcome = evaluate(task, capture=no_capture, ask=_pipe_ask(), scope=OWN_PROCESS)
    tmp = result_file + ".tmp"
    with open(tmp, "wb") as f:
        pickle.dump(outcome, f)
    os.replace(tmp, result_file)
    sys.stdout.flush()
    sys.stderr.flush()


def _pipe_ask():
    """Live reports go to the parent (the worker) over two pipes, which relays them to the driver."""
    fds = os.environ.pop(REPORT_FDS_ENV, None)
    if not fds:
        return None
    up, down = (int(fd) for fd in fds.split(","))
    to_parent, from_parent = os.fdopen(up, "w", buffering=1), os.fdopen(down, "r")

    def ask(eval_id: str, step: int, value: float, when: float) -> bool:
        to_parent.write(f"{step} {when!r} {encode_value(value)}\n")
        return from_parent.readline().strip() == "1"

    return ask


if __name__ == "__main__":
    main()
