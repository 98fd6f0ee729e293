"""``hyperfleet dashboard``: serve the live, read-only web dashboard of a store."""

from __future__ import annotations

import click

from hyperfleet.cli.options import store_option


@click.command("dashboard")
@store_option
@click.option("--port", type=click.IntRange(1, 65535), default=8050, show_default=True,
              help="TCP port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback prints a warning and requires a token.")
@click.option("--token", default=None, envvar="HYPERFLEET_DASHBOARD_TOKEN", show_envvar=True,
              help="Access token (16+ characters) required on every request [default: none on "
                   "loopback; generated and printed for any other --host].")
def command(store, port: int, host: str, token) -> None:
    """Serve a live web page of every search in the store (read-only)."""
    from hyperfleet.dashboard.server import ServeSettings, serve

    serve(ServeSettings(store=store, host=host, port=port, token=token), echo=click.echo)
