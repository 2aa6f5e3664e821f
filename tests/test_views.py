"""Each kind of watcher sees what it needs (server/views.py), over HTTP and over Socket.IO: a
kiosk only the tickets it issued, with their codes; a display numbers, counters and masked
names, no codes or bookings; staff everything; a phone its own ticket without a name."""

from __future__ import annotations

import json
import queue
import re
from typing import Any

import pytest
import requests
import socketio
from flask import Flask
from support import DISPLAY, KIOSK, LiveServer

from server.presenter import PHONE_FIELDS

KIOSK2 = {"Authorization": "Bearer second-kiosk-token"}
PRIVATE = ("code", "booking_id", "screening_yes", "age")


class Watcher:
    """A Socket.IO client keeping what it receives, by event name."""

    def __init__(self, url: str, **connect: Any) -> None:
        self.got: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        for name in ("state", "event", "ticket", "phone"):
            self.client.on(name, lambda data, name=name: self.got.put((name, data)))
        self.client.connect(url, transports=["websocket"], wait_timeout=5, **connect)

    def next(self, name: str, timeout: float = 5) -> Any:
        while True:
            kind, data = self.got.get(timeout=timeout)
            if kind == name:
                return data

    def close(self) -> None:
        self.client.disconnect()


@pytest.fixture
def day(app: Flask, live_server: LiveServer) -> dict[str, Any]:
    """kiosk-1 issues a walk-in and a booking's ticket, kiosk-2 one walk-in, a nurse one;
    the nurse calls kiosk-2's."""
    app.extensions["clinicq"].accounts.pair_device("kiosk-2", "kiosk", "second kiosk",
                                                   token="second-kiosk-token")
    base = live_server.url
    nurse = requests.Session()
    r = nurse.post(f"{base}/api/v1/login", json={"username": "demo-nurse",
                                                 "password": "demo-nurse"})
    nurse.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    theirs = requests.post(f"{base}/api/v1/tickets", json={"service": "A"}, headers=KIOSK2)
    mine = [requests.post(f"{base}/api/v1/tickets", json={"service": "A"}, headers=KIOSK),
            requests.post(f"{base}/api/v1/checkins", json={"code": "DEMO-V001"},
                          headers=KIOSK)]
    desk = nurse.post(f"{base}/api/v1/tickets", json={"service": "V"})
    called = nurse.post(f"{base}/api/v1/counters/A1/call-next")
    assert [x.status_code for x in (theirs, *mine, desk, called)] == [201] * 4 + [200]
    assert called.json()["id"] == theirs.json()["id"]
    return {"base": base, "nurse": nurse, "mine": [m.json() for m in mine],
            "theirs": theirs.json(), "desk": desk.json()}


