"""Benchmark tooling: a process holding N python-socketio display clients; counts deltas.

Prints `ready` once every client has its snapshot; given a number on stdin, waits until
each client has received that many `event` deltas (at most 30 s), prints how many each has
(a JSON list) and disconnects. In its own process, so that
the clients' threads (python-socketio starts one per message) do not share the timing
client's interpreter lock; they still share the machine's cores with the server.
"""

from __future__ import annotations

import json
import sys
import threading
import time

import socketio


class Display:
    def __init__(self, url: str, token: str) -> None:
        self.events = 0
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.client = socketio.Client(reconnection=False)
        self.client.on("state", lambda _data: self.ready.set())
        self.client.on("event", self._on_event)
        self.client.connect(url, auth={"token": token}, transports=["websocket"],
                            wait_timeout=30)
        if not self.ready.wait(60):
            raise RuntimeError("a display got no snapshot")

    def _on_event(self, _message: dict) -> None:
        with self.lock:
            self.events += 1


def main() -> int:
    url, count = sys.argv[1], int(sys.argv[2])
    token = sys.argv[3] if len(sys.argv) > 3 else "demo-display-token"
    displays = [Display(url, token) for _ in range(count)]
    print("ready", flush=True)
    expected = int(sys.stdin.readline())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and min((d.events for d in displays),
                                               default=expected) < expected:
        time.sleep(0.05)
    print(json.dumps([d.events for d in displays]), flush=True)
    for d in displays:
        d.client.disconnect()
    return 0


if __name__ == "__main__":
    sys.exit(main())
