"""The demo's one booking set: the reference platform (`clinicq central serve --demo`) and a
demo station (`clinicq serve --demo`), each its own process over loopback, hold the same
bookings (contracts.demo.demo_bookings); the station's pull of the platform's feed neither
adds any nor renames any, and its typed codes (`DEMO-V001`) are the platform's bookings."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from support import KIOSK, TZ, CentralProcess, StationProcess, station_config, wait_until

from central.demo import DEMO_ADMIN_TOKEN
from contracts.demo import DEMO_BOOKING_COUNT, DEMO_STATION_TOKEN, demo_bookings

pytestmark = pytest.mark.slow
ADMIN = {"Authorization": f"Bearer {DEMO_ADMIN_TOKEN}"}


def local_rows(database: Path, day: str) -> dict[str, dict[str, Any]]:
    """The station's bookings of `day`, read from its SQLite file (read-only, beside the
    running station)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute("SELECT * FROM bookings WHERE day = ?", [day]).fetchall()
    return {row["id"]: dict(row) for row in rows}


def platform_feed(url: str) -> list[dict[str, Any]]:
    """The platform's whole feed of the demo station, as the station reads it."""
    entries: list[dict[str, Any]] = []
    cursor = ""
    while True:
        r = requests.get(f"{url}/api/v1/stations/demo-station/bookings", timeout=5,
                         params={"cursor": cursor, "limit": 200} if cursor else {"limit": 200},
                         headers={"Authorization": f"Bearer {DEMO_STATION_TOKEN}"})
        assert r.status_code == 200, r.text
        entries += r.json()["bookings"]
        if not r.json()["has_more"]:
            return entries
        cursor = r.json()["next_cursor"]


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[CentralProcess, Path, Path]]:
    central = CentralProcess(f"sqlite:///{tmp_path / 'central.db'}", None, "--workers", "1",
                             log=tmp_path / "central.log")
    try:
        yield central, tmp_path / "station.db", station_config(
            tmp_path, url=central.url, pull_interval_seconds=0.5)
    finally:
        central.stop()


def start_station(database: Path, config: Path, log: Path) -> StationProcess:
    return StationProcess(database, None, config_file=config, log=log)


def pulled(database: Path, day: str) -> dict[str, dict[str, Any]]:
    """The station's rows once every one of them has come through the feed (a seeded row has
    no `changed_at`; a pulled one has the platform's)."""
    return wait_until(lambda: (rows := local_rows(database, day)) and all(
        row["changed_at"] for row in rows.values()) and rows, 20,
        what="every demo booking pulled from the platform's feed")


def test_the_station_and_the_platform_hold_one_demo_set(
        demo: tuple[CentralProcess, Path, Path], tmp_path: Path) -> None:
    central, database, config = demo
    station = start_station(database, config, tmp_path / "station.log")
    try:
        day = datetime.now(TZ).date()
        shared = {b["id"]: b for b in demo_bookings(day)}
        feed = {entry["id"]: entry for entry in platform_feed(central.url)}
        assert set(feed) == set(shared) and len(shared) == DEMO_BOOKING_COUNT
        for booking_id, entry in feed.items():
            mine = shared[booking_id]
            assert (entry["service"], entry["slot"], entry["status"], entry["name_masked"],
                    entry["phone_last4"], entry["priority"]) == (
                mine["service"], {"start": mine["slot_start"], "end": mine["slot_end"]},
                mine["status"], mine["name_masked"], mine["phone_last4"], mine["priority"])
            if mine["vaccine"]:
                assert (entry["vaccine"]["product"], entry["vaccine"]["dose"]) == (
                    mine["vaccine"]["product"], mine["vaccine"]["dose"])
            else:
                assert entry["vaccine"] is None
        full = requests.get(f"{central.url}/api/v1/bookings/{next(iter(shared))}",
                            headers=ADMIN, timeout=5).json()
        assert full["resident"]["name"] == next(iter(shared.values()))["name"]

        rows = pulled(database, day.isoformat())
        assert set(rows) == set(shared), "the pull added or lost bookings"
        for booking_id, row in rows.items():
            mine = shared[booking_id]
            assert (row["code"], row["name"], row["name_masked"], row["service"],
                    row["slot_start"], row["slot_end"], row["status"], row["birth_year"]) == (
                mine["code"], mine["name"], mine["name_masked"], mine["service"],
                mine["slot_start"], mine["slot_end"], mine["status"], mine["birth_year"])
            assert row["changed_at"] == feed[booking_id]["updated_at"]

        # the typed code and the platform's QR code are one booking: one ticket
        hour = datetime.now(TZ).hour
        # a booking the station takes at this hour: a clinic visit once its slot is near (a
        # late one comes in as a walk-in), before 07:00 an exam (it waits for its slot)
        candidates = sorted((b for b in shared.values() if b["status"] == "booked"
                             and b["service"] == ("A" if hour >= 7 else "B")),
                            key=lambda b: b["slot_start"], reverse=hour < 7)
        booking = candidates[0]
        checkin = f"{station.url}/api/v1/checkins"
        typed = requests.post(checkin, json={"code": booking["code"].lower()}, headers=KIOSK,
                              timeout=5)
        assert typed.status_code == 201, typed.text
        assert typed.json()["booking_id"] == booking["id"]
        scanned = requests.post(checkin, json={"code": feed[booking["id"]]["token"]},
                                headers=KIOSK, timeout=5)
        assert scanned.status_code == 200 and scanned.json()["id"] == typed.json()["id"]

        # the platform cancels one; the station hears it, and a restart (which seeds the demo
        # again) does not undo it nor add a booking
        gone = next(b for b in shared.values() if b["status"] == "booked" and b is not booking)
        r = requests.post(f"{central.url}/api/v1/bookings/{gone['id']}/cancel", headers=ADMIN,
                          timeout=5)
        assert r.json()["status"] == "cancelled"
        wait_until(lambda: local_rows(database, day.isoformat())[gone["id"]]["status"]
                   == "cancelled", 20, what="the cancellation pulled")
    finally:
        station.stop()
    station = start_station(database, config, tmp_path / "station.log")
    try:
        rows = local_rows(database, day.isoformat())
        assert len(rows) == DEMO_BOOKING_COUNT
        assert rows[gone["id"]]["status"] == "cancelled" and rows[gone["id"]]["code"] == gone[
            "code"]
        r = requests.post(f"{station.url}/api/v1/checkins", json={"code": gone["code"]},
                          headers=KIOSK, timeout=5)
        assert r.status_code == 422 and r.json()["error"]["code"] == "booking_cancelled"
    finally:
        station.stop()


def test_the_platform_lists_each_demo_booking_with_its_typed_code(
        demo: tuple[CentralProcess, Path, Path]) -> None:
    central, _, _ = demo
    page = requests.get(f"{central.url}/stations/demo-station/bookings", timeout=5)
    assert page.status_code == 200
    for booking in demo_bookings(datetime.now(TZ).date()):
        assert f"<code>{booking['code']}</code>" in page.text
    other = requests.get(f"{central.url}/stations/hz-wulin/bookings", timeout=5)
    assert other.status_code == 200 and "DEMO-" not in other.text
