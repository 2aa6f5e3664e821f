"""Who may do what: every route and Socket.IO event refuses a caller without credentials."""

from __future__ import annotations

import json
import re

import pytest
import socketio
from flask import Flask
from flask.testing import FlaskClient
from support import DISPLAY, KIOSK, LiveServer, login

from server.demo import demo_bookings

PUBLIC = {"/healthz", "/api/v1/login", "/api/v1/logout", "/", "/console", "/kiosk", "/display",
          # the ticket's phone page (its code is the key) and the calls' audio (what the
          # waiting room hears anyway): tests/test_room_api.py
          "/t/x", "/audio/x.wav",
          # a device asking to be paired, and collecting its token by its secret: throttled,
          # tests/test_pairing.py
          "/api/v1/pairing", "/api/v1/pairing/x"}


def api_routes(app: Flask) -> list[tuple[str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        path = re.sub(r"<[^>]+>", "x", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((method, path))
    return out


def test_every_route_refuses_without_credentials(app: Flask, client: FlaskClient) -> None:
    routes = [(m, p) for m, p in api_routes(app) if p not in PUBLIC]
    assert len(routes) >= 9
    for method, path in routes:
        r = client.open(path, method=method, json={})
        assert r.status_code == 401, (method, path, r.status_code)
        if path.startswith("/api/"):
            assert r.get_json()["error"]["code"] == "unauthorized", (method, path)
        else:  # an admin page: a page saying to log in, not a JSON error
            assert r.mimetype == "text/html", (method, path)


def test_public_pages_hold_no_data(client: FlaskClient) -> None:
    """Pages without a login are shells: the queue comes only over authenticated calls."""
    client.post("/api/v1/tickets", json={"service": "V"}, headers=KIOSK)
    for page in ("/kiosk", "/display", "/console", "/"):
        r = client.get(page)
        assert r.status_code == 200
        # the ticket's number (not the demo code DEMO-V001 a placeholder may show)
        assert not re.search(r"(?<![\w-])V001\b", r.get_data(as_text=True)), page


def test_full_names_reach_staff_only(app: Flask, client: FlaskClient) -> None:
    """The booking's full name is for the nurse's console; the kiosk (and the ticket it
    prints), the display and the phone page keep the masked name."""
    ext = app.extensions["clinicq"]
    booking = next(b for b in demo_bookings(ext.settings, ext.station.today())
                   if b["code"] == "DEMO-V001")
    full = booking["name"]

    def text(r) -> str:  # the answer as a person would read it (jsonify escapes to \\uXXXX)
        return json.dumps(r.get_json(), ensure_ascii=False) if r.is_json else r.get_data(
            as_text=True)

    r = client.post("/api/v1/checkins", json={"code": "DEMO-V001"}, headers=KIOSK)
    ticket = r.get_json()
    assert ticket["name"] is None and ticket["name_masked"] == booking["name_masked"]
    assert full not in text(r)
    for headers in (KIOSK, DISPLAY):
        assert full not in text(client.get("/api/v1/state", headers=headers))
    assert full not in text(client.get(f"/api/v1/tickets/{ticket['id']}", headers=KIOSK))
    assert full not in text(client.get(f"/t/{ticket['code']}"))
    login(client)
    state = client.get("/api/v1/state").get_json()
    assert [t["name"] for s in state["services"] for t in s["tickets"]] == [full]
    assert client.get(f"/api/v1/tickets/{ticket['id']}").get_json()["name"] == full


def test_a_display_can_only_watch(client: FlaskClient) -> None:
    assert client.get("/api/v1/state", headers=DISPLAY).status_code == 200
    for method, path, body in [
        ("post", "/api/v1/tickets", {"service": "V"}),
        ("post", "/api/v1/checkins", {"code": "DEMO-V001"}),
        ("post", "/api/v1/counters/V1/call-next", None),
        ("post", "/api/v1/counters/V1/undo", None),
        ("get", "/api/v1/tickets/x", None),
        ("get", "/api/v1/devices", None),
    ]:
        r = getattr(client, method)(path, json=body, headers=DISPLAY)
        assert r.status_code == 403, (path, r.status_code)
        assert r.get_json()["error"]["code"] == "forbidden"


def test_a_kiosk_cannot_call_or_administer(client: FlaskClient) -> None:
    assert client.post("/api/v1/counters/V1/call-next", headers=KIOSK).status_code == 403
    assert client.get("/api/v1/devices", headers=KIOSK).status_code == 403


def test_a_nurse_cannot_list_devices(client: FlaskClient) -> None:
    assert client.get("/api/v1/devices", headers=login(client)).status_code == 403


def test_unknown_or_malformed_tokens(client: FlaskClient) -> None:
    for header in ["Bearer wrong", "Bearer ", "Basic demo-kiosk-token", "demo-kiosk-token"]:
        r = client.post("/api/v1/tickets", json={"service": "V"},
                        headers={"Authorization": header})
        assert r.status_code == 401, header


def test_staff_need_the_csrf_token(client: FlaskClient) -> None:
    login(client)
    client.post("/api/v1/tickets", json={"service": "V"}, headers=KIOSK)
    r = client.post("/api/v1/counters/V1/call-next")
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "csrf_failed"
    r = client.post("/api/v1/counters/V1/call-next", headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403
    assert client.get("/api/v1/state").status_code == 200  # reads need no token


def test_logout_ends_the_session(client: FlaskClient) -> None:
    headers = login(client)
    client.post("/api/v1/logout", headers=headers)
    assert client.get("/api/v1/state").status_code == 401


def test_revoked_device_is_refused(app: Flask, client: FlaskClient) -> None:
    assert client.get("/api/v1/state", headers=KIOSK).status_code == 200
    app.extensions["clinicq"].accounts.revoke_device("kiosk-1")
    assert client.get("/api/v1/state", headers=KIOSK).status_code == 401


def test_device_tokens_are_stored_hashed(app: Flask) -> None:
    rows = app.extensions["clinicq"].store.devices()
    assert rows and all("demo" not in r["token_hash"] and len(r["token_hash"]) == 64 for r in rows)
    user = app.extensions["clinicq"].store.user("demo-nurse")
    assert user is not None and "demo-nurse" not in user["password_hash"]


@pytest.mark.parametrize("auth", [None, {}, {"token": "wrong"}, {"token": 42}, "junk"])
def test_socket_refuses_without_credentials(live_server: LiveServer, auth) -> None:
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(live_server.url, auth=auth, transports=["websocket"], wait_timeout=5)
    assert not client.connected


def test_socket_events_need_a_connection_and_a_role(live_server: LiveServer) -> None:
    """`watch` is for staff: a display connection gets a refusal, not a room."""
    client = socketio.Client(reconnection=False)
    client.connect(live_server.url, auth={"token": "demo-display-token"},
                   transports=["websocket"], wait_timeout=5)
    try:
        assert client.call("watch", {"counter": "V1"}, timeout=5) == {"ok": False,
                                                                     "error": "forbidden"}
        assert client.call("resync", timeout=5) == {"ok": True}
    finally:
        client.disconnect()