def every_ticket(snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    """Every ticket view a snapshot carries: queues, counters, observation."""
    out = [t for s in snapshot["services"] for t in s["tickets"]]
    out += [c["ticket"] for c in snapshot["counters"] if c["ticket"]]
    return out + snapshot["observing"]


def assert_kiosk_view(snapshot: dict[str, Any], mine: list[dict[str, Any]]) -> None:
    own = {t["id"]: t for t in mine}
    queued = [t for s in snapshot["services"] for t in s["tickets"]]
    assert sorted(t["id"] for t in queued) == sorted(own)  # its own, and only those
    for t in queued:
        assert t["code"] == own[t["id"]]["code"] is not None
        assert t["name"] is None  # the full name is the console's
    booked = next(t for t in queued if t["booking_id"])
    assert booked["name_masked"] and booked["booking_id"] == own[booked["id"]]["booking_id"]
    # another kiosk's ticket at a counter: only what a phone sees of it
    at_counter = [c["ticket"] for c in snapshot["counters"] if c["ticket"]]
    assert at_counter and all(set(t) == set(PHONE_FIELDS) for t in at_counter)
    assert snapshot["recent_calls"] == []  # the call was of another kiosk's ticket
    for t in every_ticket(snapshot):
        assert t["id"] in own or set(t) == set(PHONE_FIELDS)


def assert_display_view(snapshot: dict[str, Any], every: int) -> None:
    tickets = every_ticket(snapshot)
    assert len(tickets) == every
    for t in tickets:
        assert all(t[k] is None for k in PRIVATE) and t["name"] is None
    assert any(t["name_masked"] for t in tickets)  # the station shows masked names
    assert snapshot["recent_calls"] and snapshot["recent_calls"][0]["number"]


def assert_staff_view(snapshot: dict[str, Any], every: int) -> None:
    tickets = every_ticket(snapshot)
    assert len(tickets) == every and all(t["code"] for t in tickets)
    booked = next(t for t in tickets if t["booking_id"])
    assert booked["name"] and booked["age"] is not None


def test_over_http_each_kind_sees_its_view(day: dict[str, Any]) -> None:
    base = day["base"]
    get = lambda headers, s=requests: s.get(f"{base}/api/v1/state", headers=headers,  # noqa
                                            timeout=5).json()
    assert_kiosk_view(get(KIOSK), day["mine"])
    theirs = get(KIOSK2)
    assert [t["id"] for s in theirs["services"] for t in s["tickets"]] == []  # theirs is called
    at_counter = next(c["ticket"] for c in theirs["counters"] if c["ticket"])
    assert at_counter["id"] == day["theirs"]["id"] and at_counter["code"] == day["theirs"]["code"]
    assert theirs["recent_calls"][0]["ticket_id"] == day["theirs"]["id"]
    assert_display_view(get(DISPLAY), 4)
    assert_staff_view(day["nurse"].get(f"{base}/api/v1/state", timeout=5).json(), 4)
    # one ticket by id: a kiosk gets another's without its code or booking, its own with them
    other = requests.get(f"{base}/api/v1/tickets/{day['mine'][1]['id']}", headers=KIOSK2)
    assert other.status_code == 200 and all(other.json()[k] is None for k in PRIVATE)
    own = requests.get(f"{base}/api/v1/tickets/{day['mine'][1]['id']}", headers=KIOSK)
    assert own.json()["code"] == day["mine"][1]["code"] and own.json()["booking_id"]


def test_the_phone_page_carries_its_ticket_only(day: dict[str, Any]) -> None:
    booked = day["mine"][1]
    page = requests.get(f"{day['base']}/t/{booked['code']}", timeout=5)
    assert page.status_code == 200
    data = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', page.text)
    start = json.loads(data.group(1))["start"]
    assert set(start["ticket"]) == set(PHONE_FIELDS) and start["ticket"]["id"] == booked["id"]
    for secret in (booked["booking_id"], booked["name_masked"], day["theirs"]["code"]):
        assert secret not in page.text.replace(booked["code"], "")


def test_over_socketio_each_kind_gets_its_snapshot_and_deltas(day: dict[str, Any]) -> None:
    base, nurse = day["base"], day["nurse"]
    cookie = "; ".join(f"{c.name}={c.value}" for c in nurse.cookies)
    kiosk = Watcher(base, auth={"token": "demo-kiosk-token"})
    kiosk2 = Watcher(base, auth={"token": "second-kiosk-token"})
    display = Watcher(base, auth={"token": "demo-display-token"})
    console = Watcher(base, headers={"Cookie": cookie})
    phone = Watcher(base, auth={"ticket": day["mine"][0]["code"]})
    try:
        assert_kiosk_view(kiosk.next("state"), day["mine"])
        assert_display_view(display.next("state"), 4)
        assert_staff_view(console.next("state"), 4)
        assert kiosk2.next("state")["seq"] == 5
        start = phone.next("ticket")
        assert set(start["ticket"]) == set(PHONE_FIELDS)
        # a new ticket of kiosk-1, then the nurse calls kiosk-1's walk-in
        new = requests.post(f"{base}/api/v1/tickets", json={"service": "A"}, headers=KIOSK)
        start_ = nurse.post(f"{base}/api/v1/tickets/{day['theirs']['id']}/start", json={})
        call = nurse.post(f"{base}/api/v1/counters/A1/call-next")
        assert [new.status_code, start_.status_code, call.status_code] == [201, 200, 200]
        for w in (kiosk, kiosk2, display, console):
            seqs = [w.next("event") for _ in range(4)]
            assert [m["seq"] for m in seqs] == [6, 7, 8, 9]  # issued, started, done, called
            w.deltas = seqs  # type: ignore[attr-defined]
        # each kiosk: its own tickets with their codes, the other's as a phone sees them
        k6, k7, k8, k9 = (m["ticket"] for m in kiosk.deltas)  # type: ignore[attr-defined]
        assert k6["id"] == new.json()["id"] and k6["code"] == new.json()["code"]
        assert k6["name"] is None and set(k7) == set(k8) == set(PHONE_FIELDS)
        assert k9["id"] == day["mine"][0]["id"] and k9["code"] == day["mine"][0]["code"]
        q6, q7, q8, q9 = (m["ticket"] for m in kiosk2.deltas)  # type: ignore[attr-defined]
        assert set(q6) == set(q9) == set(PHONE_FIELDS)
        assert q7["id"] == q8["id"] == day["theirs"]["id"]
        assert q7["code"] == q8["code"] == day["theirs"]["code"]
        for m in display.deltas:  # type: ignore[attr-defined]
            assert all(m["ticket"][k] is None for k in PRIVATE) and m["ticket"]["name"] is None
        assert all(m["ticket"]["code"] for m in console.deltas)  # type: ignore[attr-defined]
        deltas = [phone.next("phone") for _ in range(4)]
        assert [m["seq"] for m in deltas] == [6, 7, 8, 9]
        assert all(set(m["ticket"]) == set(PHONE_FIELDS) for m in deltas)
    finally:
        for w in (kiosk, kiosk2, display, console, phone):
            w.close()
