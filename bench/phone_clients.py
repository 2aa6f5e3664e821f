"""Benchmark tooling: a process holding phone-page connections, one per ticket code given on
stdin's first line (JSON list), over raw WebSockets like fanout_clients.py; prints when each
`phone` delta of a `ticket.called` arrives."""

from __future__ import annotations

import json
import selectors
import sys
import time

import websocket
from fanout_clients import CALLED, TICKET_ID


def connect(url: str, code: str) -> websocket.WebSocket:
    ws = websocket.create_connection(
        url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket", timeout=10,
        skip_utf8_validation=True)
    assert ws.recv().startswith("0")
    ws.send("40" + json.dumps({"ticket": code}))
    while True:
        message = ws.recv()
        if message == "2":
            ws.send("3")
        elif message.startswith("44"):
            raise RuntimeError(f"refused: {message}")
        elif message.startswith('42["ticket"'):
            return ws


def main() -> int:
    url = sys.argv[1]
    codes = json.loads(sys.stdin.readline())
    selector = selectors.DefaultSelector()
    for code in codes:
        ws = connect(url, code)
        ws.sock.setblocking(True)
        selector.register(ws.sock, selectors.EVENT_READ, ws)
    selector.register(sys.stdin, selectors.EVENT_READ, None)
    print("ready", flush=True)
    arrivals: list[tuple[str, float]] = []
    running = True
    while running:
        for key, _ in selector.select():
            if key.data is None:
                running = False
                break
            ws = key.data
            message = ws.recv()
            at = time.monotonic()
            if message == "2":
                ws.send("3")
            elif message.startswith('42["phone"') and CALLED.search(message):
                found = TICKET_ID.search(message)
                if found:
                    arrivals.append((found.group(1), at))
    sys.stdin.readline()
    print(json.dumps(arrivals), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
