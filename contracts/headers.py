"""Contracts: the security headers every answer of the station and the platform carries, as a
plain WSGI middleware (so pages, API, static files, errors and Socket.IO's polling all get them,
whatever answered).

The policy is strict (issue 14, point 5): scripts and styles only from the answering server's
own files: no inline script, no `on*=` attribute, no `javascript:` URL, no inline <style>
or style attribute (a page's data travels in a `<script type="application/json">` element,
which the browser never runs). Images and media also allow `data:` (the display's silent WAV
that unlocks audio) and `blob:`; connections go to the same origin, over WebSocket too
(Socket.IO, the phone page). No plugins, no <base>, no framing, forms post only to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

CSP = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "media-src 'self' blob: data:",
    "connect-src 'self' ws: wss:",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
))
HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
)
_NAMES = frozenset(name.lower() for name, _ in HEADERS)


class SecurityHeaders:
    """Wraps a WSGI app; adds HEADERS to each answer (replacing any of the same name)."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kept = [(k, v) for k, v in headers if k.lower() not in _NAMES]
            return start_response(status, kept + list(HEADERS), exc_info)

        return self.app(environ, start)
