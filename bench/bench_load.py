"""Benchmark: commands over HTTP on a mass-vaccination day (issue 14, point 8); JSON lines.

A station (production server: gunicorn, one threaded worker, the shipped config.toml) starts
on a day that already has 10,000 tickets, 500 of them waiting, and 20 displays connected
(in their own process, display_clients.py: lean Socket.IO connections that ask for
compression as a browser does). Then, each round,
over keep-alive connections (http.client, harness.KeptAlive: requests would add about 1.5 ms
of its own to each figure): a walk-in (service A), a booking's
check-in (service V), a call-next at A1 (a ticket of A is called: waiting stays at 500); off
the clock the called ticket is marked no-show and the checked-in one cancelled. Figures:
each command's p50 and p99, and a `GET /healthz` on the same connection (the floor: what the
client and the server's HTTP take without a command); twice: back to back (each command
right after the last one's answer, while its deltas still go out to every display), then
`_paced` (each command once every display has the last one's delta, as at a station whose
commands come seconds apart: the answer never waits for the fan-out, AfterAnswer).

The day is written straight into the station's database, as the store would have kept it
(tickets, an `issued` and a closing event each, their bookings): issuing 10,000 tickets
through the server would take longer than the benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import KeptAlive, StationProcess, emit, emit_distribution, unthrottled  # noqa: E402

from server import config  # noqa: E402
from server.engine import events as ev  # noqa: E402
from server.engine.model import State, Ticket  # noqa: E402
from server.store import Store  # noqa: E402

KIOSK = {"Authorization": "Bearer demo-kiosk-token"}
TICKETS = 10_000
WAITING = 500
DISPLAYS = 20
# the waiting ones: (service, stage, how many)
WAITING_AT = (("V", "screening", 200), ("V", "vaccination", 100), ("A", None, 150),
              ("B", None, 50))
# the closed ones, 20 in turn: 10 of V, 7 of A, 3 of B (service, stage when closed, status)
CLOSED_AS = [("V", "observation", "released")] * 10 + [("A", None, "done")] * 7 + \
    [("B", None, "done")] * 3


def _booking_row(settings: config.Settings, booking_id: str, code: str, service: str,
                 day: str, start: datetime, end: datetime) -> dict:
    return {"id": booking_id, "code": code, "station": settings.station_id, "service": service,
            "day": day, "slot_start": f"{start:%H:%M}", "slot_end": f"{end:%H:%M}",
            "name": "测试", "name_masked": "测*", "phone_last4": "0000", "priority": 0,
            "status": "booked", "updated_at": None}


def seed_day(database: Path, timed_checkins: int) -> list[str]:
    """Today's tickets (TICKETS, WAITING of them waiting) and their ledger, in the station's
    database; answers the codes of `timed_checkins` bookings whose slot is open now."""
    settings = config.load()
    tz = ZoneInfo(str(settings.timezone))
    now = datetime.now(tz)
    today = now.date()
    day_start = datetime.combine(today, datetime.min.time(), tz)
    first = max(day_start, now - timedelta(hours=10))
    span = (now - timedelta(minutes=2) - first) / TICKETS
    numbering: dict[str, int] = {}
    tickets: list[Ticket] = []
    events: list[ev.Event] = []
    bookings: list[dict] = []
    # the closed ones through the day, the services interleaved; the waiting ones last
    plan: list[tuple[str, str | None, str]] = [CLOSED_AS[i % 20]
                                               for i in range(TICKETS - WAITING)]
    for service, stage, count in WAITING_AT:
        plan += [(service, stage, "waiting")] * count
    rules = settings.engine_rules()
    for i, (service, stage, status) in enumerate(plan):
        issued = first + span * i
        n = numbering.get(service, 0) + 1
        numbering[service] = n
        svc = rules.services[service]
        number = f"{svc.prefix}{n:0{svc.number_width}d}"
        booked = i % 3 != 0 or not svc.walkins
        booking_id = f"load-{service}-{n}" if booked else None
        slot_start = issued - timedelta(minutes=10) if booked else None
        slot_end = issued + timedelta(minutes=20) if booked else None
        fields: dict = {}
        if status != "waiting":
            called = issued + min(span * 40, timedelta(minutes=40))
            called = min(called, now - timedelta(seconds=30))
            started = called + timedelta(seconds=40)
            fields = {"called_at": called, "started_at": started,
                      "finished_at": started + timedelta(minutes=4),
                      "counter": {"V": "V1", "A": "A1", "B": "B1"}[service], "version": 4}
        ticket = Ticket(id=f"{today:%Y%m%d}-{number}", day=today, service=service,
                        number=number, seq_no=n, kind="booked" if booked else "walkin",
                        status=status, issued_at=issued, code=f"load{i:012d}x", stage=stage,
                        booking_id=booking_id, slot_start=slot_start, slot_end=slot_end,
                        name_masked="测*" if booked else None, name="测试" if booked else None,
                        **fields)
        tickets.append(ticket)
        if booking_id is not None:
            assert slot_start is not None and slot_end is not None
            bookings.append(_booking_row(settings, booking_id, f"LOAD-{service}-{n:05d}",
                                         service, today.isoformat(), slot_start, slot_end))
        events.append(ev.TicketIssued(seq=len(events) + 1, at=issued, ticket=ticket))
        if status != "waiting":
            closing = ev.ObservationReleased if status == "released" else ev.TicketCompleted
            events.append(closing(seq=len(events) + 1, at=ticket.finished_at or now,
                                  ticket=ticket, counter=ticket.counter))
    start = max(now - timedelta(minutes=10), day_start)  # just after midnight: today's
    end = now + timedelta(minutes=20) if now.hour < 23 else now.replace(hour=23, minute=59)
    codes = [f"BENCH-{i:05d}" for i in range(timed_checkins)]
    bookings += [{**_booking_row(settings, f"bench-{i}", code, "V", today.isoformat(), start,
                                 end), "slot_start": f"{start:%H:%M}",
                  "slot_end": f"{end:%H:%M}"} for i, code in enumerate(codes)]
    durations = {s: (240.0,) * 10 for s in rules.services}
    state = State(rules=rules, day=today, seq=len(events),
                  tickets={t.id: t for t in tickets}, numbering=numbering, durations=durations)
    store = Store(database)
    store.upsert_bookings(bookings)
    store.save(State(rules=rules), state, events)
    store.close()
    return codes


def connect_displays(url: str, count: int, deflate: bool) -> subprocess.Popen[str]:
    """`count` display connections in their own process (display_clients.py)."""
    script = Path(__file__).resolve().parent / "display_clients.py"
    flags = [] if deflate else ["--no-deflate"]
    proc = subprocess.Popen([sys.executable, str(script), url, str(count), *flags],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def deltas_received(proc: subprocess.Popen[str], expected: int) -> list[int]:
    """What each display received, once each has `expected` deltas (or 30 s passed)."""
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(f"{expected}\n")
    proc.stdin.flush()
    counts: list[int] = json.loads(proc.stdout.readline())
    proc.wait(timeout=30)
    return counts


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def nurse(url: str) -> requests.Session:
    s = requests.Session()
    r = s.post(f"{url}/api/v1/login", json={"username": "demo-nurse", "password": "demo-nurse"})
    r.raise_for_status()
    s.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return s


def timed(client: KeptAlive, method: str, path: str, into: list[float] | None,
          body: object = None) -> tuple[int, Any]:
    t0 = time.perf_counter()
    answer = client.request(method, path, body)
    if into is not None:
        into.append((time.perf_counter() - t0) * 1000)
    return answer


class Timings:
    """Each command's latencies (ms), and the CPU used from the first timed round."""

    def __init__(self) -> None:
        self.walkin: list[float] = []
        self.checkin: list[float] = []
        self.call: list[float] = []
        self.healthz: list[float] = []
        self.cpu: tuple[float, float] | None = None

    def start_cpu(self, station: StationProcess, displays: subprocess.Popen[str]) -> None:
        self.cpu = (cpu_s(station.serving_pid()), cpu_s(displays.pid))

    def cpu_per_round(self, station: StationProcess,
                      displays: subprocess.Popen[str]) -> tuple[float, float]:
        assert self.cpu is not None
        n = len(self.walkin)
        return ((cpu_s(station.serving_pid()) - self.cpu[0]) / n * 1000,
                (cpu_s(displays.pid) - self.cpu[1]) / n * 1000)

    def figures(self) -> list[tuple[str, list[float]]]:
        return [(f"walkin_http_{TICKETS}", self.walkin), (f"checkin_http_{TICKETS}", self.checkin),
                (f"call_next_http_{TICKETS}", self.call), ("healthz_http", self.healthz)]


