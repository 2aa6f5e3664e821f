"""A resync flood, for tests/test_flood.py and bench/bench_flood.py: display clients asking
for snapshots as fast as they can while kiosks take tickets over HTTP.

Each `Display` is a real python-socketio client that keeps the queue the way the pages'
LiveQueue does (server/web/static/js/live.js): a snapshot replaces everything, a delta at or
below `seq` is dropped, the next one is applied, any other is a gap that asks for a snapshot.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import requests
import socketio

KIOSK_TOKEN = "demo-kiosk-token"
DISPLAY_TOKEN = "demo-display-token"


class Display:
    """A display's model of the queues, fed by one Socket.IO connection."""

    def __init__(self, url: str, token: str = DISPLAY_TOKEN) -> None:
        self.lock = threading.Lock()
        self.seq = -1
        self.waiting: dict[str, int] = {}
        self.order: dict[str, list[str]] = {}
        self.gap = False
        self.snapshots = 0
        self.answers: dict[str, int] = {}
        self.client = socketio.Client(reconnection=False)
        self.client.on("state", self._state)
        self.client.on("event", self._event)
        self.client.connect(url, transports=["websocket"], auth={"token": token},
                            wait_timeout=10)

    def _state(self, snapshot: dict[str, Any]) -> None:
        with self.lock:
            self.seq = snapshot["seq"]
            self.waiting = {s["code"]: s["waiting"] for s in snapshot["services"]}
            self.order = {s["code"]: [t["id"] for t in s["tickets"]]
                          for s in snapshot["services"]}
            self.gap = False
            self.snapshots += 1

    def _event(self, m: dict[str, Any]) -> None:
        with self.lock:
            if self.seq < 0 or m["seq"] <= self.seq:
                return  # already in the snapshot
            if m["seq"] != self.seq + 1:
                self.gap = True  # a delta lost: only a snapshot mends it
                return
            if self.gap:
                return
            self.seq = m["seq"]
            for code, q in m["queues"].items():
                self.waiting[code] = q["waiting"]
                self.order[code] = q["order"]

    def resync(self) -> dict[str, Any]:
        answer = self.client.call("resync", timeout=10) or {}
        key = "ok" if answer.get("ok") else str(answer.get("error"))
        with self.lock:
            self.answers[key] = self.answers.get(key, 0) + 1
        return answer

    def view(self) -> tuple[int, dict[str, int], dict[str, list[str]], bool]:
        with self.lock:
            return self.seq, dict(self.waiting), {k: list(v) for k, v in self.order.items()}, \
                self.gap

    def close(self) -> None:
        self.client.disconnect()


def flood(displays: list[Display], stop: threading.Event) -> list[threading.Thread]:
    """Each display asks for a snapshot again and again, as soon as each answer is in."""
    def run(d: Display) -> None:
        while not stop.is_set():
            d.resync()

    threads = [threading.Thread(target=run, args=(d,), daemon=True) for d in displays]
    for t in threads:
        t.start()
    return threads


class Kiosk:
    """Walk-in tickets over one kept-alive HTTP connection (http.client: requests costs more
    than the station on a small machine), timing each."""

    def __init__(self, url: str, token: str = KIOSK_TOKEN) -> None:
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port,
                                               timeout=30)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def walk_in(self, service: str = "A") -> tuple[int, float]:
        started = time.perf_counter()
        self.conn.request("POST", "/api/v1/tickets", body=json.dumps({"service": service}),
                          headers=self.headers)
        response = self.conn.getresponse()
        response.read()
        return response.status, (time.perf_counter() - started) * 1000

    def close(self) -> None:
        self.conn.close()


def seed(url: str, waiting: int) -> None:
    """`waiting` walk-ins, split over the two walk-in services."""
    kiosk = Kiosk(url)
    try:
        for i in range(waiting):
            status, _ = kiosk.walk_in("A" if i % 2 else "V")
            assert status == 201, status
    finally:
        kiosk.close()


