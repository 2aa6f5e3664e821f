"""A Socket.IO client that connects and disconnects leaves no ERROR in the station's log: the
bytes a client sends after its WebSocket ends (its close frame) were read by the development
server as the next HTTP request of the kept-alive connection (`Bad request syntax` with the
frame's raw bytes). Under the test server, the development server and gunicorn."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import socketio
from support import LiveServer, StationProcess, wait_until

DISPLAY = {"token": "demo-display-token"}


def connect_and_leave(url: str, transports: list[str] | None) -> None:
    client = socketio.Client(reconnection=False)
    got: list[Any] = []
    client.on("state", got.append)
    client.connect(url, auth=DISPLAY, transports=transports, wait_timeout=10)
    wait_until(lambda: got, timeout=10)  # connected and served its snapshot
    client.disconnect()


@pytest.mark.parametrize("transports", [["websocket"], None])  # None: polling, then upgrade
def test_no_error_when_a_client_leaves_the_test_server(
        live_server: LiveServer, app: Any, caplog: pytest.LogCaptureFixture,
        transports: list[str] | None) -> None:
    caplog.set_level(logging.INFO)
    for _ in range(3):
        connect_and_leave(live_server.url, transports)
    handlers = app.extensions["clinicq.sockets"]
    wait_until(lambda: not handlers._principals, timeout=10)  # every disconnect handled
    live_server.stop()  # every connection's thread done: whatever it would log is logged
    errors = [rec.getMessage() for rec in caplog.records if rec.levelno >= logging.ERROR]
    assert errors == []


@pytest.mark.slow
@pytest.mark.parametrize("extra", [(), ("--dev",)], ids=["gunicorn", "dev"])
def test_no_error_when_a_client_leaves_the_served_station(tmp_path: Path,
                                                          extra: tuple[str, ...]) -> None:
    log = tmp_path / "station.log"
    station = StationProcess(tmp_path / "station.db", None, *extra, log=log)
    try:
        for transports in (["websocket"], None, ["websocket"]):
            connect_and_leave(station.url, transports)
    finally:
        station.stop()
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "Bad request" not in text and " ERROR " not in text and "[ERROR]" not in text, text
