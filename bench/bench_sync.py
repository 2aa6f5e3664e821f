"""Benchmark of the station's sync with a local platform (issue 10); prints JSON lines.

- `sync_push_10k_<db>`: 10,000 events of a station's ledger pushed to a platform process
  (SQLite, and PostgreSQL when its binaries are here) in batches of 500, seconds;
- `sync_pull_5k_bookings`: a station pulls a feed of 5,000 bookings, seconds;
- `sync_commit_to_platform`: a walk-in committed at a station process → the platform has the
  event (polled every 2 ms), ms;
- `checkin_idle` and `checkin_during_drain`: walk-ins over HTTP at a station process with
  nothing to push, and while it drains a backlog of 10,000 events, ms.

The stations' ledgers are made by the real engine in-process (a fake clock opening a new day
every 200 walk-ins, so no queue grows long), on /dev/shm when there is one.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import KeptAlive, StationProcess, emit, emit_distribution  # noqa: E402

from contracts.demo import DEMO_STATION_TOKEN  # noqa: E402
from server import config  # noqa: E402
from server.platform import PlatformClient  # noqa: E402
from server.push import Pusher  # noqa: E402
from server.store import Store  # noqa: E402
from server.sync import KeyRing, Sync  # noqa: E402
from server.web import create_app  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from pgserver import PostgresServer, PostgresUnavailable  # noqa: E402
from support import TZ, CentralProcess, FakeClock, station_config  # noqa: E402

ADMIN = {"Authorization": "Bearer demo-central-admin-token"}
KIOSK = {"Authorization": "Bearer demo-kiosk-token"}


def scratch() -> Path:
    shm = Path("/dev/shm")
    return Path(tempfile.mkdtemp(prefix="clinicq-bench-sync-",
                                 dir=shm if shm.is_dir() else None))


def make_ledger(path: Path, events: int) -> None:
    """A station database with at least `events` events, made by the engine."""
    settings = replace(config.load(None, demo=False), database=str(path))
    clock = FakeClock(datetime(2026, 1, 5, 8, 0, tzinfo=TZ))
    app = create_app(settings, clock=clock)
    ext = app.extensions["clinicq"]
    services = [c for c, s in settings.services.items() if s.rules.walkins]
    i = 0
    while ext.store.outbox_status()["last_seq"] < events:
        if i and i % 200 == 0:
            clock.advance(days=1)
        ext.station.walk_in(services[i % len(services)])
        i += 1
    ext.store.close()


def platform_count(central: CentralProcess, day: str) -> int:
    r = requests.get(f"{central.url}/api/v1/stations/demo-station/reconciliation",
                     params={"day": day}, headers=ADMIN, timeout=10)
    r.raise_for_status()
    return int(r.json()["events"])


def push_10k(tmp: Path, database_url: str, label: str) -> None:
    ledger = tmp / f"ledger-{label}.db"
    make_ledger(ledger, 10_000)
    store = Store(ledger)
    central = CentralProcess(database_url, log=tmp / f"central-{label}.log")
    try:
        client = PlatformClient(central.url, "demo-station", DEMO_STATION_TOKEN, timeout=30)
        pusher = Pusher(store, client, batch_size=500)
        pending = store.outbox_status()["pending"]
        started = time.perf_counter()
        pusher.push_once()
        elapsed = time.perf_counter() - started
        assert store.outbox_status()["pending"] == 0
        emit(f"sync_push_10k_{label}", elapsed, "s", pending)
    finally:
        central.stop()
        store.close()


def pull_5k(tmp: Path) -> None:
    from central.demo import seed_demo
    from central.inputs import NewBooking
    from central.store import Store as CentralStore

    url = f"sqlite:///{tmp / 'central-feed.db'}"
    now = int(time.time())
    central_store = CentralStore(url, tz=TZ)
    central_store.migrate(now)
    created = seed_demo(central_store, now)  # the demo's day, then more of it to 5,000
    today = central_store.local_today(now)
    for i in range(created, 5000):
        start = 8 * 60 + 30 * (i % 18)
        central_store.create_booking(NewBooking(
            station="demo-station", service="AB"[i % 2], day=today, slot_start=start,
            slot_end=start + 30, name=f"居民{i}", phone=f"139{i:08d}", birth_year=1970,
            priority=None, vaccine_product=None, vaccine_dose=None), now)
        created += 1
    central_store.close()
    central = CentralProcess(url, log=tmp / "central-feed.log")
    station = Store(tmp / "feed-station.db")
    try:
        settings = replace(config.load(None, demo=False), database=str(tmp / "feed-station.db"))
        client = PlatformClient(central.url, "demo-station", DEMO_STATION_TOKEN, timeout=30)
        sync = Sync(settings, station, KeyRing(station), client, page_size=500)
        started = time.perf_counter()
        applied = sync.pull_feed()
        elapsed = time.perf_counter() - started
        assert applied >= created, (applied, created)
        emit("sync_pull_5k_bookings", elapsed, "s", applied)
    finally:
        central.stop()
        station.close()


def live(tmp: Path, runs: int) -> None:
    """Commit → platform latency, and check-in latency idle and while a backlog drains."""
    central = CentralProcess(f"sqlite:///{tmp / 'central-live.db'}",
                             log=tmp / "central-live.log")
    database = tmp / "live-station.db"
    make_ledger(database, 10_000)
    config_file = station_config(tmp, url=central.url)
    try:
        day = datetime.now(TZ).date().isoformat()
        # the station starts on its backlog: it drains at once, while residents check in
        station = StationProcess(database, None, config_file=config_file,
                                 log=tmp / "station-live.log")
        try:
            kiosk = KeptAlive(station.url, KIOSK)
            nurse = requests.Session()
            nurse.post(f"{station.url}/api/v1/login", timeout=5,
                       json={"username": "demo-nurse", "password": "demo-nurse"})

            def pending() -> int:
                return int(nurse.get(f"{station.url}/api/v1/sync/status",
                                     timeout=5).json()["pending"])

            during: list[float] = []
            while True:
                started = time.perf_counter()
                status, _ = kiosk.post("/api/v1/tickets", {"service": "A"})
                during.append((time.perf_counter() - started) * 1000)
                assert status == 201
                if len(during) % 20 == 0 and pending() < 100:
                    break
                time.sleep(0.005)  # residents do not arrive back to back
            deadline = time.monotonic() + 120
            while pending() and time.monotonic() < deadline:
                time.sleep(0.05)
            # idle: as many walk-ins again, nothing else to push (each commit still wakes a
            # one-event push), into another service, so that both phases see a queue growing
            # from nothing (the answer's position and wait cost more as a queue grows)
            idle: list[float] = []
            for _ in range(len(during)):
                started = time.perf_counter()
                status, _ = kiosk.post("/api/v1/tickets", {"service": "V"})
                idle.append((time.perf_counter() - started) * 1000)
                assert status == 201
                time.sleep(0.005)  # residents do not arrive back to back
            lag: list[float] = []
            for _ in range(runs):
                before = platform_count(central, day)
                started = time.perf_counter()
                status, _ = kiosk.post("/api/v1/tickets", {"service": "V"})
                while platform_count(central, day) == before:
                    time.sleep(0.005)
                lag.append((time.perf_counter() - started) * 1000)
            emit_distribution("checkin_during_drain", during)
            emit_distribution("checkin_idle", idle)
            emit("checkin_drain_minus_idle_p50",
                 statistics.median(during) - statistics.median(idle), "ms", len(during))
            emit_distribution("sync_commit_to_platform", lag)
            kiosk.close()
        finally:
            station.stop()
    finally:
        central.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Station ↔ platform sync figures.")
    parser.add_argument("--runs", type=int, default=50, help="commit → platform samples")
    args = parser.parse_args(argv)
    tmp = scratch()
    try:
        push_10k(tmp, f"sqlite:///{tmp / 'central-push.db'}", "sqlite")
        try:
            server = PostgresServer()
        except PostgresUnavailable as err:
            print(json.dumps({"name": "sync_push_10k_postgres", "skipped": str(err)}),
                  flush=True)
        else:
            try:
                push_10k(tmp, server.create_database(), "postgres")
            finally:
                server.stop()
        pull_5k(tmp)
        live(tmp, args.runs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
