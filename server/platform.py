"""Central platform client (layer 3, adapter): the key list and the booking feed over HTTP.

Policy (URLs, auth, parsing) lives in `PlatformClient`; the I/O is one call of a `Transport`,
so tests hand in a plain function that plays the platform, or talk to a real central app.

Errors, all raised from the vendor's exception with `raise ... from`:

    PlatformError                  the platform could not give an answer we can use
      PlatformUnavailable          no connection, timeout, 5xx, 429
      PlatformRefused              4xx: bad station token, unknown station
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from contracts.bookingcode import KeyInfo, keys_from_json


class PlatformError(Exception):
    """The platform gave no usable answer."""


class PlatformUnavailable(PlatformError):
    """The link is down, the platform is slow or overloaded; try again later."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PlatformRefused(PlatformError):
    """The platform refused the request (4xx): retrying will not help until config changes."""


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: Mapping[str, str]
    params: Mapping[str, str]
    timeout: float


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any  # parsed JSON, or None when the body was not JSON
    headers: Mapping[str, str]


Transport = Callable[[Request], Reply]


class RequestsTransport:
    """The real transport: one `requests.Session`, vendor errors turned into ours."""

    def __init__(self) -> None:
        self._session = requests.Session()

    def __call__(self, req: Request) -> Reply:
        try:
            resp = self._session.request(req.method, req.url, headers=dict(req.headers),
                                         params=dict(req.params), timeout=req.timeout)
        except requests.RequestException as exc:
            raise PlatformUnavailable(f"{req.method} {req.url}: {exc}") from exc
        try:
            body = resp.json()
        except ValueError:
            body = None
        return Reply(resp.status_code, body, dict(resp.headers))

    def close(self) -> None:
        self._session.close()


@dataclass(frozen=True)
class FeedPage:
    """One page of this station's booking feed as the platform sent it; the cursor is opaque."""

    bookings: list[dict[str, Any]]
    next_cursor: str
    has_more: bool


class PlatformClient:
    def __init__(self, base_url: str, station_id: str, token: str, *, timeout: float = 2.0,
                 transport: Transport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.station_id = station_id
        self.token = token
        self.timeout = timeout
        self.transport: Transport = transport or RequestsTransport()

    def _get(self, path: str, params: Mapping[str, str] | None = None,
             timeout: float | None = None) -> Any:
        req = Request("GET", self.base_url + path,
                      {"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
                      params or {}, timeout if timeout is not None else self.timeout)
        reply = self.transport(req)
        if reply.status == 429 or reply.status >= 500:
            raise PlatformUnavailable(f"GET {path}: HTTP {reply.status}",
                                      _retry_after(reply.headers))
        if reply.status >= 400:
            raise PlatformRefused(f"GET {path}: HTTP {reply.status} {reply.body!r:.200}")
        if not isinstance(reply.body, dict):
            raise PlatformUnavailable(f"GET {path}: the answer is not a JSON object")
        return reply.body

    def keys(self, timeout: float | None = None) -> dict[str, KeyInfo]:
        """The platform's published key set (`GET /api/v1/keys`)."""
        doc = self._get("/api/v1/keys", timeout=timeout)
        try:
            return keys_from_json(doc)
        except (KeyError, TypeError, ValueError) as exc:
            raise PlatformUnavailable(f"key list not understood: {exc}") from exc

    def feed_page(self, cursor: str, limit: int = 200) -> FeedPage:
        """One page of this station's booking feed after `cursor` ("" from the start)."""
        params = {"limit": str(limit)}
        if cursor:
            params["cursor"] = cursor
        doc = self._get(f"/api/v1/stations/{self.station_id}/bookings", params)
        bookings = doc.get("bookings")
        if not isinstance(bookings, list) or not all(isinstance(b, dict) for b in bookings):
            raise PlatformUnavailable("booking feed not understood")
        return FeedPage(bookings, str(doc.get("next_cursor") or cursor),
                        bool(doc.get("has_more")))


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
