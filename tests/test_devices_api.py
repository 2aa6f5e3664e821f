"""Devices API: health reports, the device list and console status, kiosk screen pushes."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from support import DISPLAY, KIOSK, FakeClock, login

from server.web.kiosklink import kiosks

HEALTH = {"version": "0.1.0", "scanner": {"state": "ok", "source": "camera:0"},
          "printer": {"state": "paper_near_end", "detail": "paper near end"},
          "last_scan_at": "2026-11-27T08:59:00+08:00", "held_scans": 0}


def admin(client: FlaskClient) -> dict[str, str]:
    return login(client, "demo-admin")


def kiosk_in(devices: list[dict[str, Any]]) -> dict[str, Any]:
    return next(d for d in devices if d["id"] == "kiosk-1")


def test_a_health_report_is_stored_and_listed_online(client: FlaskClient,
                                                     clock: FakeClock) -> None:
    r = client.post("/api/v1/devices/health", json=HEALTH, headers=KIOSK)
    assert r.status_code == 200 and r.get_json()["ok"]
    kiosk = kiosk_in(client.get("/api/v1/devices", headers=admin(client)).get_json()["devices"])
    assert kiosk["online"] is True and kiosk["last_seen_at"].startswith("2026-11-27T09:00")
    assert kiosk["health"]["printer"] == {"state": "paper_near_end", "detail": "paper near end",
                                          "source": None, "last_error": None}
    clock.advance(seconds=31)
    kiosk = kiosk_in(client.get("/api/v1/devices", headers=admin(client)).get_json()["devices"])
    assert kiosk["online"] is False and kiosk["health"]["scanner"]["state"] == "ok"


def test_reports_are_cleaned_and_bounded(client: FlaskClient) -> None:
    report = {**HEALTH, "scanner": {"state": "on fire", "source": "x" * 5000},
              "password": "secret", "held_scans": -3}
    assert client.post("/api/v1/devices/health", json=report, headers=KIOSK).status_code == 200
    health = kiosk_in(client.get("/api/v1/devices", headers=admin(client))
                      .get_json()["devices"])["health"]
    assert health["scanner"]["state"] == "unknown" and len(health["scanner"]["source"]) == 200
    assert "password" not in health and health["held_scans"] == 0


@pytest.mark.parametrize("report, field", [
    ({**HEALTH, "version": ""}, "version"),
    ({**HEALTH, "scanner": "ok"}, "scanner"),
    ({k: v for k, v in HEALTH.items() if k != "printer"}, "printer"),
])
def test_a_malformed_report_is_a_400_naming_the_field(client: FlaskClient, report: dict,
                                                      field: str) -> None:
    r = client.post("/api/v1/devices/health", json=report, headers=KIOSK)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "field_invalid"
    assert field in r.get_json()["error"]["message"]


def test_who_may_report_and_read(app: Flask, client: FlaskClient) -> None:
    assert app.test_client().post("/api/v1/devices/health", json=HEALTH).status_code == 401
    assert client.post("/api/v1/devices/health", json=HEALTH, headers=DISPLAY).status_code == 200
    nurse = login(client)
    assert client.post("/api/v1/devices/health", json=HEALTH, headers=nurse).status_code == 403
    assert client.get("/api/v1/devices", headers=nurse).status_code == 403
    assert client.get("/api/v1/devices/status", headers=KIOSK).status_code == 403
    assert client.post("/api/v1/kiosk/notices", json={"code": "not_a_booking"},
                       headers=DISPLAY).status_code == 403


def test_the_console_status_shows_kiosks_in_short(client: FlaskClient) -> None:
    client.post("/api/v1/devices/health", json=HEALTH, headers=KIOSK)
    r = client.get("/api/v1/devices/status", headers=login(client))
    assert r.get_json() == {"kiosks": [{
        "id": "kiosk-1", "name": "大厅自助机 1", "online": True,
        "last_seen_at": "2026-11-27T09:00:00+08:00", "scanner": "ok",
        "printer": "paper_near_end", "printer_detail": "paper near end", "held_scans": 0,
        "last_scan_at": "2026-11-27T08:59:00+08:00"}]}


def screen(app: Flask, client: FlaskClient) -> Any:
    return app.extensions["clinicq"].socketio.test_client(
        app, flask_test_client=client, auth={"token": "demo-kiosk-token"})


def results(sio: Any) -> list[dict[str, Any]]:
    return [m["args"][0] for m in sio.get_received() if m["name"] == "kiosk.result"]


def test_a_kiosk_check_in_is_pushed_to_that_kiosks_screen(app: Flask,
                                                          client: FlaskClient) -> None:
    sio = screen(app, client)
    sio.get_received()
    client.post("/api/v1/checkins", json={"code": "DEMO-V001"}, headers=KIOSK)
    client.post("/api/v1/checkins", json={"code": "DEMO-B039"}, headers=KIOSK)  # cancelled
    pushed = results(sio)
    assert [(p["status"], p["ok"]) for p in pushed] == [(201, True), (422, False)]
    assert pushed[0]["data"]["number"].startswith("V")
    assert pushed[1]["data"]["error"]["code"] == "booking_cancelled"
    # a nurse's check-in at the desk is not shown on the kiosk
    client.post("/api/v1/checkins", json={"code": "DEMO-A014"},
                headers=login(client))
    assert results(sio) == []
    sio.disconnect()


def test_notices_reach_the_kiosk_screen(app: Flask, client: FlaskClient) -> None:
    sio = screen(app, client)
    ticket = client.post("/api/v1/checkins", json={"code": "DEMO-V001"},
                         headers=KIOSK).get_json()
    sio.get_received()
    r = client.post("/api/v1/kiosk/notices", headers=KIOSK,
                    json={"code": "print_failed", "ticket_id": ticket["id"],
                          "detail": "PrinterPaperOut: paper end"})
    assert r.status_code == 200
    client.post("/api/v1/kiosk/notices", json={"code": "not_a_booking"}, headers=KIOSK)
    failed, foreign = results(sio)
    assert failed["ok"] and failed["data"]["number"] == ticket["number"]
    assert failed["notice"]["message_zh"] == "打印失败，请拍照记下号码。"
    assert not foreign["ok"] and foreign["data"]["error"]["code"] == "not_a_booking"
    sio.disconnect()


@pytest.mark.parametrize("body, status, code", [
    ({"code": "launch_missiles"}, 400, "field_invalid"),
    ({"code": "print_failed"}, 400, "field_missing"),
    ({"code": "print_failed", "ticket_id": 7}, 400, "field_invalid"),
    ({"code": "print_failed", "ticket_id": "nope"}, 404, "ticket_not_found"),
])
def test_bad_notices(client: FlaskClient, body: dict, status: int, code: str) -> None:
    r = client.post("/api/v1/kiosk/notices", json=body, headers=KIOSK)
    assert r.status_code == status and r.get_json()["error"]["code"] == code


@pytest.mark.parametrize("lang, printer", [("zh", "缺纸"), ("en", "paper out")])
def test_the_console_page_carries_the_kiosk_status_labels(client: FlaskClient, lang: str,
                                                          printer: str) -> None:
    login(client)
    page = client.get(f"/console?lang={lang}").get_data(as_text=True)
    found = re.search(r"id=\"kiosk-status\"[^>]*data-labels='([^']*)'", page)
    assert found is not None
    labels = json.loads(html.unescape(found.group(1)))
    assert labels["paper_out"] == printer


def test_a_screen_that_reconnects_gets_the_result_it_missed(app: Flask,
                                                           client: FlaskClient) -> None:
    client.post("/api/v1/checkins", json={"code": "DEMO-V001"}, headers=KIOSK)
    sio = screen(app, client)
    [missed] = results(sio)
    assert missed["status"] == 201 and missed["data"]["number"].startswith("V")
    sio.disconnect()
    display = app.extensions["clinicq"].socketio.test_client(
        app, flask_test_client=client, auth={"token": "demo-display-token"})
    assert results(display) == []
    display.disconnect()


def test_kiosk_pushes_say_whether_the_agent_or_the_screen_asked(app: Flask,
                                                                client: FlaskClient) -> None:
    sio = screen(app, client)
    sio.get_received()
    client.post("/api/v1/tickets", json={"service": "V"}, headers=KIOSK)  # a walk-in button
    client.post("/api/v1/checkins", json={"code": "DEMO-V001"},
                headers={**KIOSK, "X-Clinicq-Source": "agent"})  # the agent's scanner
    client.post("/api/v1/tickets", json={"service": "V"}, headers=login(client))
    walkin, scanned = results(sio)  # the nurse's walk-in is not pushed to the kiosk
    assert (walkin["status"], walkin["source"]) == (201, "screen")
    assert (scanned["status"], scanned["source"]) == (201, "agent")
    sio.disconnect()


def test_a_kiosk_agent_connection_gets_no_snapshot_and_no_replay(app: Flask,
                                                                client: FlaskClient) -> None:
    client.post("/api/v1/tickets", json={"service": "V"}, headers=KIOSK)
    agent = app.extensions["clinicq"].socketio.test_client(
        app, flask_test_client=client, auth={"token": "demo-kiosk-token", "source": "agent"})
    assert agent.get_received() == []
    with app.app_context():
        assert list(kiosks.online()) == ["kiosk-1"]
        agent.disconnect()
        assert kiosks.online() == {}
