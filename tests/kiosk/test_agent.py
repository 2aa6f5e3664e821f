"""The kiosk agent end to end: images: scanner → real station server → recording printer,
with the result pushed to a Socket.IO client connected as the kiosk screen."""

from __future__ import annotations

import requests
from conftest import RunningAgent, ScanFolder, ScreenClient, StationOnOnePort
from support import wait_until

from hardware.printer import FakePrinter, PrinterPaperOut, PrinterStatus


def admin_session(base: str) -> requests.Session:
    s = requests.Session()
    r = s.post(f"{base}/api/v1/login", json={"username": "demo-admin", "password": "demo-admin"})
    s.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return s


def test_a_booking_is_checked_in_printed_and_shown_on_the_kiosk_screen(
        kiosk_station: StationOnOnePort, kiosk_screen: ScreenClient, scan_folder: ScanFolder,
        start_kiosk_agent) -> None:
    printer = FakePrinter()
    agent: RunningAgent = start_kiosk_agent(printer)
    scan_folder.show("DEMO-V001")
    outcome = agent.wait()
    assert outcome.kind == "printed" and outcome.status == 201
    number = outcome.ticket["number"]
    [layout] = printer.printed
    assert layout.label == number
    assert layout.qr_payloads() == [f"{kiosk_station.url}/t/{outcome.ticket['code']}"]
    settings = kiosk_station.app.extensions["clinicq"].settings
    lines = layout.text().splitlines()
    assert lines[0] == settings.station_name and settings.services["V"].name in lines
    shown = kiosk_screen.next()
    assert shown["status"] == 201 and shown["ok"] and shown["data"]["number"] == number
    assert shown["notice"] is None


def test_a_replayed_booking_reprints_the_same_number(
        kiosk_screen: ScreenClient, scan_folder: ScanFolder, start_kiosk_agent) -> None:
    printer = FakePrinter()
    agent = start_kiosk_agent(printer)
    scan_folder.show("DEMO-V001")
    first = agent.wait()
    scan_folder.show("DEMO-V001")
    again = agent.wait()
    assert (first.status, again.status) == (201, 200)
    assert again.kind == "printed" and again.ticket["id"] == first.ticket["id"]
    assert [p.label for p in printer.printed] == [first.ticket["number"]] * 2
    assert [kiosk_screen.next()["status"] for _ in range(2)] == [201, 200]


def test_foreign_codes_are_refused_and_nothing_is_printed(
        kiosk_station: StationOnOnePort, kiosk_screen: ScreenClient, scan_folder: ScanFolder,
        start_kiosk_agent) -> None:
    printer = FakePrinter()
    agent = start_kiosk_agent(printer)
    scan_folder.show("https://example.com/promo?id=42")
    outcome = agent.wait()
    assert outcome.kind == "not_a_booking" and outcome.detail == "url"
    shown = kiosk_screen.next()
    assert not shown["ok"] and shown["data"]["error"]["code"] == "not_a_booking"
    assert "预约码" in shown["data"]["error"]["message_zh"]
    # not plainly foreign, so the station decides: unknown, refused with its own reason
    scan_folder.show("HELLO-KIOSK-7")
    outcome = agent.wait()
    assert outcome.kind == "refused" and outcome.detail == "booking_unknown"
    shown = kiosk_screen.next()
    assert shown["status"] == 404 and shown["data"]["error"]["code"] == "booking_unknown"
    assert printer.printed == []
    state = requests.get(f"{kiosk_station.url}/api/v1/state",
                         headers={"Authorization": "Bearer demo-kiosk-token"}).json()
    assert all(s["waiting"] == 0 for s in state["services"])


