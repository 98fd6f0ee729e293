"""The dashboard's web application: its routes, each a few lines over :mod:`queries` and :mod:`plots`.

Pages (HTML, every store value escaped by Jinja2's autoescaping): ``/`` every search;
``/search/{ref}`` one search (label or id prefix). Data (JSON, polled by the page's script):
``/api/searches``, ``/api/search/{ref}/live?since=T`` (counts and the rows finished since the
cursor ``T``), ``/api/search/{ref}/plots``, ``/api/search/{ref}/importance``, ``/api/search/{ref}/evaluations`` (one page of the
table), ``/api/search/{ref}/evaluation/{number}``. Files: ``/search/{ref}/file/{path}`` (inside
the search's folder only). Static: ``/static/...`` (plotly.js from the installed plotly package).
"""

from __future__ import annotations

import functools
import threading
import time
from pathlib import Path
from typing import Optional

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from hyperfleet.dashboard import pages, queries
from hyperfleet.dashboard.plots import PlotCache, importance_data, warm_up
from hyperfleet.dashboard.security import Guard, served_file
from hyperfleet.dashboard.source import ReadOnlyStore
from hyperfleet.store.base import StoreError

STATIC = Path(__file__).parent / "static"
FILE_LIMIT = 2 * 1024 * 1024  # the last bytes of an output file served


def plotly_js() -> Path:
    """plotly.min.js inside the installed plotly package (nothing comes from a CDN)."""
    try:
        import plotly
    except ImportError:
        raise ImportError("the dashboard needs plotly; install it with pip install 'hyperfleet[dashboard]'") from None
    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise ImportError(f"the installed plotly has no {path.name}; reinstall it with "
                          f"pip install --force-reinstall plotly")
    return path


def create_app(store: str | ReadOnlyStore, token: Optional[str] = None) -> Starlette:
    """The dashboard over ``store`` (a location, opened read-only, or a :class:`ReadOnlyStore`).

    ``token``: required on every request when given (see :mod:`hyperfleet.dashboard.security`).
    """
    db = store if isinstance(store, ReadOnlyStore) else ReadOnlyStore(store)
    cache = PlotCache()
    memo = queries.LiveMemo()
    importance_cache = PlotCache(importance_data, min_age_s=30.0)
    threading.Thread(target=warm_up, name="dashboard-warm-up", daemon=True).start()
    plotly_path = plotly_js()

    def blocking(fn):
        """Run the handler's store work in a thread, and turn an unknown search into a 404."""
        @functools.wraps(fn)
        async def handler(request: Request) -> Response:
            try:
                return await run_in_threadpool(fn, request)
            except StoreError as err:
                raise HTTPException(404, str(err)) from None
            except ValueError as err:
                raise HTTPException(400, str(err)) from None
        return handler

    def search_of(request: Request):
        return db.resolve_search(request.path_params["ref"])

    @blocking
    def front(request: Request) -> Response:
        return pages.render("front.html", request, searches=queries.front_rows(db), where=db.where)

    @blocking
    def search_page(request: Request) -> Response:
        search = search_of(request)
        return pages.render("search.html", request, search=search, info=queries.overview(db, search, memo=memo),
                            dims=queries.dims_of(search), states=queries.STATES)

    @blocking
    def api_searches(request: Request) -> Response:
        return JSONResponse({"searches": queries.front_rows(db), "time": time.time()})

    @blocking
    def api_live(request: Request) -> Response:
        since = request.query_params.get("since")
        return JSONResponse(queries.live(db, search_of(request), _float(since), memo=memo))

    @blocking
    def api_plots(request: Request) -> Response:
        search = search_of(request)
        return JSONResponse(cache.get(db, search, queries.overview(db, search, memo=memo)["finished"]))

    @blocking
    def api_importance(request: Request) -> Response:
        search = search_of(request)
        return JSONResponse(importance_cache.get(db, search, queries.overview(db, search, memo=memo)["finished"]))

    @blocking
    def api_evaluations(request: Request) -> Response:
        q = request.query_params
        return JSONResponse(queries.page(
            db, search_of(request), offset=_int(q.get("offset"), 0, 0, 10**9),
            limit=_int(q.get("limit"), 50, 1, 500), sort=q.get("sort") or "number",
            descending=q.get("order") == "desc", state=q.get("state") or None, text=q.get("q") or None))

    @blocking
    def api_evaluation(request: Request) -> Response:
        found = queries.evaluation(db, search_of(request), _int(request.path_params["number"], -1, -1, 10**12))
        if found is None:
            raise HTTPException(404, "no such evaluation in this search")
        return JSONResponse(found)

    @blocking
    def search_file(request: Request) -> Response:
        search = search_of(request)
        path = served_file(search.folder, request.path_params["path"])
        if path is None:
            raise HTTPException(404, "no such file in this search's folder")
        return PlainTextResponse(_last_bytes(path, FILE_LIMIT),
                                 headers={"Content-Security-Policy": "sandbox; default-src 'none'"})

    async def plotly(_request: Request) -> Response:
        return FileResponse(plotly_path, media_type="application/javascript")

    async def error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
        return pages.render("error.html", request, status_code=exc.status_code, message=exc.detail)

    routes = [
        Route("/", front), Route("/search/{ref}", search_page),
        Route("/search/{ref}/file/{path:path}", search_file),
        Route("/api/searches", api_searches), Route("/api/search/{ref}/live", api_live),
        Route("/api/search/{ref}/plots", api_plots), Route("/api/search/{ref}/importance", api_importance), Route("/api/search/{ref}/evaluations", api_evaluations),
        Route("/api/search/{ref}/evaluation/{number}", api_evaluation),
        Route("/static/plotly.min.js", plotly),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: error})
    app.state.store = db
    return Guard(app, token=token)


def _int(text: Optional[str], default: int, low: int, high: int) -> int:
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise HTTPException(400, f"{text!r} is not a whole number") from None
    return min(max(value, low), high)


def _float(text: Optional[str]) -> Optional[float]:
    if text is None or text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise HTTPException(400, f"since={text!r} is not a number (a time in seconds)") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise HTTPException(400, f"since={text!r} is not a finite number")
    return value


def _last_bytes(path: Path, limit: int) -> str:
    with open(path, "rb") as f:
        f.seek(0, 2)
        size = f.tell()
        f.seek(max(0, size - limit))
        return f.read().decode(errors="replace")
