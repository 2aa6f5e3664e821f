"""Socket.IO over real loopback: snapshot on connect, numbered deltas, resync."""

from __future__ import annotations

import queue
import time
from typing import Any

import pytest
import requests
import socketio
from support import KIOSK, LiveServer

from contracts.demo import DEMO_TRACE_CODE


class Watcher:
    """A Socket.IO client recording what it receives, like a display."""

    def __init__(self, url: str, **connect: Any) -> None:
        self.received: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("state", lambda data: self.received.put(("state", data)))
        self.client.on("event", lambda data: self.received.put(("event", data)))
        self.client.on("counters", lambda data: self.received.put(("counters", data)))
        self.client.connect(url, transports=["websocket"], wait_timeout=5, **connect)

    def next(self, timeout: float = 5) -> tuple[str, Any]:
        return self.received.get(timeout=timeout)

    def close(self) -> None:
        self.client.disconnect()


@pytest.fixture
def display(live_server: LiveServer):
    w = Watcher(live_server.url, auth={"token": "demo-display-token"})
    yield w
    w.close()


def nurse_session(base: str, user: str = "demo-nurse") -> requests.Session:
    s = requests.Session()
    r = s.post(f"{base}/api/v1/login", json={"username": user, "password": user})
    s.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return s


def test_snapshot_then_consecutive_deltas(live_server: LiveServer, display: Watcher) -> None:
    kind, snapshot = display.next()
    assert kind == "state" and snapshot["seq"] == 0
    base = live_server.url
    requests.post(f"{base}/api/v1/tickets", json={"service": "V"}, headers=KIOSK)
    requests.post(f"{base}/api/v1/checkins", json={"code": "DEMO-V001"}, headers=KIOSK)
    nurse = nurse_session(base)
    called = nurse.post(f"{base}/api/v1/counters/V1/call-next").json()
    events = [display.next() for _ in range(3)]
    assert [k for k, _ in events] == ["event"] * 3
    assert [e["seq"] for _, e in events] == [1, 2, 3]
    assert [e["type"] for _, e in events] == ["ticket.issued", "ticket.issued", "ticket.called"]
    call = events[-1][1]
    assert call["ticket"]["id"] == called["id"] and call["counter"] == "V1"
    assert call["announcement"]["text"] == f"请 {called['number']} 号 到 1号接种台"
    assert call["queues"]["V"]["waiting"] == 1
    # public screens get no booking ids or status-page keys
    assert call["ticket"]["code"] is None and events[1][1]["ticket"]["booking_id"] is None


def test_resync_gives_the_current_snapshot(live_server: LiveServer, display: Watcher) -> None:
    display.next()
    requests.post(f"{live_server.url}/api/v1/tickets", json={"service": "A"}, headers=KIOSK)
    assert display.next()[1]["seq"] == 1
    display.client.emit("resync")
    kind, snapshot = display.next()
    assert kind == "state" and snapshot["seq"] == 1
    assert {s["code"]: s["waiting"] for s in snapshot["services"]}["A"] == 1


def test_staff_socket_uses_the_session_cookie(live_server: LiveServer) -> None:
    nurse = nurse_session(live_server.url)
    cookie = "; ".join(f"{c.name}={c.value}" for c in nurse.cookies)
    w = Watcher(live_server.url, headers={"Cookie": cookie})
    try:
        kind, snapshot = w.next()
        assert kind == "state"
        assert w.client.call("watch", {"counter": "V1"}, timeout=5) == {"ok": True,
                                                                        "held_by": []}
    finally:
        w.close()


