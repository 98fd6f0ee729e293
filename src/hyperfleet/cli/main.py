"""The command group, shared options, and the one place where user errors become messages."""

from __future__ import annotations

import os
import sys

import click

from hyperfleet import __version__

USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, OSError, ImportError)


class Group(click.Group):
    """Turns user errors into one line on stderr and exit code 2 (a traceback with --debug)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.exceptions.Exit:
            raise
        except click.ClickException:
            raise
        except BrokenPipeError:  # `hyperfleet ls | head`: the reader has what it wanted
            try:
                sys.stdout = open(os.devnull, "w")
            except OSError:
                pass
            sys.exit(0)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as err:  # noqa: BLE001
            from hyperfleet.store import StoreError

            if ctx.obj and ctx.obj.get("debug"):
                raise
            if isinstance(err, (*USER_ERRORS, StoreError)):
                click.echo(f"error: {err}", err=True)
                sys.exit(2)
            click.echo(f"internal error: {type(err).__name__}: {err} (rerun with --debug for the "
                       f"traceback)", err=True)
            sys.exit(1)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]},
             invoke_without_command=True, no_args_is_help=False)
@click.option("--debug", is_flag=True, help="Show full tracebacks.")
@click.version_option(__version__, prog_name="hyperfleet")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """hyperfleet: asynchronous hyperparameter search with a job database.

    Start with `hyperfleet search -p problem.py -r run.py`, then `hyperfleet ls`; `hyperfleet
    COMMAND --help` describes each command.
    """
    ctx.ensure_object(dict)["debug"] = debug
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())
        ctx.exit(0)


def _register() -> None:
    from hyperfleet.cli import cancel, dashboard, ls, path, report, results, resume, search, simulate, submit

    for module in (search, submit, resume, cancel, ls, path, results, report, simulate, dashboard):
        main.add_command(module.command)


_register()
