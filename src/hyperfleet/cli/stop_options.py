"""``--stopper NAME`` and ``--stopper-setting KEY=VALUE``, shared by ``search`` and ``submit``."""

from __future__ import annotations

import click


def stopper_options(command):
    """Add the early-stopping options to a command (parameters ``stopper``, ``stopper_settings``)."""
    command = click.option(
        "--stopper-setting", "stopper_settings", multiple=True, metavar="KEY=VALUE",
        help="A setting of the stopper (repeatable), e.g. --stopper-setting max_step=20.")(command)
    return click.option(
        "--stopper", default=None, metavar="NAME",
        help="Stop bad trainings early with this stopper (asha, hyperband, median, patience, fixed, "
             "lcmodel); the run function reports with hyperfleet.report(value, step).")(command)


def parse_stopper_settings(items: tuple[str, ...]) -> dict:
    """``KEY=VALUE`` pairs, values parsed as in ``--setting``."""
    from hyperfleet.cli.search import _value

    settings = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--stopper-setting")
        settings[key.strip()] = _value(text.strip())
    return settings
