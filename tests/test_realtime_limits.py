"""Socket.IO under load (server/web/realtime.py): snapshots built off the station's lock and
sent in order with the deltas; resync and every event limited per connection."""

from __future__ import annotations

import queue
import time
from datetime import datetime
from typing import Any

import requests
import socketio
from flask import Flask
from support import KIOSK, LiveServer

from server.engine.model import State
from server.views import Audience, Snapshots


class Watcher:
    def __init__(self, url: str, **connect: Any) -> None:
        self.got: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        for name in ("state", "event"):
            self.client.on(name, lambda data, name=name: self.got.put((name, data)))
        self.client.connect(url, transports=["websocket"], wait_timeout=5, **connect)

    def next(self, timeout: float = 5) -> tuple[str, Any]:
        return self.got.get(timeout=timeout)

    def close(self) -> None:
        self.client.disconnect()


class CommitWhileBuilding(Snapshots):
    """Snapshots as the station's, except that a kiosk takes a ticket while one is being built
    (once): the command commits between the state read and the sending."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app.extensions["clinicq"].settings)
        self.station = app.extensions["clinicq"].station
        self.armed = True

    def get(self, state: State, now: datetime, audience: Audience) -> dict[str, Any]:
        built = super().get(state, now, audience)
        if self.armed and audience.kind == "display":
            self.armed = False
            self.station.walk_in("A")
        return built


def test_a_delta_committed_while_a_snapshot_is_built_follows_it_once(
        app: Flask, live_server: LiveServer) -> None:
    requests.post(f"{live_server.url}/api/v1/tickets", json={"service": "A"}, headers=KIOSK)
    app.extensions["clinicq.sockets"].snapshots = CommitWhileBuilding(app)
    display = Watcher(live_server.url, auth={"token": "demo-display-token"})
    try:
        kind, snapshot = display.next()
        assert kind == "state" and snapshot["seq"] == 1  # the state it was built from
        kind, delta = display.next()
        assert kind == "event" and delta["seq"] == 2  # then the commit made meanwhile
        requests.post(f"{live_server.url}/api/v1/tickets", json={"service": "A"}, headers=KIOSK)
        kind, delta = display.next()
        assert kind == "event" and delta["seq"] == 3  # and nothing twice
        assert display.got.empty()
    finally:
        display.close()


def test_resync_is_limited_per_connection(live_server: LiveServer) -> None:
    first = Watcher(live_server.url, auth={"token": "demo-display-token"})
    second = Watcher(live_server.url, auth={"token": "demo-display-token"})
    try:
        first.next(), second.next()
        assert first.client.call("resync", timeout=5) == {"ok": True}
        again = first.client.call("resync", timeout=5)
        assert again["ok"] is False and again["error"] == "rate_limited"
        assert 0 < again["retry_after"] <= 2
        assert second.client.call("resync", timeout=5) == {"ok": True}  # its own limit
        assert [k for k, _ in (first.next(), second.next())] == ["state", "state"]
        assert first.got.empty()  # the refused one sent nothing
    finally:
        first.close()
        second.close()


def test_every_event_is_limited_per_connection(live_server: LiveServer) -> None:
    display = Watcher(live_server.url, auth={"token": "demo-display-token"})
    try:
        display.next()
        started = time.monotonic()
        answers = [display.client.call("anything", {}, timeout=5) for _ in range(16)]
        took = time.monotonic() - started
        assert answers[:10] == [{"ok": False, "error": "unknown"}] * 10  # the burst
        # past it, every other one is refused, and answered only once a token is back: the
        # connection is read no faster than 2 events a second
        refused = [a for a in answers[10:] if a["error"] == "rate_limited"]
        assert len(refused) >= 3 and all(0 < a["retry_after"] <= 0.5 for a in refused)
        assert took >= 0.5 * len(refused)
    finally:
        display.close()
