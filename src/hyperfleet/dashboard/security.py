"""What keeps the dashboard read-only and private: methods, the token, headers, file paths.

- Only GET and HEAD are answered (405 otherwise): the dashboard has no write endpoint at all.
- Bound to loopback by default; any other ``--host`` needs a token (given or generated). The
  token is accepted once as ``?token=`` (then kept in an HttpOnly, SameSite=Strict cookie and
  removed from the address), as ``Authorization: Bearer TOKEN`` or as that cookie.
- Every response forbids inline and foreign scripts (Content-Security-Policy): even a value
  that escaped escaping could not run.
- Files are served only from inside a search's folder (:func:`inside`).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
from pathlib import Path
from typing import Optional
from urllib.parse import parse_qsl, urlencode

from starlette.responses import PlainTextResponse, RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

COOKIE = "hyperfleet_dashboard_token"
READ_METHODS = ("GET", "HEAD")
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY")]
#: pages and data are never cached; the static files (4.8 MB of plotly.js) for an hour
NO_STORE = [(b"cache-control", b"no-store")]
STATIC_CACHE = [(b"cache-control", b"private, max-age=3600")]


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def access_token(host: str, token: Optional[str]) -> tuple[Optional[str], Optional[str]]:
    """The token the dashboard requires (``None``: none) and a warning to print, for ``host``.

    Loopback needs no token unless one is given; any other address always needs one (generated
    when not given).

    Raises:
        ValueError: a given token is too short to be a secret.
    """
    if token is not None and len(token) < 16:
        raise ValueError("--token must be at least 16 characters (or leave it out and one is generated)")
    if is_loopback(host):
        return token, None
    token = token or secrets.token_urlsafe(24)
    warning = (f"warning: the dashboard listens on {host}, not only on this machine: anyone who can reach "
               f"it and has the token can read every search of the store (its labels, configurations, "
               f"errors and output files). Prefer the default 127.0.0.1 with an SSH tunnel.")
    return token, warning


class Guard:
    """ASGI middleware: read methods only, the token, and the security headers on every answer."""

    def __init__(self, app: ASGIApp, token: Optional[str] = None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        cache = STATIC_CACHE if scope["path"].startswith("/static/") else NO_STORE

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *HEADERS, *cache]}
            await send(message)

        if scope["method"] not in READ_METHODS:
            response = PlainTextResponse("the dashboard is read-only: only GET and HEAD are answered\n",
                                         status_code=405, headers={"Allow": ", ".join(READ_METHODS)})
            await response(scope, receive, send_with_headers)
            return
        if self.token is not None:
            response = self._check_token(scope)
            if response is not None:
                await response(scope, receive, send_with_headers)
                return
        await self.app(scope, receive, send_with_headers)

    def _check_token(self, scope: Scope):
        """``None`` when the request carries the token; else the answer to send instead."""
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        given = dict(query).get("token")
        if given is not None and self._valid(given):
            rest = urlencode([(k, v) for k, v in query if k != "token"])
            response = RedirectResponse(scope["path"] + (f"?{rest}" if rest else ""), status_code=303)
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict", path="/")
            return response
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        bearer = headers.get("authorization", "")
        if bearer.lower().startswith("bearer ") and self._valid(bearer[7:].strip()):
            return None
        if self._valid(_cookie(headers.get("cookie", ""), COOKIE)):
            return None
        return PlainTextResponse("this dashboard needs its access token: open the address with ?token=... "
                                 "that `hyperfleet dashboard` printed, or send 'Authorization: Bearer TOKEN'\n",
                                 status_code=401)

    def _valid(self, given: Optional[str]) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())


def _cookie(header: str, name: str) -> Optional[str]:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def inside(folder: Optional[str], path: str) -> Optional[Path]:
    """``path`` (absolute, or relative to ``folder``) resolved, if it lies inside ``folder``;
    ``None`` otherwise (``..``, an absolute path elsewhere, a symbolic link that leads out)."""
    if not folder or not path or "\x00" in path:
        return None
    root = Path(folder).resolve()
    try:
        target = (root / path).resolve()
    except (OSError, RuntimeError):
        return None
    if target != root and root not in target.parents:
        return None
    return target


def served_file(folder: Optional[str], relative: str) -> Optional[Path]:
    """A regular file inside ``folder`` that may be served, else ``None``."""
    if os.path.isabs(relative):
        return None
    target = inside(folder, relative)
    return target if target is not None and target.is_file() else None
