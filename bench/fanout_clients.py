"""Benchmark tooling: a process holding N lightweight display connections; prints arrivals.

Each connection speaks Engine.IO 4 / Socket.IO 5 over a raw WebSocket (websocket-client),
all served by one selector loop, and notes when each `ticket.called` arrives. The full
python-socketio client starts a thread per message, so two hundred of them in one process
measure the client's own cost rather than the server's fan-out; a real display is one
browser per TV.
"""

from __future__ import annotations

import json
import re
import selectors
import sys
import time

import websocket

CALLED = re.compile(r'"type":\s*"ticket\.called"')
TICKET_ID = re.compile(r'"ticket":\s*\{[^{}]*?"id":\s*"([^"]+)"')


def connect(url: str, token: str) -> websocket.WebSocket:
    ws = websocket.create_connection(
        url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket", timeout=10,
        skip_utf8_validation=True)  # its pure-Python check costs more than the server does
    assert ws.recv().startswith("0")  # Engine.IO open
    ws.send("40" + json.dumps({"token": token}))  # Socket.IO connect with auth
    while True:
        message = ws.recv()
        if message == "2":
            ws.send("3")
        elif message.startswith("44"):
            raise RuntimeError(f"refused: {message}")
        elif message.startswith('42["state"'):
            return ws


def main() -> int:
    url, count = sys.argv[1], int(sys.argv[2])
    token = sys.argv[3] if len(sys.argv) > 3 else "demo-display-token"
    selector = selectors.DefaultSelector()
    sockets = [connect(url, token) for _ in range(count)]
    for ws in sockets:
        ws.sock.setblocking(True)
        selector.register(ws.sock, selectors.EVENT_READ, ws)
    selector.register(sys.stdin, selectors.EVENT_READ, None)
    print("ready", flush=True)
    arrivals: list[tuple[str, float]] = []
    running = True
    while running:
        for key, _ in selector.select():
            if key.data is None:  # the parent says the timed calls are over
                running = False
                break
            ws = key.data
            message = ws.recv()
            at = time.monotonic()
            if message == "2":
                ws.send("3")
            elif message.startswith('42["event"') and CALLED.search(message):
                found = TICKET_ID.search(message)
                if found:
                    arrivals.append((found.group(1), at))
    sys.stdin.readline()
    print(json.dumps(arrivals), flush=True)
    for ws in sockets:
        ws.close(timeout=0.1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
