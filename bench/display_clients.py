"""Benchmark tooling: a process holding N display connections (lean_socket.py); counts deltas.

`display_clients.py URL COUNT [TOKEN] [--no-deflate]`. Prints `ready` once every connection
has its snapshot; given a number on stdin, waits until each has received that many `event`
deltas (at most 30 s), prints how many each has (a JSON list) and disconnects. One selector
loop serves every connection, in its own process so that it does not share the timing
client's interpreter lock; it still shares the machine's cores with the server.
"""

from __future__ import annotations

import json
import selectors
import sys
import time

from lean_socket import LeanSocket

EVENT = '42["event"'


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    url, count = args[0], int(args[1])
    token = args[2] if len(args) > 2 else "demo-display-token"
    displays = [LeanSocket(url, token, deflate="--no-deflate" not in sys.argv)
                for _ in range(count)]
    events = {d: 0 for d in displays}
    selector = selectors.DefaultSelector()
    for d in displays:
        selector.register(d, selectors.EVENT_READ, d)
    selector.register(sys.stdin, selectors.EVENT_READ, None)
    print("ready", flush=True)
    expected: int | None = None
    deadline = 0.0
    def waiting() -> bool:
        if expected is None:
            return True
        return time.monotonic() < deadline and min(events.values(), default=expected) < expected

    while waiting():
        for key, _ in selector.select(timeout=0.5):
            if key.data is None:
                expected = int(sys.stdin.readline())
                deadline = time.monotonic() + 30
                selector.unregister(sys.stdin)
                continue
            display = key.data
            events[display] += sum(m.startswith(EVENT) for m in display.read())
            if display.closed:
                selector.unregister(display)
    print(json.dumps(list(events.values())), flush=True)
    for d in displays:
        d.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