def test_station_down_then_back_the_held_scan_is_handled_and_a_stale_one_dropped(
        kiosk_station: StationOnOnePort, scan_folder: ScanFolder, start_kiosk_agent) -> None:
    printer = FakePrinter()
    agent = start_kiosk_agent(printer, hold_seconds=1.0)
    kiosk_station.down()
    scan_folder.show("DEMO-V001")
    assert agent.wait().kind == "held"
    dropped = agent.wait(timeout=5)  # nobody brought the station back within the window
    assert dropped.kind == "dropped" and dropped.text == "DEMO-V001"

    scan_folder.show("DEMO-A014")
    assert agent.wait().kind == "held"
    assert agent.agent.health().held_scans == 1
    kiosk_station.up()
    outcome = agent.wait(timeout=5)
    assert outcome.kind == "printed" and outcome.text == "DEMO-A014" and outcome.status == 201
    assert [p.label for p in printer.printed] == [outcome.ticket["number"]]
    assert agent.agent.health().held_scans == 0
    # the link is back for good: the next scan goes straight through
    scan_folder.show("DEMO-V001")
    assert agent.wait().kind == "printed"


def test_a_printer_failure_never_loses_the_ticket(
        kiosk_station: StationOnOnePort, kiosk_screen: ScreenClient, scan_folder: ScanFolder,
        start_kiosk_agent) -> None:
    printer = FakePrinter(fail_with=PrinterPaperOut("paper end"),
                           status=PrinterStatus("paper_out", "paper end"))
    agent = start_kiosk_agent(printer)
    scan_folder.show("DEMO-V001")
    outcome = agent.wait()
    assert outcome.kind == "print_failed" and "PrinterPaperOut" in (outcome.detail or "")
    ticket = outcome.ticket
    first, second = kiosk_screen.next(), kiosk_screen.next()
    assert first["data"]["number"] == ticket["number"] and first["notice"] is None
    assert second["ok"] and second["data"]["number"] == ticket["number"]
    assert second["notice"]["code"] == "print_failed"
    assert second["notice"]["message_zh"] == "打印失败，请拍照记下号码。"
    got = requests.get(f"{kiosk_station.url}/api/v1/tickets/{ticket['id']}",
                       headers={"Authorization": "Bearer demo-kiosk-token"})
    assert got.status_code == 200 and got.json()["status"] == "waiting"
    # the console (and the admin) learn the printer's state from the health report
    assert agent.agent.report_health()
    devices = admin_session(kiosk_station.url).get(f"{kiosk_station.url}/api/v1/devices").json()
    kiosk = next(d for d in devices["devices"] if d["id"] == "kiosk-1")
    assert kiosk["health"]["printer"]["state"] == "paper_out"
    assert kiosk["health"]["print_failures"] == 1


def test_health_appears_in_the_device_list(
        kiosk_station: StationOnOnePort, start_kiosk_agent) -> None:
    agent = start_kiosk_agent(FakePrinter(), health_interval=0.2)
    base = kiosk_station.url
    admin = admin_session(base)

    def reported() -> list[dict] | None:
        devices = admin.get(f"{base}/api/v1/devices").json()["devices"]
        kiosk = next(d for d in devices if d["id"] == "kiosk-1")
        healthy = kiosk["health"] and kiosk["health"]["scanner"]["state"] == "ok"
        return devices if healthy else None

    devices = wait_until(reported, 5, every=0.1, what="a health report with the scanner ok")
    kiosk = next(d for d in devices if d["id"] == "kiosk-1")
    assert kiosk["online"] is True and kiosk["last_seen_at"]
    assert kiosk["health"]["printer"]["state"] == "ready"
    assert kiosk["health"]["scanner"]["source"].startswith("images:")
    assert kiosk["health"]["version"]
    display = next(d for d in devices if d["id"] == "display-1")
    assert display["online"] is False and display["health"] is None
    status = admin.get(f"{base}/api/v1/devices/status").json()["kiosks"]
    assert status == [{**status[0], "id": "kiosk-1", "online": True, "scanner": "ok",
                       "printer": "ready"}]
    assert agent.agent.health_reports >= 1
