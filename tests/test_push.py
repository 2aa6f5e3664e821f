"""The outbox and its push to the platform, against a platform played by a transport function
that keeps to docs/sync.md (the real platform's side is tested in tests/central and in
tests/test_sync_faults.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from support import KIOSK, TEST_CONFIG, login, wait_until

from contracts.syncwire import event_sha256, reconciliation
from server import config
from server.platform import PlatformClient, PlatformUnavailable, Reply, Request
from server.push import Pusher
from server.store import Store
from server.web import create_app


class EventPlatform:
    """Keeps events by id, answers per event; can be told to misbehave."""

    def __init__(self) -> None:
        self.events: dict[str, dict[str, Any]] = {}
        self.conflicts: list[dict[str, Any]] = []
        self.heartbeats: list[dict[str, Any]] = []
        self.batches: list[int] = []
        self.answer_only: int | None = None  # answer just the first N of a batch
        self.status: int | None = None  # answer every request with this HTTP status
        self.headers: dict[str, str] = {}
        self.reject_types: set[str] = set()
        self.raise_error: Exception | None = None

    def __call__(self, req: Request) -> Reply:
        if self.raise_error is not None:
            raise self.raise_error
        if self.status is not None:
            return Reply(self.status, None, self.headers)
        if req.url.endswith("/heartbeat"):
            self.heartbeats.append(req.body)
            return Reply(200, {"ok": True}, {})
        assert req.method == "POST" and req.url.endswith("/api/v1/stations/demo-station/events")
        batch = req.body["events"]
        self.batches.append(len(batch))
        results = []
        for event in batch:
            result: dict[str, Any] = {"id": event["id"], "seq": event["seq"]}
            kept = self.events.get(event["id"])
            if event["type"] in self.reject_types:
                result.update(result="rejected", reason="not wanted here")
            elif kept is None:
                self.events[event["id"]] = event
                result["result"] = "stored"
            elif event_sha256(kept) == event_sha256(event):
                result["result"] = "duplicate"
            else:
                self.conflicts.append(event)
                result.update(result="conflict", reason="same id, other content")
            results.append(result)
        if self.answer_only is not None:
            results = results[:self.answer_only]
        return Reply(200, {"results": results}, {})


def pusher_for(app: Flask, platform: EventPlatform, **kw: Any) -> Pusher:
    store = app.extensions["clinicq"].store
    client = PlatformClient("http://central", "demo-station", "t", transport=platform)
    return Pusher(store, client, **kw)


def walk_ins(client: FlaskClient, n: int) -> None:
    for _ in range(n):
        r = client.post("/api/v1/tickets", json={"service": "A"}, headers=KIOSK)
        assert r.status_code == 201, r.get_json()


def test_every_event_has_its_own_id_and_goes_up_once(app: Flask, client: FlaskClient) -> None:
    walk_ins(client, 7)
    store: Store = app.extensions["clinicq"].store
    rows = store.events()
    assert len({r["id"] for r in rows}) == len(rows) and all(len(r["id"]) == 32 for r in rows)
    platform = EventPlatform()
    pusher = pusher_for(app, platform, batch_size=3)
    assert pusher.push_once() == len(rows)
    assert all(b <= 3 for b in platform.batches) and len(platform.batches) == -(-len(rows) // 3)
    assert sorted(e["seq"] for e in platform.events.values()) == [r["seq"] for r in rows]
    assert store.outbox_status()["pending"] == 0
    assert pusher.push_once() == 0  # nothing is sent twice
    assert sum(platform.batches) == len(rows)
    sent = platform.events[rows[0]["id"]]
    assert sent["type"] == "ticket.issued" and sent["ticket"]["service"] == "A"
    assert sent["at"].startswith("2026-11-27T09:00") and sent["at"].endswith("+08:00")


def test_a_partial_answer_settles_only_what_was_answered(app: Flask,
                                                          client: FlaskClient) -> None:
    walk_ins(client, 5)
    store: Store = app.extensions["clinicq"].store
    total = store.outbox_status()["last_seq"]
    platform = EventPlatform()
    platform.answer_only = 2
    pusher = pusher_for(app, platform, batch_size=100)
    pusher.push_once()
    assert store.outbox_status()["pending"] == total - 2
    platform.answer_only = None
    pusher.push_once()  # the rest again; what the platform had is answered duplicate
    assert store.outbox_status()["pending"] == 0 and len(platform.events) == total


def test_an_answer_naming_other_events_settles_nothing(app: Flask, client: FlaskClient) -> None:
    walk_ins(client, 2)
    store: Store = app.extensions["clinicq"].store

    def liar(req: Request) -> Reply:
        return Reply(200, {"results": [{"id": "f" * 32, "seq": e["seq"], "result": "stored"}
                                       for e in req.body["events"]]}, {})

    pusher = Pusher(store, PlatformClient("http://central", "demo-station", "t",
                                          transport=liar))
    assert pusher.run_once() is not None  # a failure: backs off
    assert store.outbox_status()["pending"] == store.outbox_status()["last_seq"]
    assert "did not answer" in pusher.status()["last_push_error"]


def test_conflicts_and_rejections_are_kept_shown_and_do_not_block(app: Flask,
                                                                  client: FlaskClient) -> None:
    walk_ins(client, 3)
    store: Store = app.extensions["clinicq"].store
    first = store.events()[0]
    platform = EventPlatform()
    # the platform holds another content under the first event's id (a restored backup, say)
    platform.events[first["id"]] = {"id": first["id"], "seq": first["seq"], "type": "other"}
    platform.reject_types = {"ticket.called"}
    nurse = login(client)
    assert client.post("/api/v1/counters/A1/call-next", headers=nurse).status_code == 200
    pusher = pusher_for(app, platform)
    pusher.push_once()
    status = store.outbox_status()
    assert status["pending"] == 0 and status["conflicts"] == 1 and status["rejected"] == 1
    r = client.get("/api/v1/sync/status")
    body = r.get_json()
    assert r.status_code == 200 and body["conflicts"] == 1 and body["rejected"] == 1
    assert {p["result"] for p in body["problems"]} == {"conflict", "rejected"}
    assert platform.events[first["id"]]["type"] == "other"  # never overwritten
    # every event behind them arrived
    assert {e["seq"] for e in platform.events.values()} >= {
        r["seq"] for r in store.events()[1:] if r["type"] != "ticket.called"}


def test_a_commit_wakes_the_pusher(app: Flask, client: FlaskClient) -> None:
    platform = EventPlatform()
    pusher = pusher_for(app, platform, heartbeat_seconds=3600)
    app.extensions["clinicq"].station.subscribe(pusher.wake)
    pusher.start()
    try:
        walk_ins(client, 1)
        wait_until(lambda: len(platform.events) == 1, what=lambda: platform.batches)
        walk_ins(client, 1)
        wait_until(lambda: len(platform.events) == 2, what=lambda: platform.batches)
    finally:
        pusher.stop()


def test_429_retry_after_is_honoured_and_backoff_is_capped(app: Flask,
                                                           client: FlaskClient) -> None:
    walk_ins(client, 1)
    platform = EventPlatform()
    platform.status, platform.headers = 429, {"Retry-After": "42"}
    pusher = pusher_for(app, platform, backoff_max=4.0)
    assert pusher.run_once() == 42  # never sooner than asked
    platform.headers = {}
    platform.status = 503
    delays = [pusher.run_once() for _ in range(8)]
    assert all(d is not None and d <= 4.0 for d in delays)
    assert max(d for d in delays if d is not None) > 2.0  # it did grow to the cap (jitter: half)
    assert pusher.status()["last_push_error"].endswith("HTTP 503")
    platform.status = None
    assert pusher.run_once() is None and pusher.status()["last_push_error"] is None
    assert pusher.status()["pending"] == 0


def test_retry_after_as_a_date() -> None:
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    def asked(value: str) -> float | None:
        client = PlatformClient("http://central", "demo-station", "t", transport=lambda req:
                                Reply(503, None, {"retry-after": value}))
        with pytest.raises(PlatformUnavailable) as err:
            client.push_events([])
        return err.value.retry_after

    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= (asked(when) or 0) <= 30
    assert asked("soon") is None


def test_the_worker_survives_any_error(app: Flask, client: FlaskClient) -> None:
    walk_ins(client, 1)
    platform = EventPlatform()
    platform.raise_error = RuntimeError("a bug in a transport")
    pusher = pusher_for(app, platform, backoff_max=0.05)
    pusher.start()
    try:
        wait_until(lambda: pusher.status()["last_push_error"], what="the error seen")
        assert "a bug in a transport" in pusher.status()["last_push_error"]
        platform.raise_error = None
        wait_until(lambda: pusher.status()["pending"] == 0, what=pusher.status)
    finally:
        pusher.stop()
    assert pusher._thread is None


def test_heartbeat_on_time_and_on_a_large_change(app: Flask, client: FlaskClient) -> None:
    platform = EventPlatform()
    now = [0.0]
    ext = app.extensions["clinicq"]
    from server import presenter

    def source() -> dict[str, Any]:
        state, at = ext.station.current()
        return presenter.heartbeat(state, ext.settings, at)

    pusher = pusher_for(app, platform, heartbeat=source, heartbeat_seconds=60,
                        monotonic=lambda: now[0])
    assert pusher.beat() is True
    first = platform.heartbeats[-1]
    services = {s["service"]: s for s in first["services"]}
    assert services["A"]["waiting"] == 0 and "estimated_wait_minutes" in services["A"]
    now[0] = 10.0
    walk_ins(client, 2)
    assert pusher.beat() is False  # a small change waits for its minute
    now[0] = 20.0
    walk_ins(client, 4)
    assert pusher.beat() is True  # six more waiting: now
    assert {s["service"]: s for s in platform.heartbeats[-1]["services"]}["A"]["waiting"] == 6
    now[0] = 81.0
    assert pusher.beat() is True and len(platform.heartbeats) == 3


def test_reconciliation_matches_what_the_platform_received(app: Flask,
                                                           client: FlaskClient) -> None:
    walk_ins(client, 4)
    platform = EventPlatform()
    pusher_for(app, platform).push_once()
    login(client)
    r = client.get("/api/v1/sync/reconciliation?day=2026-11-27&items=1")
    assert r.status_code == 200
    theirs = reconciliation(((e["seq"], e["id"], event_sha256(e))
                             for e in platform.events.values()), "2026-11-27")
    body = r.get_json()
    assert body["events"] == theirs["events"] == 4 and body["digest"] == theirs["digest"]
    assert [i["seq"] for i in body["items"]] == [1, 2, 3, 4]
    other_day = client.get("/api/v1/sync/reconciliation?day=2026-11-26").get_json()
    assert other_day["events"] == 0 and "items" not in other_day


@pytest.mark.parametrize("day", ["2026-02-30", "yesterday", "", "2026-1-1"])
def test_reconciliation_refuses_a_bad_day(client: FlaskClient, day: str) -> None:
    login(client)
    r = client.get(f"/api/v1/sync/reconciliation?day={day}")
    assert r.status_code == 400
    error = r.get_json()["error"]
    assert error["code"] == "field_invalid" and error["message_zh"]


def test_sync_status_is_for_staff(client: FlaskClient) -> None:
    assert client.get("/api/v1/sync/status").status_code == 401
    assert client.get("/api/v1/sync/status", headers=KIOSK).status_code == 403
    login(client)
    body = client.get("/api/v1/sync/status").get_json()
    assert body["state"] == "not_configured" and body["pending"] == 0


def test_events_survive_a_restart_and_are_pushed_after_it(settings: config.Settings,
                                                          tmp_path: Any) -> None:
    path = str(tmp_path / "station.db")
    first = create_app(replace(settings, database=path), testing=True)
    walk_ins(first.test_client(), 3)
    platform = EventPlatform()
    platform.answer_only = 1
    pusher_for(first, platform).push_once()
    first.extensions["clinicq"].store.close()
    again = create_app(replace(settings, database=path), testing=True)
    status = again.extensions["clinicq"].store.outbox_status()
    assert status["pending"] == status["last_seq"] - 1
    platform.answer_only = None
    pusher_for(again, platform).push_once()
    assert len(platform.events) == status["last_seq"]
    again.extensions["clinicq"].store.close()


def test_cli_sync_status(settings: config.Settings, tmp_path: Any,
                         capsys: pytest.CaptureFixture[str]) -> None:
    path = str(tmp_path / "station.db")
    app = create_app(replace(settings, database=path), testing=True)
    walk_ins(app.test_client(), 2)
    app.extensions["clinicq"].store.close()
    from server.cli import main

    assert main(["sync", "--config", str(TEST_CONFIG), "--database", path, "status", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["pending"] == doc["last_seq"] == 2 and doc["last_push_at"] is None
    assert main(["sync", "--config", str(TEST_CONFIG), "--database", path, "status"]) == 0
    assert "2 pending" in capsys.readouterr().out
