"""Benchmark tooling: a process holding N display connections (tests/lean_socket.py); counts deltas.

`display_clients.py URL COUNT [TOKEN] [--no-deflate]`. Prints `ready` once every connection
has its snapshot. Given `wait N` on stdin, answers `ok` once each has received N `event`
deltas in all (`late` after 30 s). Given a number N, waits the same way, prints how many
each has (a JSON list) and disconnects. One selector
loop serves every connection, in its own process so that it does not share the timing
client's interpreter lock; it still shares the machine's cores with the server.
"""

from __future__ import annotations

import json
import selectors
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from lean_socket import LeanSocket  # noqa: E402  (the tests' own)

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
    # read every connection all along (a display that stops reading would hold the server's
    # writes); a line on stdin sets what is waited for
    expected: int | None = None
    final = False
    deadline = 0.0
    while True:
        for key, _ in selector.select(timeout=0.5):
            if key.data is None:
                line = sys.stdin.readline().split()
                final, expected = len(line) == 1, int(line[-1])
                deadline = time.monotonic() + 30
                continue
            display = key.data
            events[display] += sum(m.startswith(EVENT) for m in display.read())
            if display.closed:
                selector.unregister(display)
        if expected is None:
            continue
        reached = min(events.values(), default=expected) >= expected
        if reached or time.monotonic() >= deadline:
            if final:
                break
            print("ok" if reached else "late", flush=True)
            expected = None
    print(json.dumps(list(events.values())), flush=True)
    for d in displays:
        d.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
