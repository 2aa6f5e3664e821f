"""Benchmark of the station server over real HTTP and Socket.IO; prints JSON lines.

Figures (issue 2): check-in and call-next over HTTP, a fresh connection per request,
call-next → display `ticket.called` with 1 and with 200 connected clients (WebSocket),
resident memory with 50 clients (all the station's processes), start to healthy. Issue 15:
check-in and call-next over one kept-alive connection (`*_keepalive`), timed alternately with
the fresh-connection ones so that both meet the same queue. The server runs as its own
process the production way (`clinicq serve --demo`: gunicorn, one threaded worker) on a
fresh SQLite file.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import requests
import socketio

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import (  # noqa: E402
    FreshConnections,
    KeptAlive,
    StationProcess,
    emit,
    emit_distribution,
    unthrottled,
)

from server import config  # noqa: E402
from server.store import Store  # noqa: E402

KIOSK = {"Authorization": "Bearer demo-kiosk-token"}


def seed_bookings(database: Path, count: int) -> list[str]:
    """Bookings for today whose slot is open now, so each check-in makes a ticket."""
    settings = config.load()
    now = datetime.now(ZoneInfo(str(settings.timezone)))
    start = (now - timedelta(minutes=10)).strftime("%H:%M")
    end = (now + timedelta(minutes=20)).strftime("%H:%M") if now.hour < 23 else "23:59"
    rows = [{"id": f"bench-{i}", "code": f"BENCH-{i:05d}", "station": settings.station_id,
             "service": "V", "day": now.date().isoformat(), "slot_start": start,
             "slot_end": end, "name": "测试", "name_masked": "测*", "phone_last4": "0000",
             "priority": 0, "status": "booked", "updated_at": None} for i in range(count)]
    store = Store(database)
    store.upsert_bookings(rows)
    store.close()
    return [r["code"] for r in rows]


class Display:
    """A Socket.IO client like the waiting-room display; records when each call arrives."""

    def __init__(self, url: str, arrivals: dict[str, list[float]] | None = None) -> None:
        self.arrivals = arrivals if arrivals is not None else {}
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.client = socketio.Client(reconnection=False)
        self.client.on("state", lambda _data: self.ready.set())
        self.client.on("event", self._on_event)
        self.client.connect(url, auth={"token": "demo-display-token"}, transports=["websocket"],
                            wait_timeout=10)
        self.ready.wait(10)

    def _on_event(self, message: dict) -> None:
        if message["type"] == "ticket.called":
            at = time.perf_counter()
            with self.lock:
                self.arrivals.setdefault(message["ticket"]["id"], []).append(at)

    def close(self) -> None:
        threading.Thread(target=self.client.disconnect, daemon=True).start()


def nurse(url: str) -> requests.Session:
    s = requests.Session()
    r = s.post(f"{url}/api/v1/login", json={"username": "demo-nurse", "password": "demo-nurse"})
    s.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return s


def wait_for(arrivals: dict[str, list[float]], ticket_id: str, count: int,
             timeout: float = 5.0) -> list[float]:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        got = arrivals.get(ticket_id, [])
        if len(got) >= count:
            return got
        time.sleep(0.0005)
    return arrivals.get(ticket_id, [])


Client = FreshConnections | KeptAlive


def checkins(clients: list[Client], codes: list[str]) -> list[list[float]]:
    """Each code checked in by the next client in turn; the times per client."""
    times: list[list[float]] = [[] for _ in clients]
    for i, code in enumerate(codes):
        t0 = time.perf_counter()
        status, body = clients[i % len(clients)].post("/api/v1/checkins", {"code": code})
        times[i % len(clients)].append((time.perf_counter() - t0) * 1000)
        assert status == 201, body
    return times


def calls(displays_arrivals: dict[str, list[float]], displays: int, runs: int,
          clients: list[Client]) -> tuple[list[list[float]], list[float]]:
    """`runs` call-next presses at V1 by each client in turn; each called ticket is marked
    no-show off the clock. The push times are those of the first client's calls."""
    http_ms: list[list[float]] = [[] for _ in clients]
    push_ms: list[float] = []
    for i in range(runs * len(clients)):
        client = clients[i % len(clients)]
        t0 = time.perf_counter()
        status, ticket = client.post("/api/v1/counters/V1/call-next")
        http_ms[i % len(clients)].append((time.perf_counter() - t0) * 1000)
        assert status == 200, ticket
        got = wait_for(displays_arrivals, ticket["id"], displays)
        if i % len(clients) == 0:
            push_ms += [(t - t0) * 1000 for t in got]
        client.post(f"/api/v1/tickets/{ticket['id']}/no-show")
    return http_ms, push_ms


