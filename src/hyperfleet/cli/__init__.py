"""The ``hyperfleet`` command: one module per sub-command, each a thin layer over the library."""

from hyperfleet.cli.main import main

__all__ = ["main"]
