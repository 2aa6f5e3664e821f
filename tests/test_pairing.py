"""Device pairing through the public API: a code shown, an admin's approval, the token given
once; expiry, guesses and reuse refused; revoking drops the device's sockets at once."""

from __future__ import annotations

import queue

import pytest
import requests
import socketio
from flask.testing import FlaskClient
from support import FakeClock, LiveServer, login, wait_until

from server.auth import token_hash
from server.store import Store


def admin(client: FlaskClient) -> dict[str, str]:
    return login(client, "demo-admin")


def start(client: FlaskClient, kind: str | None = "display") -> dict:
    r = client.post("/api/v1/pairing", json={"kind": kind} if kind else None)
    assert r.status_code == 201, r.json
    return r.json


def test_a_display_is_paired_by_its_code_and_gets_its_own_token_once(
        client: FlaskClient, store: Store) -> None:
    asked = start(client)
    assert len(asked["code"]) == 7 and asked["code"][3] == "-"
    assert len(asked["poll"]) >= 32
    assert client.get(f"/api/v1/pairing/{asked['poll']}").status_code == 202
    # typed as people type it: lower case, no dash, spaces around
    typed = " " + asked["code"].replace("-", "").lower() + " "
    r = client.post("/api/v1/devices/pair", json={"code": typed, "name": "  二楼 候诊屏 ",
                                                  "kind": "display"}, headers=admin(client))
    assert r.status_code == 201
    device = r.json["device"]
    assert device["name"] == "二楼 候诊屏" and device["kind"] == "display"
    got = client.get(f"/api/v1/pairing/{asked['poll']}")
    assert got.status_code == 200
    token = got.json["token"]
    assert got.json["id"] == device["id"] and len(token) >= 32  # ≥ 128 bits of randomness
    # once only; the token itself is not kept, its hash is
    assert client.get(f"/api/v1/pairing/{asked['poll']}").status_code == 410
    row = next(d for d in store.devices() if d["id"] == device["id"])
    assert row["token_hash"] == token_hash(token) and token not in str(row)
    # the token works, for a display's part only
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/state", headers=bearer).status_code == 200
    assert client.post("/api/v1/tickets", json={"service": "A"}, headers=bearer).status_code \
        == 403
    listed = client.get("/api/v1/devices", headers=admin(client)).json["devices"]
    assert any(d["id"] == device["id"] and d["name"] == "二楼 候诊屏" for d in listed)


def test_a_code_approved_twice_or_never_shown_is_refused(client: FlaskClient) -> None:
    asked = start(client, "kiosk")
    headers = admin(client)
    body = {"code": asked["code"], "name": "大厅自助机 2", "kind": "kiosk"}
    assert client.post("/api/v1/devices/pair", json=body, headers=headers).status_code == 201
    again = client.post("/api/v1/devices/pair", json=body, headers=headers)
    assert again.status_code == 404 and again.json["error"]["code"] == "pairing_unknown"
    r = client.post("/api/v1/devices/pair", json={**body, "code": "AAA-AAA"}, headers=headers)
    assert r.status_code == 404 and "配对码" in r.json["error"]["message_zh"]


def test_an_expired_code_cannot_be_approved_or_collected(client: FlaskClient,
                                                         clock: FakeClock) -> None:
    asked = start(client)
    clock.advance(minutes=11)
    r = client.post("/api/v1/devices/pair", json={"code": asked["code"], "name": "x",
                                                  "kind": "display"}, headers=admin(client))
    assert r.status_code == 404
    gone = client.get(f"/api/v1/pairing/{asked['poll']}")
    assert gone.status_code == 410 and gone.json["error"]["code"] == "pairing_expired"
    assert client.get("/api/v1/pairing/not-a-real-poll-secret").status_code == 410


def test_guessed_codes_are_throttled(client: FlaskClient) -> None:
    asked = start(client)
    headers = admin(client)
    answers = [client.post("/api/v1/devices/pair", json={"code": f"AAA-AA{c}", "name": "x",
                                                         "kind": "display"},
                           headers=headers).status_code for c in "ACDEFGH"]
    assert answers[:5] == [404] * 5 and answers[5:] == [429, 429]
    # even the right code waits now: guessing cannot race the real one
    r = client.post("/api/v1/devices/pair", json={"code": asked["code"], "name": "x",
                                                  "kind": "display"}, headers=headers)
    assert r.status_code == 429 and r.json["error"]["code"] == "too_many_attempts"
    assert "Retry-After" in r.headers


def test_asking_to_pair_is_throttled_per_address(client: FlaskClient) -> None:
    codes = [client.post("/api/v1/pairing", json={}).status_code for _ in range(12)]
    assert codes[:10] == [201] * 10 and codes[10:] == [429, 429]


@pytest.mark.parametrize("who", ["demo-nurse", None])
def test_only_an_admin_approves_or_revokes(client: FlaskClient, who: str | None) -> None:
    asked = start(client)
    headers = login(client, who) if who else {}
    body = {"code": asked["code"], "name": "x", "kind": "display"}
    expected = 403 if who else 401
    assert client.post("/api/v1/devices/pair", json=body, headers=headers).status_code == \
        expected
    assert client.post("/api/v1/devices/display-1/revoke", headers=headers).status_code == \
        expected


def test_bad_pairing_input(client: FlaskClient) -> None:
    headers = admin(client)
    assert client.post("/api/v1/pairing", json={"kind": "toaster"}).status_code == 400
    asked = start(client)
    for body, field in (({"code": asked["code"], "name": "x", "kind": "phone"}, "kind"),
                        ({"code": asked["code"], "name": "   ", "kind": "display"}, "name"),
                        ({"code": asked["code"], "kind": "display"}, "name")):
        r = client.post("/api/v1/devices/pair", json=body, headers=headers)
        assert r.status_code == 400, (body, r.json)
        assert f"'{field}'" in r.json["error"]["message"], r.json
    assert client.post("/api/v1/devices/nope/revoke", headers=headers).status_code == 404


def test_revoking_a_device_drops_its_socket_and_refuses_it(live_server: LiveServer,
                                                           app) -> None:
    base = live_server.url
    s = requests.Session()
    r = s.post(f"{base}/api/v1/login", json={"username": "demo-admin",
                                               "password": "demo-admin"})
    s.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    asked = requests.post(f"{base}/api/v1/pairing", json={"kind": "display"}).json()
    s.post(f"{base}/api/v1/devices/pair", json={"code": asked["code"], "name": "测试屏",
                                                 "kind": "display"}).raise_for_status()
    got = requests.get(f"{base}/api/v1/pairing/{asked['poll']}").json()
    events: queue.Queue[str] = queue.Queue()
    client = socketio.Client(reconnection=False)
    client.on("state", lambda data: events.put("state"))
    client.on("disconnect", lambda *a: events.put("disconnect"))
    client.connect(base, transports=["websocket"], auth={"token": got["token"]}, wait_timeout=5)
    try:
        assert events.get(timeout=5) == "state"
        r = s.post(f"{base}/api/v1/devices/{got['id']}/revoke")
        assert r.status_code == 200 and r.json()["device"]["dropped"] == 1
        assert events.get(timeout=5) == "disconnect"
        bearer = {"Authorization": f"Bearer {got['token']}"}
        assert requests.get(f"{base}/api/v1/state", headers=bearer).status_code == 401
        again = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            again.connect(base, transports=["websocket"], auth={"token": got["token"]},
                          wait_timeout=5)
    finally:
        client.disconnect()
    wait_until(lambda: not client.connected, 5, what="the client closed")
