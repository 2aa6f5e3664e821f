"""Central platform client (layer 3, adapter): the key list, the vaccine catalog, the booking
feed, the events pushed up, the heartbeat and reconciliation, over HTTP (docs/sync.md).

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
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Annotated, Any

import requests
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from contracts.bookingcode import KeyInfo, keys_from_json
from contracts.syncwire import RESULTS


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
    body: Any = None  # sent as JSON


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
                                         params=dict(req.params), json=req.body,
                                         timeout=req.timeout)
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


Digits = Annotated[str, Field(pattern=r"^[0-9]+$")]


class _Answer(BaseModel):
    # JSON's own types, strictly; keys this station does not know yet are ignored
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class CatalogLot(_Answer):
    lot: Annotated[str, Field(min_length=1, max_length=40)]
    expires: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]
    serials: Annotated[list[Annotated[Digits, Field(min_length=13, max_length=13)]],
                       Field(min_length=2, max_length=2)]  # [first, last]

    @model_validator(mode="after")
    def _check(self) -> CatalogLot:
        date.fromisoformat(self.expires)  # a ValueError is a validation error
        if self.serials[0] > self.serials[1]:
            raise ValueError("the first serial follows the last")
        return self


class CatalogVaccine(_Answer):
    code: Annotated[str, Field(min_length=1, max_length=40)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    name_en: Annotated[str, Field(max_length=200)]
    maker: Annotated[str, Field(max_length=200)]
    doses: Annotated[int, Field(ge=1, le=10)]
    interval_days: Annotated[int, Field(ge=0)]
    trace_prefix: Annotated[Digits, Field(min_length=7, max_length=7)]
    observation_minutes: Annotated[int, Field(ge=0, le=24 * 60)]
    lots: list[CatalogLot]


class Catalog(_Answer):
    """`GET /api/v1/vaccines` as this station accepts it: all of it, or none of it."""

    vaccines: list[CatalogVaccine]

    @model_validator(mode="after")
    def _unique(self) -> Catalog:
        for what in ("code", "trace_prefix"):
            values = [getattr(v, what) for v in self.vaccines]
            if len(set(values)) != len(values):
                raise ValueError(f"two products share a {what}")
        return self

    def rows(self) -> list[dict[str, Any]]:
        """Plain JSON rows by product code, each product's lots by expiry then name (so the same
        catalog gives the same rows however the platform ordered it)."""
        rows = [v.model_dump(mode="json") for v in sorted(self.vaccines, key=lambda v: v.code)]
        for row in rows:
            row["lots"].sort(key=lambda lot: (lot["expires"], lot["lot"]))
        return rows


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
        return self._call("GET", path, params, None, timeout)

    def _call(self, method: str, path: str, params: Mapping[str, str] | None, body: Any,
              timeout: float | None = None) -> Any:
        req = Request(method, self.base_url + path,
                      {"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
                      params or {}, timeout if timeout is not None else self.timeout, body)
        reply = self.transport(req)
        if reply.status == 429 or reply.status >= 500:
            raise PlatformUnavailable(f"{method} {path}: HTTP {reply.status}",
                                      _retry_after(reply.headers))
        if reply.status >= 400:
            raise PlatformRefused(f"{method} {path}: HTTP {reply.status} {reply.body!r:.200}")
        if not isinstance(reply.body, dict):
            raise PlatformUnavailable(f"{method} {path}: the answer is not a JSON object")
        return reply.body

    def push_events(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send a batch; the platform's per-event results, each checked to be one of ours
        (`PlatformUnavailable` when the answer is not understood: nothing is settled)."""
        doc = self._call("POST", f"/api/v1/stations/{self.station_id}/events", None,
                         {"events": events})
        results = doc.get("results")
        if not isinstance(results, list):
            raise PlatformUnavailable("push answer not understood: no results")
        good = []
        for r in results:
            if (isinstance(r, dict) and isinstance(r.get("id"), str)
                    and isinstance(r.get("seq"), int) and r.get("result") in RESULTS):
                good.append(r)
        return good

    def heartbeat(self, doc: dict[str, Any]) -> None:
        self._call("POST", f"/api/v1/stations/{self.station_id}/heartbeat", None, doc)

    def reconciliation(self, day: str) -> dict[str, Any]:
        doc = self._get(f"/api/v1/stations/{self.station_id}/reconciliation",
                        {"day": day, "items": "1"})
        if not isinstance(doc.get("items"), list):
            raise PlatformUnavailable("reconciliation answer not understood")
        return dict(doc)

    def keys(self, timeout: float | None = None) -> dict[str, KeyInfo]:
        """The platform's published key set (`GET /api/v1/keys`)."""
        doc = self._get("/api/v1/keys", timeout=timeout)
        try:
            return keys_from_json(doc)
        except (KeyError, TypeError, ValueError) as exc:
            raise PlatformUnavailable(f"key list not understood: {exc}") from exc

    def vaccines(self, timeout: float | None = None) -> list[dict[str, Any]]:
        """The platform's vaccine catalog (`GET /api/v1/vaccines`), checked whole: one bad
        product makes the whole answer `PlatformUnavailable`."""
        doc = self._get("/api/v1/vaccines", timeout=timeout)
        try:
            return Catalog.model_validate(doc).rows()
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(part) for part in first["loc"])
            raise PlatformUnavailable(
                f"vaccine catalog not understood ({exc.error_count()} problems; "
                f"first at {where or 'top'}: {first['msg']})") from exc

    def station_names(self) -> dict[str, str]:
        """The platform's station directory (`GET /api/v1/stations`): name by station id; an
        entry that is not an id and a name is left out."""
        stations = self._get("/api/v1/stations").get("stations")
        if not isinstance(stations, list):
            raise PlatformUnavailable("station directory not understood")
        return {s["id"]: s["name"][:100] for s in stations
                if isinstance(s, dict) and isinstance(s.get("id"), str) and s["id"]
                and len(s["id"]) <= 64 and isinstance(s.get("name"), str) and s["name"].strip()}

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
    """`Retry-After` in seconds: a number of seconds or an HTTP date (RFC 9110 10.2.3)."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
