"""Sync's fault tests (issue 10): a real platform process and a real station process on
127.0.0.1, with the link between them broken on purpose (tests/faultproxy.py), each bounded
in time. What must hold every time: every event arrives once, nothing is lost or doubled,
and the two sides' reconciliation of the day matches."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from faultproxy import FaultProxy
from support import (
    KIOSK,
    TZ,
    CentralProcess,
    StationProcess,
    free_port,
    station_config,
    wait_until,
)

from central.demo import DEMO_ADMIN_TOKEN
from contracts.demo import DEMO_STATION_TOKEN

pytestmark = pytest.mark.slow
BACKLOG = 1000  # events for the SIGKILL test: 500 batches of 2, enough for 20 kills
ADMIN = {"Authorization": f"Bearer {DEMO_ADMIN_TOKEN}"}


def today() -> str:
    return datetime.now(TZ).date().isoformat()


class Station:
    """A station process seen through its API: a kiosk that makes walk-ins, a nurse who reads
    the sync status."""

    def __init__(self, proc: StationProcess) -> None:
        self.proc = proc
        self.url = proc.url
        self.kiosk = requests.Session()
        self.kiosk.headers.update(KIOSK)
        self.nurse = requests.Session()
        r = self.nurse.post(f"{self.url}/api/v1/login", timeout=5,
                            json={"username": "demo-nurse", "password": "demo-nurse"})
        assert r.status_code == 200, r.text

    def walk_ins(self, n: int, service: str = "A") -> None:
        for _ in range(n):
            r = self.kiosk.post(f"{self.url}/api/v1/tickets", json={"service": service},
                                timeout=5)
            assert r.status_code == 201, r.text

    def status(self) -> dict[str, Any]:
        r = self.nurse.get(f"{self.url}/api/v1/sync/status", timeout=5)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def reconciliation(self) -> dict[str, Any]:
        r = self.nurse.get(f"{self.url}/api/v1/sync/reconciliation",
                           params={"day": today()}, timeout=5)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def kill(self) -> None:
        """SIGKILL every process of the station, at once: no graceful anything."""
        for pid in reversed(self.proc.pids()):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.stop()  # reaps it and closes its log
        self.kiosk.close()
        self.nurse.close()

    def stop(self) -> None:
        self.kiosk.close()
        self.nurse.close()
        self.proc.stop()


def platform_day(central: CentralProcess) -> dict[str, Any]:
    r = requests.get(f"{central.url}/api/v1/stations/demo-station/reconciliation",
                     params={"day": today()}, headers=ADMIN, timeout=5)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def in_step(station: Station, central: CentralProcess) -> bool:
    status = station.status()
    if status["pending"]:
        return False
    ours, theirs = station.reconciliation(), platform_day(central)
    return ours["events"] == theirs["events"] and ours["digest"] == theirs["digest"]


@pytest.fixture
def central(tmp_path: Path) -> Iterator[CentralProcess]:
    proc = CentralProcess(f"sqlite:///{tmp_path / 'central.db'}", log=tmp_path / "central.log")
    yield proc
    proc.stop()


@pytest.fixture
def proxy(central: CentralProcess) -> Iterator[FaultProxy]:
    link = FaultProxy(central.url)
    yield link
    link.stop()


def start_station(tmp_path: Path, central_url: str, port: int | None = None,
                  **central_keys: object) -> Station:
    keys: dict[str, object] = {"url": central_url, "backoff_max_seconds": 1,
                               "timeout_seconds": 1.0, **central_keys}
    config_file = station_config(tmp_path, **keys)
    proc = StationProcess(tmp_path / "station.db", port, config_file=config_file,
                          log=tmp_path / "station.log")
    return Station(proc)


def test_a_stopped_platform_is_caught_up_with(tmp_path: Path,
                                              central: CentralProcess) -> None:
    station = start_station(tmp_path, central.url)
    try:
        station.walk_ins(5)
        wait_until(lambda: in_step(station, central), timeout=20, what=station.status)
        central.stop()
        station.walk_ins(2000)  # the station serves on, the platform away
        status = station.status()
        assert status["pending"] >= 1900 and status["last_push_error"]
        central.start()
        wait_until(lambda: in_step(station, central), timeout=60,
                   what=lambda: (station.status(), platform_day(central)))
        status = station.status()
        assert status["conflicts"] == status["rejected"] == 0
        assert platform_day(central)["events"] == status["last_seq"]
    finally:
        station.stop()


def test_sigkill_in_the_middle_of_pushing_loses_and_doubles_nothing(
        tmp_path: Path, central: CentralProcess, proxy: FaultProxy) -> None:
    proxy.only, proxy.mode = "/events", ("status", 503, {})
    port = free_port()
    station = start_station(tmp_path, proxy.url, port, push_batch_size=2)
    station.walk_ins(BACKLOG)  # a backlog the platform has not seen
    proxy.mode = "pass"
    kills = 0
    try:
        while kills < 20:
            before = platform_day(central)["events"]
            # let it push a little, then kill it mid-stream
            wait_until(lambda b=before: platform_day(central)["events"] > b, timeout=20,
                       every=0.005, what="pushing resumed")
            station.kill()
            kills += 1
            station = start_station(tmp_path, proxy.url, port, push_batch_size=2)
        wait_until(lambda: in_step(station, central), timeout=60, what=station.status)
        status = station.status()
        assert platform_day(central)["events"] == status["last_seq"] >= BACKLOG
        assert status["conflicts"] == status["rejected"] == 0
    finally:
        station.stop()


def test_an_answer_lost_after_the_commit_makes_no_duplicate(
        tmp_path: Path, central: CentralProcess, proxy: FaultProxy) -> None:
    proxy.only, proxy.mode = "/events", "drop_after_forward"
    station = start_station(tmp_path, proxy.url)
    try:
        station.walk_ins(30)
        wait_until(lambda: platform_day(central)["events"] == 30, timeout=20,
                   what=lambda: platform_day(central))
        wait_until(lambda: proxy.count("/events", "drop_after_forward") >= 2, timeout=20)
        assert station.status()["pending"] > 0  # the station heard nothing back
        proxy.mode = "pass"
        wait_until(lambda: in_step(station, central), timeout=30, what=station.status)
        status = station.status()
        assert platform_day(central)["events"] == status["last_seq"] == 30
        assert status["conflicts"] == 0
    finally:
        station.stop()


def test_the_same_id_with_other_content_is_a_conflict(
        tmp_path: Path, central: CentralProcess, proxy: FaultProxy) -> None:
    proxy.only, proxy.mode = "/events", ("status", 503, {})
    station = start_station(tmp_path, proxy.url)
    try:
        station.walk_ins(3)
        r = station.nurse.get(f"{station.url}/api/v1/sync/reconciliation",
                              params={"day": today(), "items": "1"}, timeout=5)
        first = r.json()["items"][0]
        # someone else's content under the station's event id reaches the platform first
        forged = {"id": first["id"], "seq": first["seq"], "type": "ticket.cancelled",
                  "at": f"{today()}T08:00:00+08:00", "counter": None, "reason": "forged",
                  "ticket": {"id": "X", "service": "A", "number": "A999", "status": "cancelled"},
                  "detail": None}
        r = requests.post(f"{central.url}/api/v1/stations/demo-station/events", timeout=5,
                          json={"events": [forged]},
                          headers={"Authorization": f"Bearer {DEMO_STATION_TOKEN}"})
        assert r.status_code == 200 and r.json()["results"][0]["result"] == "stored"
        proxy.mode = "pass"
        wait_until(lambda: station.status()["pending"] == 0, timeout=20, what=station.status)
        status = station.status()
        assert status["conflicts"] == 1
        assert [p["seq"] for p in status["problems"]] == [first["seq"]]
        assert platform_day(central)["events"] == 3  # the others went on
    finally:
        station.stop()


def test_429_500_and_a_hanging_platform(tmp_path: Path, central: CentralProcess,
                                        proxy: FaultProxy) -> None:
    station = start_station(tmp_path, proxy.url)
    try:
        station.walk_ins(3)
        wait_until(lambda: in_step(station, central), timeout=20, what=station.status)
        for mode in [("status", 429, {"Retry-After": "1"}), ("status", 500, {}),
                     ("hang", 3.0)]:
            proxy.mode = mode
            seen = proxy.count("/")
            station.walk_ins(20)  # served while the platform misbehaves
            wait_until(lambda s=seen: proxy.count("/") > s, timeout=20)
            wait_until(lambda: station.status()["last_push_error"], timeout=20,
                       what=station.status)
            proxy.mode = "pass"
            wait_until(lambda: in_step(station, central), timeout=30, what=station.status)
        assert station.status()["last_push_error"] is None
        assert platform_day(central)["events"] == 63
    finally:
        station.stop()