def settled(displays: subprocess.Popen[str], expected: int) -> None:
    """Once every display has `expected` deltas in all."""
    assert displays.stdin is not None and displays.stdout is not None
    displays.stdin.write(f"wait {expected}\n")
    displays.stdin.flush()
    answer = displays.stdout.readline().strip()
    assert answer == "ok", f"the displays did not get delta {expected}: {answer}"


def rounds_of(kiosk: KeptAlive, staff: KeptAlive, codes: list[str], into: Timings, warmup: int,
              pace: Callable[[int], None] | None = None,
              cpu: tuple[StationProcess, subprocess.Popen[str]] | None = None) -> None:
    """A round per code: walk-in, check-in, call-next, GET /healthz (timed after `warmup`
    rounds), then the called one marked no-show and the checked-in one cancelled. `pace(k)`,
    after each command: the k-th delta of these rounds has reached every display."""
    made = 0

    def delta() -> None:
        nonlocal made
        made += 1
        if pace is not None:
            pace(made)

    for i, code in enumerate(codes):
        warm = i < warmup
        if i == warmup and cpu is not None:
            into.start_cpu(*cpu)
        status, body = timed(kiosk, "POST", "/api/v1/tickets", None if warm else into.walkin,
                             {"service": "A"})
        assert status == 201, body
        delta()
        status, body = timed(kiosk, "POST", "/api/v1/checkins", None if warm else into.checkin,
                             {"code": code})
        assert status == 201, body
        checked_in = body["id"]
        delta()
        status, body = timed(staff, "POST", "/api/v1/counters/A1/call-next",
                             None if warm else into.call)
        assert status == 200, body
        called = body["id"]
        delta()
        timed(kiosk, "GET", "/healthz", None if warm else into.healthz)
        assert staff.post(f"/api/v1/tickets/{called}/no-show")[0] == 200
        delta()
        assert staff.post(f"/api/v1/tickets/{checked_in}/cancel")[0] == 200
        delta()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Command latency on a 10,000-ticket day.")
    parser.add_argument("--runs", type=int, default=300, help="timed rounds")
    parser.add_argument("--warmup", type=int, default=20, help="untimed rounds first")
    parser.add_argument("--paced", type=int, default=200,
                        help="timed rounds with each command after the last one's pushes")
    parser.add_argument("--displays", type=int, default=DISPLAYS, help="displays connected")
    parser.add_argument("--no-deflate", action="store_true",
                        help="displays that do not ask for compression (a browser does)")
    args = parser.parse_args(argv)
    rounds = args.warmup + args.runs
    with tempfile.TemporaryDirectory() as tmp:
        database = Path(tmp) / "station.db"
        codes = seed_day(database, rounds + args.paced)
        station = StationProcess(database, config_file=unthrottled(Path(tmp)))
        try:
            url = station.url
            displays = connect_displays(url, args.displays, not args.no_deflate)
            kiosk = KeptAlive(url, KIOSK)
            staff = KeptAlive.like(url, nurse(url))
            status, state = kiosk.get("/api/v1/state")
            waiting = sum(s["waiting"] for s in state["services"])
            assert waiting == WAITING, waiting
            # back to back: each command right after the last one's answer, its pushes to the
            # displays still going out (the worst a burst of commands can be)
            timings = Timings()
            rounds_of(kiosk, staff, codes[:rounds], timings, args.warmup,
                      cpu=(station, displays))
            cpu_per_round, clients_per_round = timings.cpu_per_round(station, displays)
            # paced: each command once every display has the last one's delta (a station's
            # commands are seconds apart; the answer never waits for the fan-out)
            paced = Timings()
            sent = 5 * rounds
            rounds_of(kiosk, staff, codes[rounds:rounds + args.paced], paced, 0,
                      lambda made: settled(displays, sent + made))
            status, state = kiosk.get("/api/v1/state")
            assert sum(s["waiting"] for s in state["services"]) == WAITING
            assert kiosk.reused and staff.reused, "a connection was not kept alive"
            # every display received the deltas (5 a round): connected throughout
            total = 5 * (rounds + args.paced)
            counts = deltas_received(displays, total)
            assert counts == [total] * args.displays, counts
            n = TICKETS + 2 * (rounds + args.paced)
            for name, ms in timings.figures():
                emit_distribution(f"load_{name}", ms)
            for name, ms in paced.figures():
                emit_distribution(f"load_{name}_paced", ms)
            emit("load_tickets_at_end", n, "tickets", n)
            # the serving process's CPU for one round of five commands, one GET and their
            # pushes to every display (its threads share one core's worth: the GIL)
            emit("load_worker_cpu_per_round", cpu_per_round, "ms", args.runs)
            # what the simulated displays took of the same machine's two cores meanwhile
            emit("load_display_clients_cpu_per_round", clients_per_round, "ms", args.runs)
        finally:
            station.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
