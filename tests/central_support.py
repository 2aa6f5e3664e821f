"""The platform as its own process (`clinicq central serve`, gunicorn workers) on 127.0.0.1 and
simulated stations pushing events to it over plain HTTP; for the platform's tests and
benchmarks. `stop()` ends what was started, by its process id."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
ADMIN_TOKEN = "demo-central-admin-token"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PlatformProcess:
    """`clinicq central serve --demo --workers N` on a database URL; ready when it answers."""

    def __init__(self, database_url: str, workers: int = 4, *extra: str,
                 log: Path | None = None, timeout: float = 60) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(log, "ab") if log else None  # closed by stop()
        output = self._log or subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "central.cli", "serve", "--demo", "--host", "127.0.0.1",
             "--port", str(self.port), "--workers", str(workers), "--database-url",
             database_url, *extra], cwd=ROOT, stdout=output, stderr=output)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"platform exited with {self.proc.returncode}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("platform did not answer in time")
            time.sleep(0.05)

    def stop(self, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # gunicorn's graceful stop, workers too
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self._log:
            self._log.close()
        return self.proc.returncode


def station_events(station: str, n: int, *, day: str = "2026-12-02") -> list[dict[str, Any]]:
    """`n` events of one station as its ledger would send them: tickets of eight events."""
    kinds = [("ticket.issued", "waiting"), ("ticket.called", "called"),
             ("ticket.started", "serving"), ("ticket.completed", "done")]
    events = []
    for seq in range(1, n + 1):
        kind, status = kinds[(seq - 1) % len(kinds)]
        number = (seq - 1) // len(kinds)
        events.append({
            "id": uuid.uuid5(uuid.NAMESPACE_URL, f"{station}/{seq}").hex, "seq": seq,
            "type": kind, "at": f"{day}T{8 + seq % 9:02d}:{seq % 60:02d}:00+08:00",
            "counter": "A1", "reason": None, "detail": None,
            "ticket": {"id": f"{station}-t{number}", "booking_id": None, "status": status,
                       "stage": None, "service": "A", "number": f"A{number:03d}",
                       "kind": "walkin", "name_masked": "王*"}})
    return events


class StationClient:
    """One station's keep-alive HTTP connection to the platform, posting batches."""

    def __init__(self, url: str, station: str, token: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=60)
        self.path = f"/api/v1/stations/{station}/events"
        self.headers = {"Authorization": f"Bearer {token}",
                        "Content-Type": "application/json"}

    def push(self, events: list[dict[str, Any]]) -> list[str]:
        self.conn.request("POST", self.path, body=json.dumps({"events": events}),
                          headers=self.headers)
        response = self.conn.getresponse()
        body = json.loads(response.read())
        if response.status != 200:
            raise RuntimeError(f"{response.status}: {body}")
        return [r["result"] for r in body["results"]]

    def close(self) -> None:
        self.conn.close()