def test_consoles_get_the_staff_view_of_each_delta(live_server: LiveServer,
                                                   display: Watcher) -> None:
    """The same numbered deltas to both, but a console's ticket keeps what the desk needs (the
    screening answers a doctor reads, the age, the booking) and a screen's does not."""
    base = live_server.url
    nurse = nurse_session(base)
    console = Watcher(base, headers={"Cookie": "; ".join(
        f"{c.name}={c.value}" for c in nurse.cookies)})
    try:
        console.next()
        display.next()
        checked = requests.post(f"{base}/api/v1/checkins", json={"code": "DEMO-V001"},
                                headers=KIOSK).json()
        requests.post(f"{base}/api/v1/tickets/{checked['id']}/screening",
                      json={"answers": {"fever": True}}, headers=KIOSK)
        staff = [console.next()[1] for _ in range(2)]
        public = [display.next()[1] for _ in range(2)]
        assert [m["seq"] for m in staff] == [m["seq"] for m in public] == [1, 2]
        assert staff[1]["ticket"]["screening_yes"] == ["fever"]
        assert staff[1]["ticket"]["age"] == checked["age"] is not None
        assert staff[1]["ticket"]["booking_id"] == checked["booking_id"]
        assert public[1]["ticket"]["screening_yes"] is None
        assert public[1]["ticket"]["age"] is None and public[1]["ticket"]["booking_id"] is None
        # the full name is the console's; the waiting room's screens get the masked one
        assert staff[0]["ticket"]["name"] == checked_name(base, checked) is not None
        assert public[0]["ticket"]["name"] is None
        assert public[0]["ticket"]["name_masked"] == staff[0]["ticket"]["name_masked"]
        console.client.emit("resync")
        display.client.emit("resync")
        names = {kind: [t["name"] for s in w.next()[1]["services"] for t in s["tickets"]]
                 for kind, w in (("staff", console), ("public", display))}
        assert names == {"staff": [staff[0]["ticket"]["name"]], "public": [None]}
    finally:
        console.close()


def checked_name(base: str, ticket: dict) -> str | None:
    """The full name staff see on a ticket (a nurse asks)."""
    return nurse_session(base).get(f"{base}/api/v1/tickets/{ticket['id']}").json()["name"]


def test_every_watcher_sees_every_delta(live_server: LiveServer) -> None:
    watchers = [Watcher(live_server.url, auth={"token": t})
                for t in ["demo-display-token", "demo-kiosk-token", "demo-display-token"]]
    try:
        for w in watchers:
            w.next()
        for _ in range(5):
            requests.post(f"{live_server.url}/api/v1/tickets", json={"service": "V"},
                          headers=KIOSK)
        for w in watchers:
            assert [w.next()[1]["seq"] for _ in range(5)] == [1, 2, 3, 4, 5]
    finally:
        for w in watchers:
            w.close()


def test_a_reaction_alerts_every_console_and_no_public_screen(live_server: LiveServer) -> None:
    base = live_server.url
    nurse = nurse_session(base)
    cookie = "; ".join(f"{c.name}={c.value}" for c in nurse.cookies)
    alerts: queue.Queue[Any] = queue.Queue()
    console = Watcher(base, headers={"Cookie": cookie})
    console.client.on("alert", alerts.put)
    screen_alerts: queue.Queue[Any] = queue.Queue()
    display = Watcher(base, auth={"token": "demo-display-token"})
    display.client.on("alert", screen_alerts.put)
    try:
        console.next()
        display.next()
        ticket = requests.post(f"{base}/api/v1/tickets", json={"service": "V"},
                               headers=KIOSK).json()
        questions = requests.get(f"{base}/api/v1/screening/questions",
                                 headers=KIOSK).json()["questions"]
        requests.post(f"{base}/api/v1/tickets/{ticket['id']}/screening",
                      json={"answers": {q["id"]: False for q in questions}}, headers=KIOSK)
        nurse.post(f"{base}/api/v1/counters/V1/call-next")
        r = nurse.post(f"{base}/api/v1/tickets/{ticket['id']}/vaccinate",
                       json={"trace_code": DEMO_TRACE_CODE, "site": "left_deltoid",
                             "route": "intramuscular"})
        assert r.status_code == 200, r.text
        r = nurse.post(f"{base}/api/v1/tickets/{ticket['id']}/reaction",
                       json={"symptoms": ["dizziness"], "severity": "moderate",
                             "action": "lying down"})
        assert r.status_code == 200, r.text
        alert = alerts.get(timeout=5)
        assert alert["type"] == "observation.reaction"
        assert alert["ticket"]["number"] == ticket["number"]
        assert alert["detail"]["symptoms"] == ["dizziness"]
        assert alert["detail"]["observation_ends_at"] == r.json()["observation_ends_at"]
        # the display sees the event like every delta, without the health details
        types = []
        while "observation.reaction" not in types:
            kind, message = display.next()
            types.append(message["type"])
        assert "detail" not in message and screen_alerts.empty()
    finally:
        console.close()
        display.close()


