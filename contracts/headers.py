"""Contracts: the security headers every answer of the station and the platform carries, as a
plain WSGI middleware (so pages, API, static files, errors and Socket.IO's polling all get them,
whatever answered).

The policy is the part of the strict CSP the pages already meet: no plugins, no <base>, no
framing. `script-src 'self'` waits until the templates' inline scripts have moved to static
files (issue 14, point 5).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

CSP = "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
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
