"""Kiosk alerts: a printer out of paper, a lost scanner or a kiosk silent for a minute is told
to every console once when it begins and once when it ends; public screens never hear it."""

from __future__ import annotations

import queue
from typing import Any

import requests
import socketio
from flask import Flask
from support import KIOSK, FakeClock, LiveServer

from server.device_watch import DeviceWatch
from server.store import Store

HEALTH = {"version": "kiosk-1", "scanner": {"state": "ok"}, "printer": {"state": "ready"}}


def report(client, **changes: Any) -> None:
    r = client.post("/api/v1/devices/health", json={**HEALTH, **changes}, headers=KIOSK)
    assert r.status_code == 200, r.json


def test_each_alert_is_told_when_it_begins_and_when_it_ends(app: Flask, store: Store,
                                                            clock: FakeClock) -> None:
    told: list[dict] = []
    watch = DeviceWatch(store, clock, told.append)
    client = app.test_client()
    assert watch.check() == []  # the demo kiosk never reported: not "gone"
    report(client)
    assert watch.check() == []
    report(client, printer={"state": "paper_out"})
    [alert] = watch.check()
    assert alert["device"] == "kiosk-1" and alert["problem"] == "printer_paper_out"
    assert alert["active"] is True and alert["name"] == "大厅自助机 1"
    assert watch.check() == []  # once
    report(client, printer={"state": "ready"}, scanner={"state": "lost"})
    ended, began = sorted(watch.check(), key=lambda a: a["active"])
    assert (ended["problem"], ended["active"]) == ("printer_paper_out", False)
    assert (began["problem"], began["active"]) == ("scanner_lost", True)
    clock.advance(seconds=61)
    kinds = {(a["problem"], a["active"]) for a in watch.check()}
    assert kinds == {("scanner_lost", False), ("silent", True)}
    report(client)
    assert {(a["problem"], a["active"]) for a in watch.check()} == {("silent", False)}
    assert told and len(told) == 6


def test_consoles_get_the_alert_and_displays_do_not(live_server: LiveServer, app: Flask) -> None:
    base = live_server.url
    nurse = requests.Session()
    nurse.post(f"{base}/api/v1/login", json={"username": "demo-nurse", "password": "demo-nurse"})
    got: dict[str, queue.Queue] = {"console": queue.Queue(), "display": queue.Queue()}
    clients = []
    for who, kw in (("console", {"headers": {"Cookie": "; ".join(
            f"{c.name}={c.value}" for c in nurse.cookies)}}),
            ("display", {"auth": {"token": "demo-display-token"}})):
        c = socketio.Client(reconnection=False)
        c.on("device_alert", lambda data, who=who: got[who].put(data))
        connected: queue.Queue = queue.Queue()
        c.on("state", lambda data, q=connected: q.put(True))
        c.connect(base, transports=["websocket"], wait_timeout=5, **kw)
        connected.get(timeout=5)
        clients.append(c)
    try:
        requests.post(f"{base}/api/v1/devices/health", headers=KIOSK, json={
            **HEALTH, "printer": {"state": "paper_out"}}).raise_for_status()
        app.extensions["clinicq.devicewatch"].check()
        alert = got["console"].get(timeout=5)
        assert alert["problem"] == "printer_paper_out" and alert["active"] is True
        # the display joined before the alert and is still connected: it was not sent one
        assert clients[1].connected and got["display"].empty()
    finally:
        for c in clients:
            c.disconnect()