def _console(base: str, session: requests.Session) -> Watcher:
    return Watcher(base, headers={"Cookie": "; ".join(
        f"{c.name}={c.value}" for c in session.cookies)})


def test_a_break_reaches_every_screen_and_the_estimate(live_server: LiveServer,
                                                       display: Watcher) -> None:
    """No ticket changes, so no numbered delta: a `counters` message, public to screens."""
    base = live_server.url
    nurse = nurse_session(base)
    console = _console(base, nurse)
    try:
        console.next()
        display.next()
        for _ in range(4):
            requests.post(f"{base}/api/v1/tickets", json={"service": "A"}, headers=KIOSK)
        for watcher in (display, console):
            assert [watcher.next()[0] for _ in range(4)] == ["event"] * 4
        before = requests.get(f"{base}/api/v1/state", headers=KIOSK).json()
        eta = {s["code"]: s["eta_minutes"] for s in before["services"]}
        clinic = [c["id"] for c in before["counters"] if "A" in c["services"]]
        r = nurse.post(f"{base}/api/v1/counters/{clinic[0]}/pause")
        assert r.status_code == 200 and r.json()["counter"]["paused"] is True
        for watcher in (display, console):
            kind, message = watcher.next()
            assert kind == "counters"
            paused = {c["id"]: c["paused"] for c in message["counters"]}
            assert paused[clinic[0]] is True and not any(
                v for k, v in paused.items() if k != clinic[0])
            assert message["queues"]["A"]["open_counters"] == len(clinic) - 1
        after = requests.get(f"{base}/api/v1/state", headers=KIOSK).json()
        if len(clinic) > 1:
            assert {s["code"]: s["eta_minutes"] for s in after["services"]}["A"] > eta["A"]
        # calling next ends the break, and says so
        assert nurse.post(f"{base}/api/v1/counters/{clinic[0]}/call-next").status_code == 200
        kinds = [display.next()[0] for _ in range(2)]
        assert sorted(kinds) == ["counters", "event"]
        state = requests.get(f"{base}/api/v1/state", headers=KIOSK).json()
        assert not any(c["paused"] for c in state["counters"])
    finally:
        console.close()


