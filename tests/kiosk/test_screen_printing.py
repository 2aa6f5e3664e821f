"""Tickets issued on the kiosk screen and staff reprints reach the kiosk agent's printer, once."""

from __future__ import annotations

import logging
import queue

import pytest
import requests
from conftest import KIOSK_TOKEN, RunningAgent, ScanFolder, ScreenClient, StationOnOnePort
from flask import Flask
from flask_socketio import SocketIO

from contracts.protocol import AGENT, KioskResult
from hardware.printer import FakePrinter, PrinterPaperOut
from server.web.kiosklink import KioskLink

SCREEN = {"Authorization": f"Bearer {KIOSK_TOKEN}"}  # the page sends no source header


def staff_session(base: str, user: str = "demo-nurse") -> requests.Session:
    s = requests.Session()
    r = s.post(f"{base}/api/v1/login", json={"username": user, "password": user})
    s.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return s


def assert_nothing_more(agent: RunningAgent, seconds: float = 0.5) -> None:
    with pytest.raises(queue.Empty):
        extra = agent.wait(timeout=seconds)
        pytest.fail(f"unexpected second outcome: {extra}")


def test_a_walk_in_pressed_on_the_screen_is_printed_once(
        kiosk_station: StationOnOnePort, kiosk_screen: ScreenClient, start_kiosk_agent) -> None:
    printer = FakePrinter()
    agent = start_kiosk_agent(printer)
    r = requests.post(f"{kiosk_station.url}/api/v1/tickets", json={"service": "V"},
                      headers=SCREEN, timeout=5)
    assert r.status_code == 201
    outcome = agent.wait()
    assert (outcome.kind, outcome.origin, outcome.status) == ("printed", "screen", 201)
    assert [p.label for p in printer.printed] == [r.json()["number"]]
    [url] = printer.printed[0].qr_payloads()
    assert url.endswith(f"/t/{r.json()['code']}")
    shown = kiosk_screen.next()
    assert shown["source"] == "screen" and shown["data"]["number"] == r.json()["number"]
    assert_nothing_more(agent)


def test_a_code_typed_on_the_screen_is_printed_once_and_a_replay_reprints(
        kiosk_station: StationOnOnePort, start_kiosk_agent) -> None:
    printer = FakePrinter()
    agent = start_kiosk_agent(printer)
    url = f"{kiosk_station.url}/api/v1/checkins"
    first = requests.post(url, json={"code": "DEMO-V001"}, headers=SCREEN, timeout=5)
    assert first.status_code == 201
    assert agent.wait().status == 201
    again = requests.post(url, json={"code": "DEMO-V001"}, headers=SCREEN, timeout=5)
    assert again.status_code == 200
    outcome = agent.wait()
    assert (outcome.kind, outcome.origin, outcome.status) == ("printed", "screen", 200)
    assert [p.label for p in printer.printed] == [first.json()["number"]] * 2
    # a refusal on the screen prints nothing
    refused = requests.post(url, json={"code": "HELLO-KIOSK-7"}, headers=SCREEN, timeout=5)
    assert refused.status_code == 404
    assert_nothing_more(agent)
    assert len(printer.printed) == 2


def test_a_code_the_agent_scanned_is_printed_exactly_once(
        kiosk_screen: ScreenClient, scan_folder: ScanFolder, start_kiosk_agent) -> None:
    printer = FakePrinter()
    agent = start_kiosk_agent(printer)
    scan_folder.show("DEMO-V001")
    outcome = agent.wait()
    assert (outcome.kind, outcome.origin) == ("printed", "scan")
    shown = kiosk_screen.next()  # the screen still shows the agent's scan
    assert shown["source"] == "agent" and shown["data"]["number"] == outcome.ticket["number"]
    assert_nothing_more(agent, 1.0)
    assert len(printer.printed) == 1


def test_a_screen_ticket_the_printer_fails_on_is_noted_on_the_screen(
        kiosk_station: StationOnOnePort, kiosk_screen: ScreenClient, start_kiosk_agent) -> None:
    agent = start_kiosk_agent(FakePrinter(fail_with=PrinterPaperOut("paper end")))
    r = requests.post(f"{kiosk_station.url}/api/v1/tickets", json={"service": "V"},
                      headers=SCREEN, timeout=5)
    outcome = agent.wait()
    assert (outcome.kind, outcome.origin) == ("print_failed", "screen")
    assert kiosk_screen.next()["notice"] is None
    noted = kiosk_screen.next()
    assert noted["notice"]["code"] == "print_failed"
    assert noted["data"]["number"] == r.json()["number"]
    assert agent.agent.health().print_failures == 1
    assert_nothing_more(agent)  # the notice push is the agent's own: not printed again


