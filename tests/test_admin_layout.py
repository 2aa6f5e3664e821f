"""The administrator's services and counters: each change through the API, validated as a whole
with a message per setting, live for every page, in the ledger, kept over a restart, and
written back out as TOML by `clinicq config export`."""

from __future__ import annotations

import queue
import subprocess
import sys
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import socketio
from flask import Flask
from flask.testing import FlaskClient
from support import KIOSK, TEST_CONFIG, FakeClock, LiveServer, login, wait_until

from server import config
from server.store import Store
from server.web import create_app

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def admin(client: FlaskClient) -> dict[str, str]:
    return login(client, "demo-admin")


def layout(client: FlaskClient) -> dict[str, Any]:
    r = client.get("/api/v1/admin/layout")
    assert r.status_code == 200, r.get_json()
    return r.get_json()  # type: ignore[no-any-return]


def service(client: FlaskClient, code: str) -> dict[str, Any]:
    return next(s for s in layout(client)["services"] if s["code"] == code)


def counter(client: FlaskClient, counter_id: str) -> dict[str, Any]:
    return next(c for c in layout(client)["counters"] if c["id"] == counter_id)


def put_service(client: FlaskClient, headers: dict[str, str], code: str, **changes: Any
                ) -> Any:
    try:
        body = {**service(client, code), **changes}
    except StopIteration:
        body = changes
    return client.put(f"/api/v1/admin/services/{code}", json=body, headers=headers)


def test_layout_is_config_tomls_on_the_first_start(client: FlaskClient, admin: dict) -> None:
    got = layout(client)
    assert [s["code"] for s in got["services"]] == ["V", "A", "B"]
    assert [c["id"] for c in got["counters"]] == ["V1", "V2", "A1", "B1", "S1"]
    assert service(client, "V")["stages"] == ["screening", "vaccination", "observation"]
    assert got["open"] == {"V": 0, "A": 0, "B": 0}


def test_a_change_takes_effect_at_once_and_is_in_the_ledger(
        app: Flask, client: FlaskClient, admin: dict, clock: FakeClock) -> None:
    r = put_service(client, admin, "A", prefix="M", name="全科门诊", opens="08:00",
                    closes="08:30")
    assert r.status_code == 200, r.get_json()
    assert service(client, "A")["prefix"] == "M"
    # the kiosk's walk-in: numbered with the new prefix, and refused once the hours are over
    ticket = client.post("/api/v1/tickets", json={"service": "A"}, headers=KIOSK).get_json()
    assert clock.now.strftime("%H:%M") == "09:00"
    assert ticket["error"]["code"] == "outside_hours"
    assert "08:00" in ticket["error"]["message_zh"] and "08:30" in ticket["error"]["message"]
    put_service(client, admin, "A", closes="")
    ticket = client.post("/api/v1/tickets", json={"service": "A"}, headers=KIOSK).get_json()
    assert ticket["number"] == "M001"
    store: Store = app.extensions["clinicq"].store
    rows = store.changes()
    assert [r["action"] for r in rows[:2]] == ["service.changed", "service.changed"]
    assert rows[1]["user"] == "demo-admin" and rows[1]["subject"] == "A"
    assert rows[1]["detail"]["prefix"] == ["A", "M"]
    assert rows[0]["detail"] == {"closes": ["08:30", ""]}


def test_every_setting_refused_is_named_and_nothing_is_changed(
        client: FlaskClient, admin: dict) -> None:
    before = layout(client)
    r = put_service(client, admin, "A", prefix="V", grace_minutes=-5, opens="12:00",
                    closes="9:00")
    assert r.status_code == 422
    error = r.get_json()["error"]
    assert error["code"] == "settings_invalid"
    fields = {f["field"]: f for f in error["fields"]}
    assert set(fields) == {"grace_minutes", "closes"}, fields  # each table on its own first
    assert fields["grace_minutes"]["code"] == "too_small"
    assert fields["grace_minutes"]["message_zh"] == "不能小于 0。"
    assert fields["closes"]["code"] == "bad_clock"
    assert all(f["subject"] == "A" for f in error["fields"])
    r = put_service(client, admin, "A", prefix="V", opens="12:00", closes="09:00")
    fields = {f["field"]: f["code"] for f in r.get_json()["error"]["fields"]}
    assert fields == {"closes": "closes_before_opens"}
    r = put_service(client, admin, "A", prefix="V")
    (problem,) = r.get_json()["error"]["fields"]
    assert (problem["field"], problem["code"]) == ("prefix", "duplicate_prefix")
    assert "V" in problem["message"] and "前缀" in problem["message_zh"]
    assert layout(client) == before


