"""Benchmark tooling: JSON-line figures; the station subprocess comes from tests/support.py."""

from __future__ import annotations

import http.client
import json
import re
import statistics
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support import StationProcess, free_port  # noqa: E402  (one implementation, tests' own)

__all__ = ["FreshConnections", "KeptAlive", "StationProcess", "emit", "emit_distribution",
           "free_port", "percentile"]


class FreshConnections:
    """POSTs through requests, each on a new TCP connection that the server closes after
    answering (what the station figures measured before keep-alive)."""

    def __init__(self, url: str, session: requests.Session) -> None:
        self.url = url
        self.session = session
        session.headers["Connection"] = "close"

    def post(self, path: str, body: Any = None) -> tuple[int, Any]:
        r = self.session.post(self.url + path, json=body)
        assert r.headers.get("Connection", "").lower() == "close", "a connection was reused"
        return r.status_code, r.json()


class KeptAlive:
    """POSTs over one HTTP/1.1 connection kept alive throughout; `reused` says it was.

    http.client rather than requests: on this kind of machine requests costs about 1.5 ms a
    request by itself, which would hide what the server takes."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port,
                                               timeout=10)
        self.headers = {**headers, "Content-Type": "application/json"}
        self.sock: object | None = None
        self.reused = True

    @classmethod
    def like(cls, url: str, session: requests.Session) -> KeptAlive:
        """The same credentials as a logged-in session: its cookies and its headers."""
        headers = {k: v for k, v in session.headers.items() if isinstance(v, str) and
                   k.lower() not in ("connection", "accept-encoding", "user-agent", "accept")}
        cookies = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
        return cls(url, {**headers, **({"Cookie": cookies} if cookies else {})})

    def post(self, path: str, body: Any = None) -> tuple[int, Any]:
        return self.request("POST", path, body)

    def get(self, path: str) -> tuple[int, Any]:
        return self.request("GET", path)

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else b""
        self.conn.request(method, path, body=data if method != "GET" else None,
                          headers=self.headers)
        response = self.conn.getresponse()
        payload = response.read()
        # http.client reconnects silently when the server closed the connection
        if self.sock is None:
            self.sock = self.conn.sock
        elif self.conn.sock is not self.sock:
            self.reused = False
        if response.getheader("Connection", "").lower() == "close":
            self.reused = False
        return response.status, json.loads(payload) if payload else None

    def close(self) -> None:
        self.conn.close()


def emit(name: str, value: float, unit: str, n: int) -> None:
    print(json.dumps({"name": name, "value": round(value, 3), "unit": unit, "n": n}), flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def emit_distribution(name: str, values_ms: list[float]) -> None:
    emit(f"{name}_p50", statistics.median(values_ms), "ms", len(values_ms))
    emit(f"{name}_p99", percentile(values_ms, 99), "ms", len(values_ms))


def unthrottled(tmp: Path) -> Path:
    """The shipped config.toml with the kiosk's check-in limit lifted: the bench checks in as
    fast as it can from one kiosk token, far past what a kiosk may (server/throttle.py)."""
    from server import config

    text = config.DEFAULT_CONFIG.read_text(encoding="utf-8")
    for key in ("kiosk_checkins_per_minute", "kiosk_checkin_burst"):
        text, n = re.subn(rf"(?m)^{key} = .*$", f"{key} = 1000000", text)
        assert n == 1, key
    path = tmp / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path