def test_pausing_with_a_resident_called_is_refused(live_server: LiveServer) -> None:
    base = live_server.url
    nurse = nurse_session(base)
    requests.post(f"{base}/api/v1/tickets", json={"service": "V"}, headers=KIOSK)
    called = nurse.post(f"{base}/api/v1/counters/V1/call-next").json()
    r = nurse.post(f"{base}/api/v1/counters/V1/pause", headers={"Accept-Language": "zh"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "counter_busy"
    assert called["number"] in r.json()["error"]["message"]
    assert nurse.post(f"{base}/api/v1/counters/Z9/pause").status_code == 404
    assert requests.post(f"{base}/api/v1/counters/V1/pause", headers=KIOSK).status_code == 403


def test_the_second_nurse_at_a_counter_is_told_who_holds_it(live_server: LiveServer) -> None:
    base = live_server.url
    first = _console(base, nurse_session(base))
    second = _console(base, nurse_session(base, "demo-doctor"))
    again = _console(base, nurse_session(base))  # the first nurse's second tab
    try:
        for w in (first, second, again):
            w.next()
        assert first.client.call("watch", {"counter": "V1"}, timeout=5)["held_by"] == []
        held = second.client.call("watch", {"counter": "V1"}, timeout=5)["held_by"]
        assert held == [{"user": "demo-nurse", "name": "演示护士"}]
        # her own other tab is not someone else
        assert again.client.call("watch", {"counter": "V1"}, timeout=5)["held_by"] == [
            {"user": "demo-doctor", "name": "演示医生"}]
        # the first moves to another counter: V1 is the second's alone, V2 is free
        assert first.client.call("watch", {"counter": "V2"}, timeout=5)["held_by"] == []
        again.close()
        assert _wait_for_held(second, "V1", []) == []
    finally:
        for w in (first, second, again):
            w.close()


def _wait_for_held(w: Watcher, counter: str, expected: list, seconds: float = 5) -> list:
    """The server learns of a closed socket a moment later: ask until it has."""
    deadline = time.monotonic() + seconds
    while True:
        held = w.client.call("watch", {"counter": counter}, timeout=5)["held_by"]
        if held == expected or time.monotonic() > deadline:
            return held
        time.sleep(0.05)


def _admin_page_socket(base: str, session: requests.Session) -> tuple[socketio.Client,
                                                                        queue.Queue[Any]]:
    """What an admin page opens: its session's cookie and `source: "admin"`; records every
    message it gets."""
    got: queue.Queue[Any] = queue.Queue()
    client = socketio.Client(reconnection=False)
    client.on("*", lambda event, data=None: got.put((event, data)))
    client.connect(base, transports=["websocket"], wait_timeout=5, auth={"source": "admin"},
                   headers={"Cookie": "; ".join(f"{c.name}={c.value}" for c in session.cookies)})
    return client, got


def test_admin_pages_are_told_each_kind_of_change(live_server: LiveServer) -> None:
    """Another administrator's change reaches an open admin page as `admin {what}`, one per
    change, and the page gets no queue snapshot or deltas (it shows none)."""
    base = live_server.url
    other = nurse_session(base, "demo-admin")
    client, got = _admin_page_socket(base, nurse_session(base, "demo-admin"))
    try:
        requests.post(f"{base}/api/v1/tickets", json={"service": "A"}, headers=KIOSK)
        r = other.post(f"{base}/api/v1/admin/staff", json={
            "username": "wangfang", "display_name": "王芳", "role": "nurse",
            "password": "wangfang-2026"})
        assert r.status_code == 201
        assert got.get(timeout=5) == ("admin", {"what": "staff"})  # not the ticket's delta
        assert other.post(f"{base}/api/v1/notices", json={"text": "今天停电"}).status_code == 201
        assert got.get(timeout=5) == ("admin", {"what": "notices"})
        code = requests.post(f"{base}/api/v1/pairing", json={"kind": "display"}).json()["code"]
        r = other.post(f"{base}/api/v1/devices/pair",
                       json={"code": code, "name": "二楼电视", "kind": "display"})
        assert r.status_code == 201
        assert got.get(timeout=5) == ("admin", {"what": "devices"})
        r = other.put(f"{base}/api/v1/admin/counters/A3", json={
            "name": "3号诊室", "name_en": "Room 3", "services": ["A"]})
        assert r.status_code == 200
        # every page also hears `layout` (a kiosk or display reloads); the admin page its own
        seen = [got.get(timeout=5), got.get(timeout=5)]
        assert ("admin", {"what": "layout"}) in seen
        assert got.empty()
    finally:
        client.disconnect()


def test_only_an_administrator_opens_an_admin_page_socket(live_server: LiveServer) -> None:
    with pytest.raises(socketio.exceptions.ConnectionError):
        _admin_page_socket(live_server.url, nurse_session(live_server.url))