def test_counters_must_serve_something_known(client: FlaskClient, admin: dict) -> None:
    body = {"name": "3号诊室", "name_en": "Room 3", "services": [], "stages": []}
    r = client.put("/api/v1/admin/counters/A3", json=body, headers=admin)
    assert r.status_code == 422
    assert [f["code"] for f in r.get_json()["error"]["fields"]] == ["counter_serves_nothing"]
    r = client.put("/api/v1/admin/counters/A3", json={**body, "services": ["X"]}, headers=admin)
    assert [f["code"] for f in r.get_json()["error"]["fields"]] == ["unknown_service"]
    r = client.put("/api/v1/admin/counters/A3",
                   json={**body, "services": ["A"], "stages": ["screening"]}, headers=admin)
    assert [f["code"] for f in r.get_json()["error"]["fields"]] == ["stage_not_offered"]
    assert "A3" not in [c["id"] for c in layout(client)["counters"]]


def test_a_new_counter_calls_at_once(client: FlaskClient, admin: dict) -> None:
    body = {"name": "3号诊室", "name_en": "Room 3", "services": ["A"], "spoken": "三号诊室"}
    r = client.put("/api/v1/admin/counters/A3", json=body, headers=admin)
    assert r.status_code == 200, r.get_json()
    assert counter(client, "A3")["spoken"] == "三号诊室"
    number = client.post("/api/v1/tickets", json={"service": "A"}, headers=KIOSK).get_json()
    nurse = login(client)
    called = client.post("/api/v1/counters/A3/call-next", headers=nurse)
    assert called.status_code == 200, called.get_json()
    assert called.get_json()["number"] == number["number"]


def test_a_resident_is_never_stranded(app: Flask, client: FlaskClient, admin: dict) -> None:
    client.post("/api/v1/tickets", json={"service": "A"}, headers=KIOSK)
    r = client.delete("/api/v1/admin/services/A", headers=admin)
    assert r.status_code == 422  # counters A1 and B1 serve it: named, nothing removed
    assert {f["subject"] for f in r.get_json()["error"]["fields"]} == {"A1", "B1"}
    for counter_id in ("A1", "B1"):
        body = counter(client, counter_id)
        if counter_id == "A1":
            assert client.delete("/api/v1/admin/counters/A1", headers=admin).status_code == 200
        else:
            body["services"] = ["B"]
            r = client.put("/api/v1/admin/counters/B1", json=body, headers=admin)
            assert r.status_code == 200, r.get_json()
    r = client.delete("/api/v1/admin/services/A", headers=admin)
    assert r.status_code == 409
    assert r.get_json()["error"]["code"] == "service_has_tickets"
    assert "1" in r.get_json()["error"]["message_zh"]
    r = put_service(client, admin, "A", stages=["screening"])
    assert r.get_json()["error"]["code"] == "service_has_tickets"
    # a counter holding a ticket keeps the service of it
    body = counter(client, "V1")
    client.post("/api/v1/tickets", json={"service": "V"}, headers=KIOSK)
    nurse = login(client)
    assert client.post("/api/v1/counters/V1/call-next", headers=nurse).status_code == 200
    admin = login(client, "demo-admin")
    r = client.delete("/api/v1/admin/counters/V1", headers=admin)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "counter_has_ticket"
    r = client.put("/api/v1/admin/counters/V1", json={**body, "services": ["B"], "stages": []},
                   headers=admin)
    assert r.status_code == 409
    assert "V1" in [c["id"] for c in layout(client)["counters"]]


