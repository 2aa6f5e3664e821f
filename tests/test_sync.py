"""The booking-feed pull and the sync worker, against a fake platform transport."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from support import DISPLAY, KIOSK, wait_until
from test_checkin_signed import token

from contracts.demo import DEMO_KEY_ID, demo_keys_json
from server.platform import (
    PlatformClient,
    PlatformRefused,
    PlatformUnavailable,
    Reply,
    Request,
)
from server.sync import FEED_CURSOR, Sync


def entry(i: int, status: str = "booked") -> dict[str, Any]:
    return {"id": f"F{i}", "service": "V", "day": "2026-11-27",
            "slot": {"start": "09:00", "end": "09:30"}, "status": status,
            "name_masked": "王*", "phone_last4": f"{1000 + i}", "priority": False,
            "vaccine": {"product": "Flu4", "name": "流感", "dose": 1}, "token": f"BK1:F{i}",
            "key_id": "d1", "expires": 0, "cursor": str(i), "updated_at": 1700000000 + i}


class FeedPlatform:
    """The feed as a list of changes; pages of `limit` after the cursor."""

    def __init__(self, changes: list[dict[str, Any]]) -> None:
        self.changes = changes
        self.requests: list[Request] = []
        self.fail_after: int | None = None

    def __call__(self, req: Request) -> Reply:
        self.requests.append(req)
        if self.fail_after is not None and len(self.requests) > self.fail_after:
            return Reply(503, None, {"Retry-After": "7"})
        if req.url.endswith("/api/v1/keys"):
            return Reply(200, demo_keys_json(), {})
        if req.url.endswith("/api/v1/stations"):
            return Reply(200, {"stations": [{"id": "east-station", "name": "东城站"}]}, {})
        after = int(req.params.get("cursor", "0"))
        limit = int(req.params["limit"])
        later = [c for c in self.changes if int(c["cursor"]) > after]
        page = later[:limit]
        return Reply(200, {"bookings": page, "has_more": len(later) > limit,
                           "next_cursor": page[-1]["cursor"] if page else str(after)}, {})


def make_sync(app: Flask, platform: FeedPlatform, page_size: int = 200) -> Sync:
    ext = app.extensions["clinicq"]
    client = PlatformClient("http://central", "demo-station", "demo-station-token",
                            transport=platform)
    ext.station.keyring.connect(client, 30)
    return Sync(ext.settings, ext.store, ext.station.keyring, client, page_size=page_size)


def test_pull_applies_pages_advances_the_cursor_and_is_idempotent(app: Flask) -> None:
    platform = FeedPlatform([entry(i) for i in range(1, 6)])
    sync = make_sync(app, platform, page_size=2)
    store = app.extensions["clinicq"].store
    assert sync.pull_feed() == 5
    assert store.get_meta(FEED_CURSOR) == "5"
    assert len(platform.requests) == 3
    row = store.booking("F3")
    assert row["phone_last4"] == "1003" and row["slot_start"] == "09:00"
    assert row["code"] == "BK1:F3" and "Flu4" in row["vaccine"]
    assert sync.pull_feed() == 0  # nothing new
    # the same page applied twice changes nothing
    store.set_meta(FEED_CURSOR, "2")
    assert sync.pull_feed() == 3
    assert len([r for r in store.bookings_for_day("2026-11-27") if r["id"].startswith("F")]) == 5


def test_cursor_stays_put_when_a_page_fails(app: Flask) -> None:
    platform = FeedPlatform([entry(i) for i in range(1, 6)])
    platform.fail_after = 1
    sync = make_sync(app, platform, page_size=2)
    with pytest.raises(PlatformUnavailable) as err:
        sync.pull_feed()
    assert err.value.retry_after == 7
    assert app.extensions["clinicq"].store.get_meta(FEED_CURSOR) == "2"
    platform.fail_after = None
    assert sync.pull_feed() == 3


def test_feed_cancellation_refuses_the_code(app: Flask, client: FlaskClient) -> None:
    code = token("F7")
    platform = FeedPlatform([{**entry(7), "token": code}])
    sync = make_sync(app, platform)
    sync.pull_feed()
    platform.changes.append({**entry(7, "cancelled"), "token": code, "cursor": "8"})
    sync.pull_feed()
    r = client.post("/api/v1/checkins", json={"code": code}, headers=KIOSK)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "booking_cancelled"


def test_the_residents_birth_year_reaches_the_desk_as_an_age(app: Flask, client: FlaskClient,
                                                            nurse: dict) -> None:
    """The feed's `resident.birth_year` is kept with the booking, and a ticket checked in by
    its signed code shows the age to staff (the desk's 三查七对), never to a public screen."""
    code = token("F8")
    platform = FeedPlatform([{**entry(8), "token": code, "resident": {
        "name": "王五", "phone": "13800001008", "birth_year": 1958}},
        {**entry(9), "resident": {"birth_year": "1958"}}])  # not a year: not kept
    make_sync(app, platform).pull_feed()
    store = app.extensions["clinicq"].store
    assert store.booking("F8")["birth_year"] == 1958 and store.booking("F9")["birth_year"] is None
    assert "王五" not in str(store.booking("F8"))  # the full name stays at the platform
    r = client.post("/api/v1/checkins", json={"code": code}, headers=KIOSK)
    assert r.status_code == 201 and r.get_json()["age"] == 2026 - 1958, r.get_json()
    ticket = r.get_json()["id"]
    assert client.get(f"/api/v1/tickets/{ticket}", headers=nurse).get_json()["age"] == 68
    public = client.get("/api/v1/state", headers=DISPLAY).get_json()
    assert all(t["age"] is None for s in public["services"] for t in s["tickets"])


def test_run_once_backs_off_and_records_the_error(app: Flask) -> None:
    platform = FeedPlatform([])
    platform.fail_after = 0
    sync = make_sync(app, platform)
    delay = sync.run_once()
    assert delay >= 7 and sync.status()["state"] == "error"
    platform.fail_after = None
    assert sync.run_once() == app.extensions["clinicq"].settings.sync_interval
    status = sync.status()
    assert status["state"] == "ok" and status["last_pull_at"] and status["keys"] >= 1
    # the other stations' names came with the round, once
    assert app.extensions["clinicq"].store.station_name("east-station") == "东城站"
    sync.run_once()
    assert sum(r.url.endswith("/api/v1/stations") for r in platform.requests) == 2  # 503, 200


def test_refused_station_token_is_a_refusal(app: Flask) -> None:
    client = PlatformClient("http://central", "demo-station", "bad",
                            transport=lambda req: Reply(401, {"error": {}}, {}))
    with pytest.raises(PlatformRefused):
        client.feed_page("")


def test_worker_starts_and_stops(app: Flask) -> None:
    platform = FeedPlatform([entry(1)])
    sync = make_sync(app, platform)
    sync.start()
    try:
        wait_until(lambda: app.extensions["clinicq"].store.booking("F1"), 2,
                   what="booking F1 pulled by the worker")
    finally:
        sync.stop()
    assert sync._thread is None
    assert app.extensions["clinicq"].station.keyring.keys()[DEMO_KEY_ID]


def test_not_configured_without_a_url(app: Flask) -> None:
    sync = app.extensions["clinicq.sync"]
    assert not sync.configured and sync.pull_feed() == 0
    sync.start()  # nothing to run
    assert sync._thread is None
    assert app.test_client().get("/healthz").get_json()["sync"]["state"] == "not_configured"


def test_the_feed_never_resets_a_booking_the_station_acted_on(app: Flask,
                                                              client: FlaskClient) -> None:
    code = token("F9")
    platform = FeedPlatform([{**entry(9), "token": code}])
    sync = make_sync(app, platform)
    sync.pull_feed()
    first = client.post("/api/v1/checkins", json={"code": code}, headers=KIOSK)
    assert first.status_code == 201
    ticket = first.get_json()
    # the platform cancels it after all, then a stale page says "booked" again
    platform.changes.append({**entry(9, "cancelled"), "token": code, "cursor": "10"})
    sync.pull_feed()
    platform.changes.append({**entry(9, "booked"), "token": code, "cursor": "11"})
    sync.pull_feed()
    again = client.post("/api/v1/checkins", json={"code": code}, headers=KIOSK)
    assert again.status_code == 200 and again.get_json()["id"] == ticket["id"]
    assert again.get_json()["status"] == "waiting"
    # and a page applied twice leaves the same rows
    store = app.extensions["clinicq"].store

    def rows() -> list[dict[str, Any]]:
        return [{k: v for k, v in r.items() if k != "updated_at"}
                for r in store.bookings_for_day("2026-11-27")]

    before = rows()
    store.set_meta(FEED_CURSOR, "")
    sync.pull_feed()
    assert rows() == before
