"""``hyperfleet dashboard``: a live, read-only web page over the job database.

Needs ``pip install 'hyperfleet[dashboard]'`` (Starlette, uvicorn, Jinja2, plotly; plotly.js is
served from the installed package, nothing from a CDN). Modules: :mod:`.app` (routes),
:mod:`.queries` (SQL), :mod:`.plots` (downsampled plot data), :mod:`.pages` (templates),
:mod:`.security` (read-only methods, token, headers, file paths), :mod:`.source` (the store opened
read-only), :mod:`.server` (uvicorn).
"""

from hyperfleet.dashboard.server import DASHBOARD_INSTALL


def create_app(store, token=None):
    """The ASGI application over ``store`` (see :func:`hyperfleet.dashboard.app.create_app`)."""
    from hyperfleet.dashboard.server import require_packages

    require_packages()
    from hyperfleet.dashboard.app import create_app as make

    return make(store, token=token)


__all__ = ["create_app", "DASHBOARD_INSTALL"]