class FloodProcess:
    """`main` below as its own process: the displays and their flood."""

    def __init__(self, url: str, count: int = 5, flooding: bool = True) -> None:
        self.proc = subprocess.Popen([sys.executable, __file__, url, str(count),
                                      "flood" if flooding else "idle"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None and self.proc.stdin is not None
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            self.proc.kill()
            raise RuntimeError(f"the displays did not connect: {line!r}")

    def start(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def stop(self) -> dict[str, Any]:
        """Ends the flood; answers once every display converged (or gave up)."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("stop\n")
        self.proc.stdin.flush()
        result = json.loads(self.proc.stdout.readline())
        self.proc.wait(timeout=30)
        return result  # type: ignore[no-any-return]

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()


PACE = 0.025  # seconds from one kiosk's request to its next: 80 tickets a second for two,
# far past any morning, without the kiosks queueing behind each other for the station's lock


def check_ins_during_flood(url: str, count: int, displays: int = 5, kiosks: int = 2,
                           flooding_: bool = True) -> tuple[list[float], dict[str, Any]]:
    """`count` walk-ins from `kiosks` kiosks, each taking one every PACE seconds, while
    `displays` displays (another process) flood (or, `flooding_=False`, only watch: the
    control): the milliseconds each took, and the displays' report (FloodProcess.stop)."""
    flooding = FloodProcess(url, displays, flooding_)
    try:
        flooding.start()
        time.sleep(0.5)  # the flood is under way before the first ticket is timed
        took: list[float] = []
        lock = threading.Lock()

        def run(n: int) -> None:
            kiosk = Kiosk(url)
            try:
                kiosk.walk_in("A")  # its connection opened before the timed ones
                due = time.monotonic()
                for _ in range(n):
                    time.sleep(max(0.0, due - time.monotonic()))
                    due += PACE
                    status, ms = kiosk.walk_in("A")
                    assert status == 201, status
                    with lock:
                        took.append(ms)
            finally:
                kiosk.close()

        workers = [threading.Thread(target=run, args=(count // kiosks,))
                   for _ in range(kiosks)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        return took, flooding.stop()
    finally:
        flooding.kill()


def station_view(url: str) -> tuple[int, dict[str, int], dict[str, list[str]]]:
    """What the station says now, as a display's snapshot over HTTP."""
    s = requests.get(f"{url}/api/v1/state", headers={"Authorization":
                     f"Bearer {DISPLAY_TOKEN}"}, timeout=10).json()
    return s["seq"], {x["code"]: x["waiting"] for x in s["services"]}, \
        {x["code"]: [t["id"] for t in x["tickets"]] for x in s["services"]}


def converged(display: Display, url: str) -> bool:
    """The display shows what the station has: the same `seq`, the same counts, the same head
    of the doctor's queue (deltas carry the first 50 of each queue). On a gap it asks for a
    snapshot, as the page does (waiting out `retry_after`)."""
    seq, waiting, order, gap = display.view()
    if gap:
        display.resync()
        return False
    want_seq, want_waiting, want_order = station_view(url)
    return seq == want_seq and waiting == want_waiting and \
        order.get("A", [])[:50] == want_order["A"][:50]


def main() -> int:
    """`python tests/flood.py URL N flood|idle`: N displays, in this process (their own cost
    kept out of the kiosks' timings); "ready" once connected, the flood (with `flood`) from
    the first line on stdin to the next, then once every display shows the station's state
    (or after 20 s), one JSON line: each display's answers and whether it converged."""
    url, count, flooding = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "flood"
    displays = [Display(url) for _ in range(count)]
    print("ready", flush=True)
    sys.stdin.readline()
    stop = threading.Event()
    flooders = flood(displays, stop) if flooding else []
    sys.stdin.readline()
    stop.set()
    for t in flooders:
        t.join(timeout=15)
    deadline = time.monotonic() + 20
    done = [False] * count
    while not all(done) and time.monotonic() < deadline:
        done = [ok or converged(d, url) for ok, d in zip(done, displays, strict=True)]
        time.sleep(0.2)
    print(json.dumps({"answers": [d.answers for d in displays], "converged": done,
                      "snapshots": [d.snapshots for d in displays]}), flush=True)
    for d in displays:
        d.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
