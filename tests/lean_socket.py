"""A display's Socket.IO connection at the least cost to the client's CPU: bench_load's
displays (bench/display_clients.py) and the tests that need the raw bytes (test_wire.py).

One raw WebSocket (wsproto's framing, a blocking socket) speaking Engine.IO 4 / Socket.IO 5
just far enough to join as a display: open, connect with the token, take the `state`
snapshot, answer pings. Many of them are served by one selector loop in one process. The full
python-socketio client starts a thread per message: twenty of those on this two-core machine
took more CPU than the server they measured (bench_load printed 36.6 ms of client CPU per
round against the server's 27.6). A real display is one browser per TV, on its own device.

Like a browser (Chromium offers `permessage-deflate; client_max_window_bits`), the
connection offers compression unless told not to, so the server does what it does for a TV:
compress each message for each display.
"""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)
from wsproto.extensions import PerMessageDeflate


class LeanSocket:
    """A connected, joined display; `read()` answers the Socket.IO packets that arrived."""

    def __init__(self, url: str, token: str, deflate: bool = True, timeout: float = 30,
                 rcvbuf: int | None = None) -> None:
        parts = urlsplit(url)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:  # before connecting, so the window is small from the start
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((parts.hostname or "127.0.0.1", parts.port or 80))
        self.ws = WSConnection(ConnectionType.CLIENT)
        self._partial = ""
        self.closed = False
        self.compressed = False
        self.sock.sendall(self.ws.send(Request(
            host=parts.netloc, target="/socket.io/?EIO=4&transport=websocket",
            extensions=[PerMessageDeflate(client_max_window_bits=15)] if deflate else [])))
        opened = self._until(lambda m: m.startswith("0"))  # Engine.IO open
        assert opened.startswith("0{"), opened
        self.send("40" + json.dumps({"token": token}))  # Socket.IO connect, with auth
        self._until(lambda m: m.startswith('42["state"'))

    def fileno(self) -> int:
        return self.sock.fileno()

    def send(self, text: str) -> None:
        self.sock.sendall(self.ws.send(TextMessage(data=text)))

    def _until(self, wanted) -> str:  # type: ignore[no-untyped-def]
        while True:
            for message in self.read():
                if message.startswith("44"):
                    raise RuntimeError(f"refused: {message}")
                if wanted(message):
                    return message
            if self.closed:
                raise RuntimeError("the server closed the connection")

    def read(self) -> list[str]:
        """The Engine.IO packets one `recv` completed (pings already answered); blocks until
        some bytes arrive."""
        data = self.sock.recv(65536)
        if not data:
            self.closed = True
            return []
        self.ws.receive_data(data)
        out = b""
        messages: list[str] = []
        for event in self.ws.events():
            if isinstance(event, AcceptConnection):
                self.compressed = bool(event.extensions)
            elif isinstance(event, RejectConnection):
                raise RuntimeError(f"upgrade refused: {event.status_code}")
            elif isinstance(event, TextMessage):
                self._partial += event.data
                if event.message_finished:
                    message, self._partial = self._partial, ""
                    if message == "2":  # Engine.IO ping
                        out += self.ws.send(TextMessage(data="3"))
                    else:
                        messages.append(message)
            elif isinstance(event, Ping):
                out += self.ws.send(event.response())
            elif isinstance(event, CloseConnection):
                self.closed = True
        if out:
            self.sock.sendall(out)
        return messages

    def close(self) -> None:
        if not self.closed:
            try:
                self.sock.sendall(self.ws.send(CloseConnection(code=1000)))
            except OSError:
                pass
        self.sock.close()
