"""Serving the dashboard with uvicorn: checks, the address and token to print, then serve."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Callable, Optional

DASHBOARD_INSTALL = "pip install 'hyperfleet[dashboard]'"
_PACKAGES = ("starlette", "uvicorn", "jinja2", "plotly")


def require_packages() -> None:
    """Raise one ImportError naming what is missing and how to install it."""
    missing = [name for name in _PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        raise ImportError(f"the dashboard needs {', '.join(missing)}, not installed; install them with "
                          f"{DASHBOARD_INSTALL}")


@dataclass(frozen=True)
class ServeSettings:
    """Where the dashboard listens and who may read it."""

    store: Optional[str] = None
    host: str = "127.0.0.1"
    port: int = 8050
    token: Optional[str] = None


def serve(settings: ServeSettings, echo: Callable[[str], None] = print) -> None:
    """Open the store read-only, print the address (with the token when one is needed) and serve
    until interrupted.

    Raises:
        ImportError: the dashboard's packages are missing.
        StoreError: no store, or it cannot be read.
        ValueError: a bad token.
    """
    require_packages()
    import uvicorn

    from hyperfleet.dashboard.app import create_app
    from hyperfleet.dashboard.security import access_token
    from hyperfleet.dashboard.source import ReadOnlyStore
    from hyperfleet.store.locate import locate_store

    token, warning = access_token(settings.host, settings.token)
    store = ReadOnlyStore(locate_store(settings.store, create=False))
    app = create_app(store, token=token)
    if warning:
        echo(warning)
    shown = f"[{settings.host}]" if ":" in settings.host else settings.host
    address = f"http://{shown}:{settings.port}/"
    echo(f"dashboard of store {store.where} at {address}" + (f"?token={token}" if token else ""))
    echo("read-only; stop it with Ctrl-C")
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning",
                            server_header=False, date_header=False)
    try:
        uvicorn.Server(config).run()
    finally:
        store.close()