def test_daily_walkin_capacity(client: FlaskClient, admin: dict) -> None:
    assert put_service(client, admin, "A", walkin_capacity=2).status_code == 200
    for _ in range(2):
        assert client.post("/api/v1/tickets", json={"service": "A"},
                           headers=KIOSK).status_code == 201
    r = client.post("/api/v1/tickets", json={"service": "A"}, headers=KIOSK)
    assert r.status_code == 409
    assert r.get_json()["error"]["code"] == "walkins_full"
    assert "2" in r.get_json()["error"]["message_zh"]


def test_a_nurse_and_a_device_are_refused(client: FlaskClient) -> None:
    nurse = login(client)
    assert client.get("/api/v1/admin/layout").status_code == 403
    r = client.delete("/api/v1/admin/counters/A1", headers=nurse)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
    assert client.get("/api/v1/admin/layout", headers=KIOSK).status_code == 403


def test_body_invalid_is_refused(client: FlaskClient, admin: dict) -> None:
    r = client.put("/api/v1/admin/services/A", data="[1]", headers={
        **admin, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "body_invalid"
    r = client.put("/api/v1/admin/services/A", json={"prefix": 5, "colour": "red"},
                   headers=admin)
    fields = {f["field"]: f["code"] for f in r.get_json()["error"]["fields"]}
    assert fields == {"prefix": "invalid", "name": "required", "colour": "unknown_key"}
    assert client.delete("/api/v1/admin/services/Z", headers=admin).status_code == 404


def test_the_layout_outlives_a_restart_and_config_toml_stays_the_bootstrap(
        tmp_path: Path, clock: FakeClock) -> None:
    settings = config.load(TEST_CONFIG, database=str(tmp_path / "station.db"), demo=True)
    first = create_app(settings, clock=clock, testing=True)
    client = first.test_client()
    admin = login(client, "demo-admin")
    assert put_service(client, admin, "B", name="健康体检", walkins=True).status_code == 200
    first.extensions["clinicq"].store.close()
    again = create_app(settings, clock=clock, testing=True).test_client()
    login(again, "demo-admin")
    assert service(again, "B")["name"] == "健康体检"
    assert service(again, "B")["walkins"] is True
    # `clinicq config export` writes the database's layout into config.toml's shape
    out = tmp_path / "exported.toml"
    config_file = tmp_path / "config.toml"
    config_file.write_text(TEST_CONFIG.read_text(encoding="utf-8").replace(
        'database = ":memory:"', f'database = "{tmp_path / "station.db"}"'), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "server.cli", "config", "export", "--config",
                           str(config_file), "--output", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    exported = config.load(out)
    assert exported.services["B"].name == "健康体检"
    assert exported.services["B"].rules.walkins is True
    assert exported.station_id == settings.station_id
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# The tests' own station configuration")  # comments are kept
    assert tomllib.loads(text)["display"] == tomllib.loads(
        TEST_CONFIG.read_text(encoding="utf-8"))["display"]


def test_open_pages_are_told(app: Flask, settings: config.Settings) -> None:
    server = LiveServer(app)
    got: queue.Queue[Any] = queue.Queue()
    sio = socketio.Client(reconnection=False)
    sio.on("layout", got.put)
    try:
        sio.connect(server.url, transports=["websocket"], wait_timeout=5,
                    auth={"token": "demo-display-token"})
        client = app.test_client()
        admin = login(client, "demo-admin")
        assert put_service(client, admin, "A", name="全科").status_code == 200
        assert got.get(timeout=5) == {}
        # and what they load anew is the new layout
        wait_until(lambda: app.extensions["clinicq"].settings.services["A"].name == "全科")
    finally:
        sio.disconnect()
        server.stop()


def test_settings_of_one_app_are_its_own(settings: config.Settings, store: Store,
                                         clock: FakeClock) -> None:
    app = create_app(replace(settings), store=store, clock=clock, testing=True)
    client = app.test_client()
    admin = login(client, "demo-admin")
    assert put_service(client, admin, "A", name="全科").status_code == 200
    assert settings.services["A"].name == "门诊"  # the caller's settings are not changed
