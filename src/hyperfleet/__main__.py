"""``python -m hyperfleet`` runs the command line."""

from hyperfleet.cli import main

main()
