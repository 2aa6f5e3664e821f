"""`clinicq serve` under gunicorn, as a real process: keep-alive, WebSocket, a graceful stop."""

from __future__ import annotations

import http.client
import json
import signal
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import socketio
from support import KIOSK, StationProcess, wait_until

from server.store import Store

pytestmark = pytest.mark.slow


@pytest.fixture
def station(tmp_path: Path) -> Iterator[StationProcess]:
    s = StationProcess(tmp_path / "station.db", log=tmp_path / "station.log")
    yield s
    s.stop()


class Display:
    """A Socket.IO client over the WebSocket transport only, as the display connects."""

    def __init__(self, url: str, reconnection: bool = False) -> None:
        self.state = threading.Event()
        self.gone = threading.Event()
        self.reasons: list[Any] = []
        self.client = socketio.Client(reconnection=reconnection, reconnection_delay=0.2,
                                      reconnection_delay_max=0.5)
        self.client.on("state", lambda _data: self.state.set())
        self.client.on("disconnect", self._disconnected)
        self.client.connect(url, auth={"token": "demo-display-token"},
                            transports=["websocket"], wait_timeout=10)

    def _disconnected(self, reason: Any = None) -> None:
        self.reasons.append(reason)
        ws = getattr(self.client.eio, "ws", None)
        if ws is not None and reason != self.client.reason.CLIENT_DISCONNECT:
            ws.shutdown()  # websocket-client leaves its socket open when the server drops it
        self.gone.set()

    def close(self) -> None:
        self.client.disconnect()


def test_http_connections_are_kept_alive(station: StationProcess) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", station.port, timeout=5)
    try:
        conn.request("GET", "/healthz")
        first = conn.getresponse()
        first.read()
        sock = conn.sock
        assert first.status == 200 and sock is not None
        assert first.getheader("Connection", "").lower() != "close"
        conn.request("GET", "/healthz")
        second = conn.getresponse()
        second.read()
        # http.client opens a new socket only when the server closed the old one
        assert second.status == 200 and conn.sock is sock
    finally:
        conn.close()


def test_the_display_connects_over_websocket(station: StationProcess) -> None:
    display = Display(station.url)
    try:
        assert display.state.wait(10), "no state snapshot"
        assert display.client.transport() == "websocket"
    finally:
        display.close()


def test_sigterm_finishes_requests_in_flight_and_drops_sockets(
        station: StationProcess, tmp_path: Path) -> None:
    display = Display(station.url)
    assert display.state.wait(10)
    # a request in flight when the signal comes: its headers and half its body are sent on
    # a connection the server already holds (a first request proves it), the rest after
    conn = http.client.HTTPConnection("127.0.0.1", station.port, timeout=10)
    try:
        conn.request("GET", "/healthz")
        conn.getresponse().read()
        body = json.dumps({"service": "V"}).encode()
        conn.putrequest("POST", "/api/v1/tickets")
        for name, value in {**KIOSK, "Content-Type": "application/json",
                            "Content-Length": str(len(body))}.items():
            conn.putheader(name, value)
        conn.endheaders()
        conn.send(body[:5])

        station.proc.send_signal(signal.SIGTERM)
        # the worker has taken the signal once it drops the sockets: clients are told at
        # once, not when the last request has finished
        assert display.gone.wait(10), "the Socket.IO client was not disconnected"
        # a lost transport (which clients answer by reconnecting), not a server's goodbye
        assert display.reasons and display.reasons[0] != display.client.reason.SERVER_DISCONNECT
        conn.send(body[5:])
        response = conn.getresponse()
        ticket = json.loads(response.read())
        assert response.status == 201, ticket
    finally:
        conn.close()
        display.close()

    assert station.stop(timeout=8) == 0, (tmp_path / "station.log").read_text()
    log = (tmp_path / "station.log").read_text()
    assert "told 1 Socket.IO client(s) to reconnect" in log

    # the ticket made during the stop was committed: a restarted station has it
    again = StationProcess(tmp_path / "station.db")
    restarted = http.client.HTTPConnection("127.0.0.1", again.port, timeout=5)
    try:
        restarted.request("GET", f"/api/v1/tickets/{ticket['id']}", headers=KIOSK)
        with restarted.getresponse() as answer:
            answer.read()
            assert answer.status == 200
    finally:
        restarted.close()
        again.stop()


def test_socket_clients_reconnect_to_the_restarted_server(tmp_path: Path) -> None:
    """As the kiosk agent and the browsers do: python-socketio reconnects by itself after a
    lost transport (it would not after a server-side disconnect)."""
    database = tmp_path / "station.db"
    station = StationProcess(database)
    display = Display(station.url, reconnection=True)
    try:
        assert display.state.wait(10)
        display.state.clear()
        assert station.stop() == 0
        assert display.gone.wait(5)
        station = StationProcess(database, station.port)
        assert display.state.wait(15), "the client did not come back"
        # the state can arrive before its reconnect task has finished: a shutdown() then
        # found the client neither connected nor (for long) reconnecting, and it stayed
        # connected, reconnecting forever once the station stopped (its random.random()
        # jitter broke later Hypothesis tests; its failed sockets, their ResourceWarning)
        wait_until(lambda: display.client.connected, 5, what="the client connected again")
    finally:
        display.client.reconnection = False  # a drop from here on is final
        display.client.shutdown()
        station.stop()


def test_a_worker_that_cannot_start_stops_the_server(tmp_path: Path) -> None:
    """No endless restarts: gunicorn gives up when its only worker fails to boot."""
    # sound and current as a file (`clinicq serve` checks that before gunicorn starts), but
    # missing a table: the worker's first query fails
    broken = tmp_path / "station.db"
    Store(broken).close()
    conn = sqlite3.connect(broken)
    conn.execute("DROP TABLE meta")
    conn.close()
    with pytest.raises(RuntimeError, match="exited with 3"):
        StationProcess(broken)


def test_dev_keeps_the_development_server(tmp_path: Path) -> None:
    station = StationProcess(tmp_path / "station.db", None, "--dev")
    conn = http.client.HTTPConnection("127.0.0.1", station.port, timeout=5)
    try:
        conn.request("GET", "/healthz")
        # read and closed: an unread answer keeps its socket open past conn.close(), and
        # the ResourceWarning lands in whichever test the garbage collector runs in
        with conn.getresponse() as response:
            response.read()
            assert response.status == 200
            assert response.getheader("Server", "").startswith("Werkzeug")
    finally:
        conn.close()
        station.stop()


def test_websockets_are_not_compressed_though_the_browser_asks(station: StationProcess) -> None:
    """Chromium offers permessage-deflate; accepted, the server would compress each delta once
    per screen (server/web/broadcast.py, Uncompressed)."""
    import socket

    with socket.create_connection(("127.0.0.1", station.port), timeout=5) as sock:
        sock.sendall(b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                     b"Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     b"Sec-WebSocket-Version: 13\r\n"
                     b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
                     b"\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(4096)
            assert chunk, f"the server closed the connection: {answer!r}"
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
    assert head.startswith("http/1.1 101"), head
    assert "sec-websocket-accept:" in head
    assert "sec-websocket-extensions" not in head
