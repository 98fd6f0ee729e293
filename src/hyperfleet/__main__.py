"""``python -m hyperfleet`` runs the command line."""

import os
import sys

# `python -m` puts the current folder first on sys.path: a module planted there by another user
# (pprint.py) would be imported instead of the standard library's, here and in the workers,
# which start with this sys.path. The run file's folder is appended where it is needed.
if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from hyperfleet.cli import main  # noqa: E402

main()
