"""The deltas of an HTTP request's commands go out once its answer is written (AfterAnswer):
not before the server closes the answer, in seq order whoever sends them, before any snapshot,
and at once for commits made outside an HTTP request."""

from __future__ import annotations

import threading
import time
from typing import Any

import requests
from flask import Flask
from flask.testing import FlaskClient
from support import KIOSK, FakeClock, LiveServer

from server.web.broadcast import ClosingClient


def _events(screen: Any) -> list[dict[str, Any]]:
    return [m["args"][0] for m in screen.get_received() if m["name"] == "event"]


def _display(app: Flask) -> Any:
    screen = app.extensions["clinicq"].socketio.test_client(
        app, auth={"token": "demo-display-token"})
    assert [m["name"] for m in screen.get_received()] == ["state"]
    return screen


def test_a_delta_waits_for_its_answer_to_be_closed(app: Flask) -> None:
    screen = _display(app)
    plain = FlaskClient(app)  # closes nothing by itself, as a server still writing the answer
    answer = plain.post("/api/v1/tickets", json={"service": "A"}, headers=KIOSK)
    assert answer.status_code == 201
    assert _events(screen) == []  # the answer is not written yet: no screen told yet
    answer.close()  # what the WSGI server does once the answer is sent
    (event,) = _events(screen)
    assert event["seq"] == 1 and event["ticket"]["id"] == answer.get_json()["id"]


def test_the_app_test_client_closes_what_it_read(app: Flask, client: FlaskClient) -> None:
    assert isinstance(client, ClosingClient)
    screen = _display(app)
    client.post("/api/v1/tickets", json={"service": "A"}, headers=KIOSK)
    assert [e["seq"] for e in _events(screen)] == [1]


def test_a_commit_outside_a_request_is_sent_at_once(app: Flask, clock: FakeClock) -> None:
    screen = _display(app)
    station = app.extensions["clinicq"].station
    station.walk_in("A")  # as the observation timer or a tool commits: no answer to wait for
    assert [e["seq"] for e in _events(screen)] == [1]


def test_a_snapshot_comes_after_the_deltas_still_waiting(app: Flask) -> None:
    screen = _display(app)
    answer = FlaskClient(app).post("/api/v1/tickets", json={"service": "A"}, headers=KIOSK)
    screen.emit("resync")
    got = [(m["name"], m["args"][0]["seq"]) for m in screen.get_received()
           if m["name"] in ("event", "state")]
    assert got == [("event", 1), ("state", 1)]  # the delta first: nothing arrives out of order
    answer.close()
    assert _events(screen) == []  # sent once, not again


def test_concurrent_commands_reach_a_display_in_seq_order(app: Flask) -> None:
    server = LiveServer(app)
    screen = _display(app)
    try:
        errors: list[BaseException] = []

        def issue(n: int) -> None:
            with requests.Session() as s:
                for _ in range(n):
                    try:
                        assert s.post(f"{server.url}/api/v1/tickets", json={"service": "A"},
                                      headers=KIOSK, timeout=10).status_code == 201
                    except BaseException as err:  # reported below, not lost in a thread
                        errors.append(err)
        threads = [threading.Thread(target=issue, args=(10,)) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not errors
        # the last answers are read before their server threads have sent the deltas
        seqs: list[int] = []
        deadline = time.monotonic() + 10
        while len(seqs) < 60 and time.monotonic() < deadline:
            seqs += [e["seq"] for e in _events(screen)]
            time.sleep(0.01)
        assert seqs == list(range(1, 61))
    finally:
        server.stop()


def test_a_room_nobody_is_in_has_its_messages_made_for_a_replay(app: Flask,
                                                                  client: FlaskClient) -> None:
    """Nothing is made for kiosks while none is connected; one joining while commands go on
    gets the deltas since its snapshot's state made then, as a connected one got them."""
    station = app.extensions["clinicq"].station
    broadcaster = app.extensions["clinicq.sockets"].broadcaster
    station.walk_in("A")
    before = station.state  # what a snapshot was built from, when the kiosk's commit came
    first = client.post("/api/v1/tickets", json={"service": "A"}, headers=KIOSK).get_json()
    replay = broadcaster.since(before, frozenset({"kiosks"}))
    assert replay is not None and [name for name, _ in replay] == ["event"]
    made = replay[0][1]
    assert made["seq"] == 2 and made["ticket"]["id"] == first["id"]
    screen = app.extensions["clinicq"].socketio.test_client(
        app, auth={"token": "demo-display-token"})
    kiosk = app.extensions["clinicq"].socketio.test_client(app, auth={"token": "demo-kiosk-token"})
    kiosk.get_received()
    screen.get_received()
    station.walk_in("A")  # not this kiosk's: sent to every kiosk as a stub, as the replay was
    (sent,) = _events(kiosk)
    assert sent.keys() == made.keys() and sent["ticket"].keys() == made["ticket"].keys()
    assert made["ticket"].get("code") is None and sent["ticket"].get("code") is None
