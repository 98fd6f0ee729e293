"""Entry point of an isolated evaluation: ``python -m hyperfleet.execute.child RESULT_FILE``."""

from __future__ import annotations

import os
import pickle
import sys

from hyperfleet.execute.isolation import die_with_parent


def main() -> None:
    parent = os.getppid()
    die_with_parent()
    if os.getppid() != parent:  # the parent died before prctl took effect
        sys.exit(1)
    task = pickle.loads(sys.stdin.buffer.read())
    from hyperfleet.execute.worker import OWN_PROCESS, evaluate, no_capture

    outcome = evaluate(task, capture=no_capture, scope=OWN_PROCESS)
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "wb") as f:
        pickle.dump(outcome, f)
    os.replace(tmp, sys.argv[1])
    sys.stdout.flush()
    sys.stderr.flush()


if __name__ == "__main__":
    main()