def fan_out(url: str, session: requests.Session, clients: int, runs: int,
            processes: int = 2) -> tuple[list[float], float]:
    """Call-next → `ticket.called` at each of `clients` connections (time.monotonic is one
    clock for all processes). Also the server's memory once 50 clients are connected."""
    script = Path(__file__).resolve().parent / "fanout_clients.py"
    per = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    first = min(50, clients)
    procs = [subprocess.Popen([sys.executable, str(script), url, str(first)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)]
    assert procs[0].stdout is not None and procs[0].stdout.readline().strip() == "ready"
    rss = STATION.rss_mb() if STATION else float("nan")
    rest = clients - first
    if rest > 0:
        per = [rest // processes + (1 if i < rest % processes else 0) for i in range(processes)]
        procs += [subprocess.Popen([sys.executable, str(script), url, str(n)],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                  for n in per if n]
        for p in procs[1:]:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    sent: dict[str, float] = {}
    for _ in range(runs):
        t0 = time.monotonic()
        ticket = session.post(f"{url}/api/v1/counters/V1/call-next").json()
        sent[ticket["id"]] = t0
        time.sleep(0.15)  # let every client receive it before the next call
        session.post(f"{url}/api/v1/tickets/{ticket['id']}/no-show")
    latencies = []
    for p in procs:
        assert p.stdin is not None and p.stdout is not None
        p.stdin.write("\n")
        p.stdin.flush()
        for ticket_id, at in json.loads(p.stdout.readline()):
            if ticket_id in sent:
                latencies.append((at - sent[ticket_id]) * 1000)
        p.wait(timeout=30)
    return latencies, rss


STATION: StationProcess | None = None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Station server latency and memory figures.")
    parser.add_argument("--runs", type=int, default=250, help="timed requests per figure")
    parser.add_argument("--clients", type=int, default=200, help="clients for the fan-out run")
    args = parser.parse_args(argv)
    runs = args.runs
    with tempfile.TemporaryDirectory() as tmp:
        starts = []
        for i in range(5):
            p = StationProcess(Path(tmp) / f"start{i}.db", config_file=None)
            starts.append(p.healthy_after * 1000)
            p.stop()
        emit_distribution("start_to_healthy", starts)

        database = Path(tmp) / "station.db"
        fan_runs = max(runs // 4, 50)
        codes = seed_bookings(database, 2 * runs + fan_runs)
        station = StationProcess(database, config_file=unthrottled(Path(tmp)))
        global STATION
        STATION = station
        try:
            url = station.url
            kiosk = requests.Session()
            kiosk.headers.update(KIOSK)
            kiosks: list[Client] = [FreshConnections(url, kiosk), KeptAlive(url, KIOSK)]
            fresh_ms, kept_ms = checkins(kiosks, codes[: 2 * runs])
            emit_distribution("checkin_http", fresh_ms)
            emit_distribution("checkin_http_keepalive", kept_ms)

            session = nurse(url)
            nurses: list[Client] = [FreshConnections(url, nurse(url)), KeptAlive.like(url, session)]
            arrivals: dict[str, list[float]] = {}
            display = Display(url, arrivals)
            (fresh_ms, kept_ms), push_ms = calls(arrivals, 1, runs, nurses)
            emit_distribution("call_next_http", fresh_ms)
            emit_distribution("call_next_http_keepalive", kept_ms)
            emit_distribution("call_to_display", push_ms)
            display.close()
            for client in (*kiosks, *nurses):
                if isinstance(client, KeptAlive):
                    assert client.reused, "a kept-alive connection was not kept"
                    client.close()
            checkins(kiosks[:1], codes[2 * runs:])  # the fan-out's tickets, off the clock

            # fan-out: lightweight display connections in their own processes
            fan_ms, rss = fan_out(url, session, args.clients, max(runs // 4, 50))
            emit("rss_with_50_clients", rss, "MB", 50)
            emit_distribution(f"call_to_{args.clients}_displays", fan_ms)
        finally:
            station.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
