"""The admin API for staff accounts and the ledger of changes: each form through the API with
good and bad input, who may use it, a disabled account's session refused at once, and a ledger
row for every change, never with a password in it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
import requests
import socketio
from flask import Flask
from flask.testing import FlaskClient
from support import KIOSK, FakeClock, LiveServer, login, wait_until

from server import staff
from server.engine.errors import DomainError
from server.store import Store

WANG = {"username": "wangfang", "display_name": "王芳", "role": "nurse",
        "password": "s3cret-pass"}


@pytest.fixture
def admin(client: FlaskClient) -> dict[str, str]:
    return login(client, "demo-admin")


def add(client: FlaskClient, headers: dict[str, str], **body: Any) -> Any:
    return client.post("/api/v1/admin/staff", json={**WANG, **body}, headers=headers)


def ledger(client: FlaskClient, **query: Any) -> dict[str, Any]:
    r = client.get("/api/v1/admin/changes", query_string=query)
    assert r.status_code == 200, r.get_json()
    return r.get_json()  # type: ignore[no-any-return]


def refused(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.get_json()
    error = r.get_json()["error"]
    assert error["code"] == code and error["message"] and error["message_zh"]
    return error  # type: ignore[no-any-return]


def test_an_admin_adds_a_nurse_who_can_log_in(app: Flask, client: FlaskClient,
                                              admin: dict[str, str]) -> None:
    r = add(client, admin)
    assert r.status_code == 201
    assert r.get_json()["user"] == {"username": "wangfang", "display_name": "王芳",
                                    "role": "nurse", "created_at": "2026-11-27T09:00:00+08:00",
                                    "disabled": False}
    listed = client.get("/api/v1/admin/staff").get_json()["staff"]
    assert {u["username"] for u in listed} == {"demo-nurse", "demo-doctor", "demo-admin",
                                               "wangfang"}
    assert all("password_hash" not in u for u in listed)
    nurse = app.test_client()
    r = nurse.post("/api/v1/login", json={"username": "wangfang", "password": "s3cret-pass"})
    assert r.status_code == 200
    assert nurse.get("/api/v1/me").get_json()["name"] == "王芳"


@pytest.mark.parametrize("body, field", [
    ({"username": "Wang Fang"}, "username"),  # capitals and a space
    ({"username": "w"}, "username"),
    ({"username": "x" * 33}, "username"),
    ({"username": "王芳"}, "username"),
    ({"display_name": "   "}, "display_name"),
    ({"display_name": "名" * 41}, "display_name"),
    ({"role": "kiosk"}, "role"),
    ({"role": "superuser"}, "role"),
    ({"password": "short12"}, "password"),  # 7 characters
    ({"password": 12345678}, "password"),
])
def test_bad_input_is_a_400_naming_the_field(client: FlaskClient, admin: dict[str, str],
                                             body: dict[str, Any], field: str) -> None:
    error = refused(add(client, admin, **body), 400, "field_invalid")
    assert error["field"] == field and field in error["message"]
    assert [c for c in ledger(client)["changes"] if c["action"] == "staff.added"] == []


def test_a_missing_field_is_named(client: FlaskClient, admin: dict[str, str]) -> None:
    body = {k: v for k, v in WANG.items() if k != "display_name"}
    r = client.post("/api/v1/admin/staff", json=body, headers=admin)
    assert refused(r, 400, "field_missing")["field"] == "display_name"


def test_a_username_in_use_is_refused_even_when_disabled(client: FlaskClient,
                                                         admin: dict[str, str]) -> None:
    assert add(client, admin).status_code == 201
    error = refused(add(client, admin, display_name="另一个王芳"), 409, "username_taken")
    assert "wangfang" in error["message_zh"]
    client.post("/api/v1/admin/staff/wangfang/disable", headers=admin)
    refused(add(client, admin), 409, "username_taken")
    refused(add(client, admin, username="demo-nurse"), 409, "username_taken")
    # the first one is unchanged
    wang = next(u for u in client.get("/api/v1/admin/staff").get_json()["staff"]
                if u["username"] == "wangfang")
    assert wang["display_name"] == "王芳"


def test_a_password_reset_lets_the_new_password_in_and_the_old_one_not(
        app: Flask, client: FlaskClient, admin: dict[str, str]) -> None:
    r = client.post("/api/v1/admin/staff/demo-nurse/password", json={"password": "a-new-one!"},
                    headers=admin)
    assert r.status_code == 200 and r.get_json()["user"]["username"] == "demo-nurse"
    other = app.test_client()
    assert other.post("/api/v1/login", json={"username": "demo-nurse",
                                             "password": "demo-nurse"}).status_code == 401
    assert other.post("/api/v1/login", json={"username": "demo-nurse",
                                             "password": "a-new-one!"}).status_code == 200
    error = refused(client.post("/api/v1/admin/staff/demo-nurse/password",
                                json={"password": "1234567"}, headers=admin),
                    400, "field_invalid")
    assert error["field"] == "password"
    refused(client.post("/api/v1/admin/staff/nobody/password", json={"password": "long-enough"},
                        headers=admin), 404, "user_unknown")


def test_a_disabled_nurse_is_refused_on_her_next_call_and_at_login(
        app: Flask, client: FlaskClient, admin: dict[str, str]) -> None:
    nurse = app.test_client()
    headers = login(nurse)
    assert nurse.get("/api/v1/state").status_code == 200
    r = client.post("/api/v1/admin/staff/demo-nurse/disable", headers=admin)
    assert r.status_code == 200 and r.get_json()["user"]["disabled"] is True
    # her session ended with the account: the console's "log in again", and the answer
    # makes the browser forget the cookie
    refused(nurse.get("/api/v1/state"), 401, "session_expired")
    refused(nurse.post("/api/v1/counters/A1/call-next", headers=headers), 401, "unauthorized")
    refused(nurse.post("/api/v1/login", json={"username": "demo-nurse",
                                              "password": "demo-nurse"}), 401, "login_failed")
    # enabled again: she logs in as before
    r = client.post("/api/v1/admin/staff/demo-nurse/enable", headers=admin)
    assert r.status_code == 200 and r.get_json()["user"]["disabled"] is False
    login(nurse)
    assert nurse.get("/api/v1/state").status_code == 200


def test_a_disabled_nurses_open_console_socket_is_closed(live_server: LiveServer) -> None:
    base = live_server.url
    nurse = requests.Session()
    nurse.post(f"{base}/api/v1/login", json={"username": "demo-nurse",
                                             "password": "demo-nurse"}).raise_for_status()
    states: list[Any] = []
    console = socketio.Client(reconnection=False)
    console.on("state", states.append)
    console.connect(base, transports=["websocket"], wait_timeout=5, headers={
        "Cookie": "; ".join(f"{c.name}={c.value}" for c in nurse.cookies)})
    try:
        wait_until(lambda: states, what="the console's first snapshot")
        admin = requests.Session()
        r = admin.post(f"{base}/api/v1/login", json={"username": "demo-admin",
                                                     "password": "demo-admin"})
        admin.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        r = admin.post(f"{base}/api/v1/admin/staff/demo-nurse/disable")
        assert r.status_code == 200 and r.json()["dropped"] == 1
        wait_until(lambda: not console.connected, what="the console's socket closed")
        # and it cannot come back with the same session
        again = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            again.connect(base, transports=["websocket"], wait_timeout=5, headers={
                "Cookie": "; ".join(f"{c.name}={c.value}" for c in nurse.cookies)})
    finally:
        console.disconnect()


def test_an_admin_cannot_disable_themself(client: FlaskClient, admin: dict[str, str]) -> None:
    refused(client.post("/api/v1/admin/staff/demo-admin/disable", headers=admin),
            409, "cannot_disable_self")
    assert client.get("/api/v1/admin/staff").status_code == 200  # still in
    refused(client.post("/api/v1/admin/staff/nobody/disable", headers=admin), 404, "user_unknown")
    refused(client.post("/api/v1/admin/staff/nobody/enable", headers=admin), 404, "user_unknown")


def test_the_last_enabled_admin_stays(store: Store, app: Flask) -> None:
    """Through the API the caller is an enabled admin, so only the rule below can show it:
    an account not an admin itself (a script) may not disable the last one either."""
    now = datetime.fromisoformat("2026-11-27T09:00:00+08:00")
    with pytest.raises(DomainError) as err:
        staff.set_disabled(store, by="a-script", now=now, username="demo-admin", disabled=True)
    assert err.value.code == "last_admin"
    staff.add(store, by="demo-admin", now=now, username="li.admin", display_name="李管理",
              role="admin", password="long-enough")
    staff.set_disabled(store, by="li.admin", now=now, username="demo-admin", disabled=True)
    with pytest.raises(DomainError) as err:
        staff.set_disabled(store, by="a-script", now=now, username="li.admin", disabled=True)
    assert err.value.code == "last_admin"


def test_nurses_doctors_and_devices_are_refused(app: Flask, client: FlaskClient) -> None:
    for user in ("demo-nurse", "demo-doctor"):
        c = app.test_client()
        headers = login(c, user)
        refused(c.get("/api/v1/admin/staff"), 403, "forbidden")
        refused(c.post("/api/v1/admin/staff", json=WANG, headers=headers), 403, "forbidden")
        refused(c.post("/api/v1/admin/staff/demo-admin/disable", headers=headers), 403,
                "forbidden")
        refused(c.post("/api/v1/admin/staff/demo-admin/password",
                       json={"password": "taken-over!"}, headers=headers), 403, "forbidden")
        refused(c.get("/api/v1/admin/changes"), 403, "forbidden")
    refused(client.get("/api/v1/admin/staff", headers=KIOSK), 403, "forbidden")
    # an admin without the CSRF header
    login(client, "demo-admin")
    refused(client.post("/api/v1/admin/staff", json=WANG), 403, "csrf_failed")
    assert client.get("/api/v1/admin/staff").status_code == 200


def test_every_change_is_a_ledger_row_without_a_password(
        client: FlaskClient, admin: dict[str, str], clock: FakeClock) -> None:
    add(client, admin)
    clock.advance(minutes=1)
    client.post("/api/v1/admin/staff/wangfang/password", json={"password": "second-pass"},
                headers=admin)
    client.post("/api/v1/admin/staff/wangfang/disable", headers=admin)
    client.post("/api/v1/admin/staff/wangfang/disable", headers=admin)  # no change: no row
    client.post("/api/v1/admin/staff/wangfang/enable", headers=admin)
    r = client.post("/api/v1/notices", json={"text": "今天下午停诊", "text_en": "Closed this "
                                             "afternoon", "minutes": 30}, headers=admin)
    notice = r.get_json()["id"]
    client.delete(f"/api/v1/notices/{notice}", headers=admin)
    client.post("/api/v1/devices/display-1/rename", json={"name": "二楼候诊屏"}, headers=admin)
    client.post("/api/v1/devices/display-1/revoke", headers=admin)
    code = client.post("/api/v1/pairing", json={"kind": "kiosk"}).get_json()["code"]
    client.post("/api/v1/devices/pair", json={"code": code, "name": "二号自助机",
                                              "kind": "kiosk"}, headers=admin)
    rows = ledger(client)["changes"]
    assert [(c["action"], c["subject"]) for c in reversed(rows)][:8] == [
        ("staff.added", "wangfang"), ("staff.password_reset", "wangfang"),
        ("staff.disabled", "wangfang"), ("staff.enabled", "wangfang"),
        ("notice.posted", notice), ("notice.removed", notice),
        ("device.renamed", "display-1"), ("device.revoked", "display-1")]
    paired = rows[0]
    assert paired["action"] == "device.paired"
    assert paired["detail"] == {"name": "二号自助机", "kind": "kiosk"}
    assert all(c["user"] == "demo-admin" for c in rows)
    added = rows[-1]
    assert added["at"] == "2026-11-27T09:00:00+08:00"
    assert added["detail"] == {"role": "nurse", "display_name": "王芳"}
    assert rows[-5]["detail"]["text"] == "今天下午停诊"
    assert rows[-7]["detail"] == {"name": "二楼候诊屏", "was": "候诊大屏", "kind": "display"}
    text = json.dumps(rows, ensure_ascii=False)
    for secret in ("s3cret-pass", "second-pass", "pbkdf2", "scrypt", "password_hash", "token"):
        assert secret not in text


def test_the_ledger_pages_back_newest_first(client: FlaskClient, admin: dict[str, str]) -> None:
    for i in range(5):
        assert add(client, admin, username=f"nurse{i}", display_name=f"护士{i}").status_code == 201
    first = ledger(client, limit=2)
    assert [c["subject"] for c in first["changes"]] == ["nurse4", "nurse3"]
    second = ledger(client, limit=2, before=first["next_before"])
    assert [c["subject"] for c in second["changes"]] == ["nurse2", "nurse1"]
    last = ledger(client, limit=2, before=second["next_before"])
    assert [c["subject"] for c in last["changes"]] == ["nurse0"] and last["next_before"] is None
    for query in ({"limit": "0"}, {"limit": "201"}, {"limit": "many"}, {"before": "-1"}):
        error = refused(client.get("/api/v1/admin/changes", query_string=query), 400,
                        "field_invalid")
        assert error["field"] in query
