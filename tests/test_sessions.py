"""Staff sessions kept at the station (server/sessions.py): a copied cookie dies with the
logout, a login gets a new id, idle and absolute timeouts on the station's clock, a new
password or a disabled account ends every session, and sockets go with their session."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import requests
import socketio
from flask import Flask
from flask.testing import FlaskClient
from support import KIOSK, FakeClock, LiveServer, login, station_settings, wait_until

from server import config
from server.store import Store
from server.web.security import COOKIE


@pytest.fixture
def settings() -> config.Settings:
    """The tests' station with the shipped configuration's session timeouts (the tests' own are
    lenient: other tests move the clock by hours or take numbers by the hundred)."""
    shipped = config.load()
    return station_settings(database=":memory:", demo=True,
                            session_idle_minutes=shipped.session_idle_minutes,
                            session_max_hours=shipped.session_max_hours)


def cookie(client: FlaskClient) -> str | None:
    found = client.get_cookie(COOKIE)
    return found.value if found is not None else None


def with_cookie(app: Flask, value: str) -> FlaskClient:
    """Another browser holding a copy of the cookie."""
    other = app.test_client()
    other.set_cookie(COOKIE, value)
    return other


def refused(r: Any, status: int, code: str) -> None:
    assert r.status_code == status, r.get_json()
    error = r.get_json()["error"]
    assert error["code"] == code and error["message"] and error["message_zh"], error


def test_a_cookie_copied_before_logout_is_refused_after(app: Flask, client: FlaskClient) -> None:
    headers = login(client)
    value = cookie(client) or ""
    client.post("/api/v1/tickets", json={"service": "A"}, headers=KIOSK)
    copy = with_cookie(app, value)
    assert copy.get("/api/v1/state").status_code == 200  # the copy works while she is in
    assert client.post("/api/v1/logout", headers=headers).status_code == 200
    assert cookie(client) is None  # her browser forgets it
    # the copy, with the old CSRF token, neither reads nor writes (a fresh copy each time:
    # a refusal also tells the browser holding it to forget it)
    for method, path in (("get", "/api/v1/state"), ("get", "/api/v1/no-shows"),
                         ("post", "/api/v1/counters/A1/call-next"),
                         ("post", "/api/v1/tickets")):
        r = getattr(with_cookie(app, value), method)(path, json={"service": "A"},
                                                     headers=headers)
        refused(r, 401, "session_expired")
    state = app.test_client().get("/api/v1/state", headers=KIOSK).get_json()
    assert all(c["ticket"] is None for c in state["counters"])  # nobody was called
    assert sum(len(s["tickets"]) for s in state["services"]) == 1  # no walk-in made


def test_a_login_gets_a_new_id_and_the_old_one_is_refused(app: Flask,
                                                         client: FlaskClient) -> None:
    client.set_cookie(COOKIE, "chosen-by-an-attacker")  # planted before the login
    login(client)
    first = cookie(client)
    assert first and first != "chosen-by-an-attacker"
    refused(with_cookie(app, "chosen-by-an-attacker").get("/api/v1/state"), 401,
            "session_expired")
    login(client, "demo-doctor")  # another login in the same browser
    second = cookie(client)
    assert second and second != first
    refused(with_cookie(app, first).get("/api/v1/state"), 401, "session_expired")
    me = client.get("/api/v1/me").get_json()
    assert me["id"] == "demo-doctor"


def test_the_id_is_stored_hashed_with_its_csrf_token(app: Flask, client: FlaskClient,
                                                     store: Store) -> None:
    headers = login(client)
    value = cookie(client) or ""
    row = store.session(hashlib.sha256(value.encode()).hexdigest())
    assert row is not None and row["user"] == "demo-nurse"
    assert row["csrf"] == headers["X-CSRF-Token"]
    dumped = "\n".join(store.db.iterdump())
    assert value not in dumped


def test_the_csrf_token_is_the_sessions_own(app: Flask, client: FlaskClient) -> None:
    mine = login(client)
    other = app.test_client()
    theirs = login(other)  # the same nurse on another console
    assert mine != theirs
    client.post("/api/v1/tickets", json={"service": "A"}, headers=KIOSK)
    refused(client.post("/api/v1/counters/A1/call-next", headers=theirs), 403, "csrf_failed")
    assert client.post("/api/v1/counters/A1/call-next", headers=mine).status_code == 200


def test_the_cookie_is_httponly_strict_and_secure_over_tls(app: Flask) -> None:
    plain = app.test_client()
    r = plain.post("/api/v1/login", json={"username": "demo-nurse", "password": "demo-nurse"})
    set_cookie = r.headers["Set-Cookie"]
    assert set_cookie.startswith(f"{COOKIE}=") and "HttpOnly" in set_cookie
    assert "SameSite=Strict" in set_cookie and "Secure" not in set_cookie
    tls = app.test_client()
    r = tls.post("/api/v1/login", json={"username": "demo-nurse", "password": "demo-nurse"},
                 base_url="https://localhost")
    assert "Secure" in r.headers["Set-Cookie"]


def test_idle_timeout_slides_without_writing_on_every_request(
        app: Flask, client: FlaskClient, clock: FakeClock, store: Store) -> None:
    login(client)
    key = hashlib.sha256((cookie(client) or "").encode()).hexdigest()
    seen = store.session(key)["seen_at"]  # type: ignore[index]
    clock.advance(seconds=20)
    assert client.get("/api/v1/state").status_code == 200
    assert store.session(key)["seen_at"] == seen  # type: ignore[index]  # not within a minute
    for _ in range(4):  # used every 25 minutes: two hours, still in
        clock.advance(minutes=25)
        assert client.get("/api/v1/state").status_code == 200
    assert store.session(key)["seen_at"] != seen  # type: ignore[index]
    clock.advance(minutes=30)
    refused(client.get("/api/v1/state"), 401, "session_expired")
    assert store.session(key) is None


def test_the_consoles_own_polls_do_not_keep_it_alive(app: Flask, client: FlaskClient,
                                                      clock: FakeClock) -> None:
    login(client)
    for _ in range(7):  # the status lines, every 15 s... here every 4 minutes, 28 minutes
        clock.advance(minutes=4)
        assert client.get("/api/v1/sync/status").status_code == 200
        assert client.get("/api/v1/devices/status").status_code == 200
    clock.advance(minutes=2, seconds=1)
    refused(client.get("/api/v1/devices/status"), 401, "session_expired")


def test_absolute_timeout_however_busy(app: Flask, client: FlaskClient,
                                       clock: FakeClock) -> None:
    login(client)
    for _ in range(11 * 4 + 3):  # used every 15 minutes for 11 h 45 min
        clock.advance(minutes=15)
        assert client.get("/api/v1/state").status_code == 200
    clock.advance(minutes=15)  # 12 hours after the login
    refused(client.get("/api/v1/state"), 401, "session_expired")


def test_the_timeouts_come_from_the_configuration(settings, store: Store,
                                                  clock: FakeClock) -> None:
    from dataclasses import replace

    from server.web import create_app

    app = create_app(replace(settings, session_idle_minutes=5.0, session_max_hours=1.0),
                     store=store, clock=clock, testing=True)
    client = app.test_client()
    login(client)
    clock.advance(minutes=4)
    assert client.get("/api/v1/state").status_code == 200
    clock.advance(minutes=5)
    refused(client.get("/api/v1/state"), 401, "session_expired")


def test_a_password_reset_ends_every_session_of_the_account(app: Flask,
                                                            client: FlaskClient) -> None:
    admin = login(client, "demo-admin")
    desk, ward = app.test_client(), app.test_client()
    login(desk)
    login(ward)
    r = client.post("/api/v1/admin/staff/demo-nurse/password", json={"password": "a-new-one!"},
                    headers=admin)
    assert r.status_code == 200, r.get_json()
    for nurse in (desk, ward):
        refused(nurse.get("/api/v1/state"), 401, "session_expired")
    assert client.get("/api/v1/admin/staff").status_code == 200  # the admin stays in


def test_an_admin_setting_their_own_password_stays_in_here_only(app: Flask,
                                                                 client: FlaskClient) -> None:
    admin = login(client, "demo-admin")
    elsewhere = app.test_client()
    login(elsewhere, "demo-admin")
    r = client.post("/api/v1/admin/staff/demo-admin/password", json={"password": "a-new-one!"},
                    headers=admin)
    assert r.status_code == 200, r.get_json()
    assert client.get("/api/v1/admin/staff").status_code == 200
    refused(elsewhere.get("/api/v1/admin/staff"), 401, "session_expired")


def test_disabling_ends_every_session_of_the_account(app: Flask, client: FlaskClient,
                                                     store: Store) -> None:
    admin = login(client, "demo-admin")
    nurses = [app.test_client() for _ in range(2)]
    for nurse in nurses:
        login(nurse)
    client.post("/api/v1/admin/staff/demo-nurse/disable", headers=admin)
    assert store.db.execute("SELECT count(*) FROM sessions WHERE user = 'demo-nurse'"
                            ).fetchone()[0] == 0
    client.post("/api/v1/admin/staff/demo-nurse/enable", headers=admin)
    for nurse in nurses:  # enabled again: the old sessions do not come back
        refused(nurse.get("/api/v1/state"), 401, "session_expired")


def test_expired_sessions_are_purged(app: Flask, clock: FakeClock, store: Store) -> None:
    for _ in range(3):
        login(app.test_client())
    fresh = app.test_client()
    clock.advance(minutes=20)
    login(fresh)
    told: list[list[str]] = []
    sessions = app.extensions["clinicq.sessions"]
    sessions.on_end(told.append)
    clock.advance(minutes=15)
    ended = sessions.sweep()
    assert len(ended) == 3 and told == [ended]
    assert store.db.execute("SELECT count(*) FROM sessions").fetchone()[0] == 1
    assert fresh.get("/api/v1/state").status_code == 200


# -- sockets --------------------------------------------------------------------------------

def _console(base: str, nurse: requests.Session) -> tuple[socketio.Client, list[Any]]:
    states: list[Any] = []
    console = socketio.Client(reconnection=False)
    console.on("state", states.append)
    console.connect(base, transports=["websocket"], wait_timeout=5, headers={
        "Cookie": "; ".join(f"{c.name}={c.value}" for c in nurse.cookies)})
    wait_until(lambda: states, what="the console's first snapshot")
    return console, states


def _logged_in(base: str, user: str = "demo-nurse") -> requests.Session:
    nurse = requests.Session()
    r = nurse.post(f"{base}/api/v1/login", json={"username": user, "password": user})
    r.raise_for_status()
    nurse.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return nurse


def test_a_socket_opened_before_logout_is_closed_by_it(live_server: LiveServer) -> None:
    base = live_server.url
    nurse = _logged_in(base)
    cookies = "; ".join(f"{c.name}={c.value}" for c in nurse.cookies)
    console, _ = _console(base, nurse)
    try:
        assert console.call("watch", {"counter": "A1"}, timeout=5)["ok"] is True
        assert nurse.post(f"{base}/api/v1/logout").status_code == 200
        wait_until(lambda: not console.connected, what="the console's socket closed")
        again = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            again.connect(base, transports=["websocket"], wait_timeout=5,
                          headers={"Cookie": cookies})
    finally:
        console.disconnect()


def test_a_socket_whose_session_ended_elsewhere_has_no_staff_rights(
        app: Flask, live_server: LiveServer, store: Store) -> None:
    """Ended behind the socket's back (another process, a bug in a listener): its next event
    finds out, is refused, and the connection closes."""
    base = live_server.url
    nurse = _logged_in(base)
    console, _ = _console(base, nurse)
    try:
        assert console.call("watch", {"counter": "A1"}, timeout=5)["ok"] is True
        store.end_sessions(user="demo-nurse")  # no listener told
        assert console.call("watch", {"counter": "A1"}, timeout=5) == {
            "ok": False, "error": "forbidden"}
        wait_until(lambda: not console.connected, what="the console's socket closed")
    finally:
        console.disconnect()


def test_an_idle_consoles_socket_closes_when_its_session_expires(
        app: Flask, live_server: LiveServer, clock: FakeClock) -> None:
    base = live_server.url
    nurse, doctor = _logged_in(base), _logged_in(base, "demo-doctor")
    idle, _ = _console(base, nurse)
    clock.advance(minutes=20)
    assert doctor.get(f"{base}/api/v1/state").status_code == 200  # the doctor is busy
    busy, _ = _console(base, doctor)
    try:
        clock.advance(minutes=11)
        # what the sweeper thread does (every 30 s: it may have come first)
        app.extensions["clinicq.sessions"].sweep()
        wait_until(lambda: not idle.connected, what="the idle console's socket closed")
        assert busy.connected and busy.call("resync", timeout=5) == {"ok": True}
    finally:
        idle.disconnect()
        busy.disconnect()


def test_the_sweeper_thread_runs(app: Flask, clock: FakeClock) -> None:
    login(app.test_client())
    sessions = app.extensions["clinicq.sessions"]
    told: list[list[str]] = []
    sessions.on_end(told.append)
    clock.advance(hours=1)
    sessions.start(interval=0.01)
    try:
        wait_until(lambda: told, what="the sweeper ended the expired session")
    finally:
        sessions.stop()