def test_a_nurse_reprint_is_printed_at_the_kiosk(
        kiosk_station: StationOnOnePort, start_kiosk_agent) -> None:
    printer = FakePrinter()
    agent = start_kiosk_agent(printer)
    base = kiosk_station.url
    nurse = staff_session(base)
    ticket = nurse.post(f"{base}/api/v1/tickets", json={"service": "V"}, timeout=5).json()
    r = nurse.post(f"{base}/api/v1/tickets/{ticket['id']}/reprint", timeout=5)
    assert r.status_code == 202, r.json()
    assert r.json()["kiosk"] == "kiosk-1" and r.json()["ticket"]["number"] == ticket["number"]
    outcome = agent.wait()
    assert (outcome.kind, outcome.origin) == ("printed", "reprint")
    r = nurse.post(f"{base}/api/v1/tickets/{ticket['id']}/reprint", json={"kiosk": "kiosk-1"},
                   timeout=5)
    assert r.status_code == 202 and agent.wait().origin == "reprint"
    assert [p.label for p in printer.printed] == [ticket["number"]] * 2
    assert_nothing_more(agent)


def test_a_reprint_with_no_agent_connected_is_a_409(
        kiosk_station: StationOnOnePort, start_kiosk_agent,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="server.web.devices_api")
    base = kiosk_station.url
    nurse = staff_session(base)
    # issued on the screen with no agent: not printed, but logged
    ticket = requests.post(f"{base}/api/v1/tickets", json={"service": "V"}, headers=SCREEN,
                           timeout=5).json()
    assert any("not printed" in m and ticket["number"] in m for m in caplog.messages)
    r = nurse.post(f"{base}/api/v1/tickets/{ticket['id']}/reprint", timeout=5)
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["code"] == "kiosk_offline" and "补打" in error["message_zh"]
    assert nurse.post(f"{base}/api/v1/tickets/nope/reprint", timeout=5).status_code == 404
    # a kiosk may not ask for reprints; an agent without a link cannot print them
    assert requests.post(f"{base}/api/v1/tickets/{ticket['id']}/reprint", headers=SCREEN,
                         timeout=5).status_code == 403
    start_kiosk_agent(FakePrinter(), linked=False)
    r = nurse.post(f"{base}/api/v1/tickets/{ticket['id']}/reprint",
                   json={"kiosk": "kiosk-1"}, timeout=5)
    assert r.json()["error"]["code"] == "kiosk_offline"


def test_a_reprint_goes_to_the_kiosk_that_issued_the_ticket() -> None:
    app = Flask("link")
    link = KioskLink(remember=2)
    link.init_app(app, SocketIO(app, async_mode="threading"))

    def issued(ticket_id: str, device_id: str) -> None:
        link.push(device_id, KioskResult(201, True, {"id": ticket_id, "number": "V1"},
                                         source=AGENT))

    with app.app_context():
        assert link.choose("t1") is None
        link.agent_connected("sid-b", "kiosk-b", "Kiosk B")
        link.agent_connected("sid-a", "kiosk-a", "Kiosk A")
        issued("t1", "kiosk-b")
        assert link.choose("t1") == ("kiosk-b", "Kiosk B")
        assert link.choose("t2") == ("kiosk-a", "Kiosk A")  # unknown issuer: the first online
        assert link.choose("t1", "kiosk-a") == ("kiosk-a", "Kiosk A")
        assert link.choose("t1", "kiosk-c") is None  # asked for a kiosk that is not online
        link.agent_disconnected("sid-b")
        assert link.choose("t1") == ("kiosk-a", "Kiosk A")
        issued("t2", "kiosk-a")
        issued("t3", "kiosk-a")  # t1 is forgotten: only the latest two are kept
        link.agent_connected("sid-b", "kiosk-b", "Kiosk B")
        assert link.choose("t1") == ("kiosk-a", "Kiosk A")
        assert link.recent("kiosk-a")["data"]["id"] == "t3"  # replayed to a returning screen
