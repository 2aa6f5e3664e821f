"""End to end over real sockets: a running central platform and a running station."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from support import (
    KIOSK,
    TEST_CONFIG,
    TZ,
    FakeClock,
    LiveServer,
    station_settings,
    wait_until,
)

from central.app import create_app as create_central
from central.demo import DEMO_ADMIN_TOKEN
from contracts.demo import DEMO_VACCINES
from server import cli
from server.web import create_app

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=TZ)
ADMIN = {"Authorization": f"Bearer {DEMO_ADMIN_TOKEN}"}
pytestmark = pytest.mark.slow


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    central = LiveServer(create_central({
        "DATABASE_URL": f"sqlite:///{tmp_path / 'central.db'}", "DEMO": True,
        "TIMEZONE": "Asia/Shanghai", "CLOCK": NOW.timestamp}))
    settings = replace(station_settings(demo=True), database=str(tmp_path / "station.db"),
                       central_url=central.url, sync_interval=0.2)
    station = LiveServer(create_app(settings, clock=FakeClock(NOW)))
    try:
        yield central, station
    finally:
        station.app.extensions["clinicq.sync"].stop()
        station.stop()
        central.stop()


def book(central: LiveServer, name: str, phone: str) -> dict[str, Any]:
    r = requests.post(f"{central.url}/api/v1/bookings", headers=ADMIN, timeout=5, json={
        "station": "demo-station", "service": "V", "day": "2026-11-27", "slot": "09:00",
        "resident": {"name": name, "phone": phone}, "vaccine": {"product": "Flu4"}})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def test_booking_made_on_the_platform_checks_in_at_the_station(
        servers: tuple[LiveServer, LiveServer]) -> None:
    central, station = servers
    # a new signing key the station has never seen: it must fetch the key list itself
    r = requests.post(f"{central.url}/api/v1/keys/rotate", json={"kid": "k2"}, headers=ADMIN,
                      timeout=5)
    assert r.status_code == 201
    mine = book(central, "李小红", "13900001234")
    assert mine["key_id"] == "k2"

    checkin = f"{station.url}/api/v1/checkins"
    first = requests.post(checkin, json={"code": mine["token"]}, headers=KIOSK, timeout=5)
    assert first.status_code == 201, first.text
    assert first.json()["booking_id"] == mine["id"] and first.json()["name_masked"] == "李*红"
    replay = requests.post(checkin, json={"code": mine["token"]}, headers=KIOSK, timeout=5)
    assert replay.status_code == 200 and replay.json()["id"] == first.json()["id"]

    other = book(central, "王大明", "13900005678")
    cancel = requests.post(f"{central.url}/api/v1/bookings/{other['id']}/cancel", headers=ADMIN,
                           timeout=5)
    assert cancel.json()["status"] == "cancelled"

    sync = station.app.extensions["clinicq.sync"]
    sync.start()
    store = station.app.extensions["clinicq"].store
    wait_until(lambda: store.booking_status(other["id"]) == "cancelled", 10, every=0.05,
               what=sync.status)
    refused = requests.post(checkin, json={"code": other["token"]}, headers=KIOSK, timeout=5)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "booking_cancelled"

    # the feed also brought the platform's demo bookings: staff can find them by phone digits
    s = requests.Session()
    login = s.post(f"{station.url}/api/v1/login",
                   json={"username": "demo-nurse", "password": "demo-nurse"}, timeout=5)
    found = s.get(f"{station.url}/api/v1/bookings", params={"q": "5678"}, timeout=5).json()
    assert login.ok and [b["id"] for b in found["bookings"] if b["id"] == other["id"]]
    health = requests.get(f"{station.url}/healthz", timeout=5).json()
    assert health["sync"]["state"] == "ok" and health["sync"]["keys"] >= 2
    # the vaccine catalog came with the first round: the platform's demo catalog
    assert health["sync"]["vaccines"] == len(DEMO_VACCINES) and health["sync"]["last_vaccines_at"]


def test_a_check_in_reaches_the_platform_and_the_residents_records(
        servers: tuple[LiveServer, LiveServer], capsys: pytest.CaptureFixture[str]) -> None:
    central, station = servers
    mine = book(central, "赵一鸣", "13900004321")
    sync = station.app.extensions["clinicq.sync"]
    sync.start()
    r = requests.post(f"{station.url}/api/v1/checkins", json={"code": mine["token"]},
                      headers=KIOSK, timeout=5)
    assert r.status_code == 201, r.text
    ticket = r.json()

    def platform_status() -> str:
        got = requests.get(f"{central.url}/api/v1/bookings/{mine['id']}", headers=ADMIN,
                           timeout=5)
        return str(got.json()["status"])

    wait_until(lambda: platform_status() == "checked_in", 10, every=0.05, what=sync.status)
    nurse = requests.Session()
    csrf = nurse.post(f"{station.url}/api/v1/login", timeout=5, json={
        "username": "demo-nurse", "password": "demo-nurse"}).json()["csrf_token"]
    # V001 (the demo's own) may be ahead in the queue: call until ours is called
    for _ in range(20):
        called = nurse.post(f"{station.url}/api/v1/counters/V1/call-next", timeout=5,
                            headers={"X-CSRF-Token": csrf})
        assert called.status_code == 200, called.text
        if called.json()["id"] == ticket["id"]:
            break
    wait_until(lambda: platform_status() == "called", 10, every=0.05, what=sync.status)
    records = requests.get(
        f"{central.url}/api/v1/residents/{mine['resident']['id']}/records", headers=ADMIN,
        timeout=5)
    assert records.status_code == 200, records.text
    visits = [v for v in records.json()["visits"] if v["station"] == "demo-station"]
    assert len(visits) == 1 and visits[0]["checked_in"] and visits[0]["called"]
    page = requests.get(mine["records_url"], timeout=5)  # the resident's own link
    assert page.status_code == 200
    status = sync.status()
    assert status["pending"] == 0 and status["conflicts"] == status["rejected"] == 0
    # the command line agrees: the day's events match, event for event
    database = station.app.extensions["clinicq"].settings.database
    args = ["sync", "--config", str(TEST_CONFIG), "--database", database, "--central-url",
            central.url, "--demo", "reconcile", "--day", "2026-11-27"]
    assert cli.main(args) == 0
    assert ": match" in capsys.readouterr().out
    sync.stop()  # the link goes: an event the platform has not seen
    walk_in = requests.post(f"{station.url}/api/v1/tickets", json={"service": "A"},
                            headers=KIOSK, timeout=5)
    assert walk_in.status_code == 201
    assert cli.main(args) == 1
    out = capsys.readouterr().out
    assert "DIFFER" in out and out.count("not at the platform") == 1
