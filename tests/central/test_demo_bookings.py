"""One demo booking set (contracts/demo.py): the platform's seed (central/demo.py) and a demo
station's (server/demo.py) are the same bookings, and a station that pulls the platform's feed
(server/sync.py) updates them instead of adding a second set."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from support import TZ, FakeClock, LiveServer, station_settings

from central.app import create_app as create_central
from central.demo import seed_demo
from central.store import Store as CentralStore
from contracts.bookingcode import verify_token
from contracts.demo import (
    DEMO_BOOKING_COUNT,
    DEMO_STATION_ID,
    DEMO_STATION_TOKEN,
    demo_booking_id,
    demo_bookings,
    demo_public_keys,
)
from contracts.names import mask_name
from server import demo
from server.platform import PlatformClient
from server.store import Store
from server.sync import KeyRing, Sync
from server.web import create_app

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=TZ)
TODAY = NOW.date()


def test_the_shared_set_is_a_day_of_valid_bookings() -> None:
    rows = demo_bookings(TODAY)
    assert len(rows) == DEMO_BOOKING_COUNT
    assert len({r["id"] for r in rows}) == len({r["code"] for r in rows}) == len(rows)
    assert rows[0]["id"] == "D261127001" and rows[0]["code"] == "DEMO-V001"
    assert rows[0]["slot_start"] == "08:00"  # the README's walk-through says so
    assert {r["service"] for r in rows} == {"V", "A", "B"}
    assert {r["status"] for r in rows} == {"booked", "cancelled"}
    assert all(r["vaccine"] for r in rows if r["service"] == "V")
    assert all(r["phone"].endswith(r["phone_last4"]) for r in rows)
    assert demo_bookings(TODAY) == rows  # the same all day
    assert demo_bookings(TODAY + timedelta(days=1))[0]["id"] == "D261128001"
    with pytest.raises(ValueError):
        demo_booking_id(TODAY, 1000)  # 11 characters: not a booking id


def test_the_platform_seeds_exactly_the_shared_set(database_url: str) -> None:
    store = CentralStore(database_url, tz=TZ)
    try:
        store.migrate(int(NOW.timestamp()))
        assert seed_demo(store, int(NOW.timestamp())) == DEMO_BOOKING_COUNT
        stored = {b["id"]: b for b in store.bookings_for_day(DEMO_STATION_ID, TODAY)}
        shared = demo_bookings(TODAY)
        assert sorted(stored) == sorted(r["id"] for r in shared)
        for row in shared:
            booking = stored[row["id"]]
            vaccine = row["vaccine"] and {k: row["vaccine"][k] for k in ("product", "name", "dose")}
            assert (booking["service"], booking["slot"], booking["status"], booking["priority"],
                    booking["vaccine"]) == (
                row["service"], {"start": row["slot_start"], "end": row["slot_end"]},
                row["status"], row["priority"], vaccine), row["code"]
            assert (booking["resident"]["name"], booking["resident"]["phone"],
                    booking["resident"]["birth_year"]) == (row["name"], row["phone"],
                                                           row["birth_year"])
            # its signed code names the same booking, slot and masked name
            claims = verify_token(booking["token"], demo_public_keys())
            assert (claims.booking_id, claims.service, claims.day, claims.masked_name) == (
                row["id"], row["service"], TODAY, mask_name(row["name"]))
        assert seed_demo(store, int(NOW.timestamp())) == 0  # again the same day: nothing more
    finally:
        store.close()


@pytest.fixture
def demo_pair(database_url: str, tmp_path: Path) -> Iterator[tuple[LiveServer, Store]]:
    """The demo platform on a real HTTP server and a demo station's store (seeded by its app,
    which has no platform URL, so nothing pulls until the test does)."""
    central = LiveServer(create_central({
        "DATABASE_URL": database_url, "DEMO": True, "TIMEZONE": "Asia/Shanghai",
        "CLOCK": NOW.timestamp}))
    settings = replace(station_settings(demo=True), database=str(tmp_path / "station.db"))
    station = create_app(settings, clock=FakeClock(NOW), testing=True)
    try:
        yield central, station.extensions["clinicq"].store
    finally:
        station.extensions["clinicq"].store.close()
        central.stop()
        central.app.extensions["central.store"].close()


def test_a_pull_from_the_demo_platform_updates_the_stations_demo_set(
        demo_pair: tuple[LiveServer, Store]) -> None:
    central, store = demo_pair
    day = TODAY.isoformat()
    before = {r["id"]: r for r in store.bookings_for_day(day)}
    assert len(before) == DEMO_BOOKING_COUNT

    settings = replace(station_settings(demo=True), central_url=central.url)
    client = PlatformClient(central.url, DEMO_STATION_ID, DEMO_STATION_TOKEN, timeout=10)
    sync = Sync(settings, store, KeyRing(store), client)
    assert sync.pull_feed() == DEMO_BOOKING_COUNT

    after = {r["id"]: r for r in store.bookings_for_day(day)}
    assert sorted(after) == sorted(before)  # updated, not doubled
    for booking_id, row in after.items():
        old = before[booking_id]
        assert row["changed_at"] is not None, booking_id  # the feed did write it
        for column in ("code", "name", "name_masked", "phone_last4", "service", "slot_start",
                       "slot_end", "status", "priority", "birth_year"):
            assert row[column] == old[column], (booking_id, column)
        # the same vaccine and dose, and the date of the dose before that only the station knows
        assert json.loads(row["vaccine"] or "null") == json.loads(old["vaccine"] or "null")
    # what the README types still works, and names the booking the QR code names
    assert store.booking_by_code("DEMO-V001")["id"] == demo_booking_id(TODAY, 1)


def test_a_later_day_takes_the_typed_codes_over(tmp_path: Path) -> None:
    settings = replace(station_settings(demo=True), database=str(tmp_path / "station.db"))
    clock = FakeClock(NOW)
    app = create_app(settings, clock=clock, testing=True)
    store = app.extensions["clinicq"].store
    try:
        # a row of the demo set as stations seeded it before it was the platform's set
        old = store.booking_by_code("DEMO-V001")
        assert old is not None
        store.upsert_bookings([{**old, "id": "demo-20261127-001", "code": "DEMO-OLD001"}])
        tomorrow = TODAY + timedelta(days=1)
        demo.seed(settings, store, app.extensions["clinicq"].accounts, tomorrow)
        assert store.booking_by_code("DEMO-V001")["id"] == demo_booking_id(tomorrow, 1)
        assert len(store.bookings_for_day(tomorrow.isoformat())) == DEMO_BOOKING_COUNT
        # yesterday's bookings stay, under codes nobody types
        kept = store.booking(demo_booking_id(TODAY, 1))
        assert kept is not None and kept["code"] == f"DEMO-V001@{TODAY.isoformat()}"
        assert store.booking("demo-20261127-001") is None
    finally:
        store.close()


def test_the_platforms_booking_list_shows_the_typed_codes(database_url: str) -> None:
    app = create_central({"DATABASE_URL": database_url, "DEMO": True,
                          "TIMEZONE": "Asia/Shanghai", "CLOCK": NOW.timestamp})
    try:
        page = app.test_client().get(f"/stations/{DEMO_STATION_ID}/bookings").get_data(
            as_text=True)
        for row in demo_bookings(date(2026, 11, 27)):
            assert f"<code>{row['code']}</code>" in page
    finally:
        app.extensions["central.store"].close()
