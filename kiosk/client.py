"""HTTP client of the station server for the kiosk agent (kiosk deployable): one small class.

Policy (what to retry, when) lives in the agent; this class does one request per call and
turns `requests` failures into the agent's errors, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from contracts.protocol import AGENT, SOURCE_HEADER, DeviceHealth, KioskNotice
from kiosk.errors import StationRefused, StationUnreachable

# (connect, read) seconds: a station PC on the LAN answers in milliseconds; a longer wait means
# it is down, and the resident in front of the kiosk should not stand there for it
DEFAULT_TIMEOUT = (2.0, 5.0)


@dataclass(frozen=True)
class Answer:
    """The station's answer to a check-in: 201 new ticket, 200 same ticket again, 4xx refusal."""

    status: int
    data: dict[str, Any]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def error_code(self) -> str | None:
        error = self.data.get("error")
        return error.get("code") if isinstance(error, dict) else None


class StationClient:
    """Talks to one station server with one device token, over a kept-alive session."""

    def __init__(self, base_url: str, token: str, *,
                 timeout: tuple[float, float] = DEFAULT_TIMEOUT,
                 session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session = session or requests.Session()
        self._session.headers["Authorization"] = f"Bearer {token}"
        self._session.headers["User-Agent"] = "clinicq-kiosk-agent"
        # the kiosk screen uses the same token: this tells the station the agent asked, so the
        # answer it pushes to this kiosk is not printed a second time
        self._session.headers[SOURCE_HEADER] = AGENT

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Answer:
        try:
            r = self._session.request(method, self.base_url + path, json=body,
                                      timeout=self.timeout)
        except requests.Timeout as err:
            raise StationUnreachable(f"{method} {path}: no answer within {self.timeout} s") from err
        except requests.ConnectionError as err:
            raise StationUnreachable(f"{method} {path}: cannot connect to {self.base_url}") from err
        except requests.RequestException as err:
            raise StationUnreachable(f"{method} {path}: {err.__class__.__name__}: {err}") from err
        try:
            data = r.json()
        except ValueError:
            data = {}
        if r.status_code >= 500 or not isinstance(data, dict):
            # a 5xx is a station bug or a proxy in front of a stopped server: try again later
            raise StationUnreachable(f"{method} {path}: HTTP {r.status_code}")
        if r.status_code in (401, 403):
            raise StationRefused(f"{method} {path}: HTTP {r.status_code} "
                                 f"{(data.get('error') or {}).get('code')}")
        return Answer(r.status_code, data)

    def check_in(self, code: str) -> Answer:
        """POST /api/v1/checkins; the server also pushes the answer to this kiosk's screen."""
        return self._request("POST", "/api/v1/checkins", {"code": code})

    def notify(self, notice: KioskNotice) -> None:
        """Ask the server to show a notice on this kiosk's screen."""
        self._request("POST", "/api/v1/kiosk/notices", notice.to_dict())

    def report_health(self, health: DeviceHealth) -> None:
        answer = self._request("POST", "/api/v1/devices/health", health.to_dict())
        if not answer.ok:
            raise StationUnreachable(f"health report refused: {answer.error_code}")

    def station_info(self) -> dict[str, Any]:
        """The station's name and its services' names (from the snapshot), for the ticket."""
        answer = self._request("GET", "/api/v1/state")
        if not answer.ok:
            raise StationUnreachable(f"state refused: {answer.error_code}")
        station = answer.data.get("station") or {}
        services = {s["code"]: (s.get("name"), s.get("name_en"))
                    for s in answer.data.get("services", []) if isinstance(s, dict) and "code" in s}
        public = station.get("public_url")
        return {"name": station.get("name") or "", "name_en": station.get("name_en") or "",
                "services": services, "public_url": public if isinstance(public, str) else ""}

    def status_url(self, ticket_code: str, public_url: str = "") -> str:
        """The phone status page printed as the ticket's QR code: at the address residents'
        phones reach the station at ([server] public_url), else the one this kiosk uses."""
        base = public_url.rstrip("/") if public_url.startswith(("http://", "https://")) \
            else self.base_url
        return f"{base}/t/{quote(ticket_code, safe='')}"

    def close(self) -> None:
        self._session.close()
