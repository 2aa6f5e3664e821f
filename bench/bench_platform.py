"""Benchmark of the reference platform (issue 10); prints JSON lines.

- platform_ingest_50_stations: events/s stored with 50 simulated stations pushing batches of
  100 at once to `clinicq central serve` with 4 gunicorn workers on PostgreSQL;
- platform_ingest_10k_sqlite / _postgres: seconds to push 10,000 events in batches of 500
  from one station over one kept-alive connection (each batch committed before its answer);
- platform_feed_5k_postgres: seconds to read a feed of 5,000 bookings page by page (500 a page).

The benchmark starts and stops its own PostgreSQL (initdb/pg_ctl, as tests/pgserver.py does);
without one it prints a JSON note for those figures and skips them.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from central_support import PlatformProcess, StationClient, station_events  # noqa: E402
from harness import emit  # noqa: E402
from pgserver import PostgresServer, PostgresUnavailable  # noqa: E402

from central.demo import DEMO_SERVICES  # noqa: E402
from central.inputs import NewBooking  # noqa: E402
from central.store import Store  # noqa: E402
from contracts.demo import DEMO_STATION_ID, DEMO_STATION_TOKEN  # noqa: E402


def ingest_10k(url: str, tmp: Path, name: str, n: int = 10_000) -> None:
    platform = PlatformProcess(url, 4, log=tmp / f"{name}.log")
    try:
        client = StationClient(platform.url, DEMO_STATION_ID, DEMO_STATION_TOKEN)
        events = station_events(DEMO_STATION_ID, n)
        started = time.perf_counter()
        for k in range(0, n, 500):
            assert set(client.push(events[k:k + 500])) == {"stored"}
        emit(f"platform_ingest_10k_{name}", time.perf_counter() - started, "s", n)
        client.close()
    finally:
        platform.stop()


def ingest_50_stations(url: str, tmp: Path, stations: int, per_station: int,
                       batch: int = 100) -> None:
    platform = PlatformProcess(url, 4, log=tmp / "fifty.log")
    store = Store(url)
    try:
        now = int(time.time())
        for i in range(stations):
            store.add_station(f"sim-{i}", f"模拟站 {i}", f"sim-{i}-token", DEMO_SERVICES, now)
        barrier = threading.Barrier(stations + 1)
        failures: list[BaseException] = []

        def station(i: int) -> None:
            client = StationClient(platform.url, f"sim-{i}", f"sim-{i}-token")
            events = station_events(f"sim-{i}", per_station)
            try:
                barrier.wait(timeout=60)
                for k in range(0, per_station, batch):
                    assert set(client.push(events[k:k + batch])) == {"stored"}
            except BaseException as err:
                failures.append(err)
            finally:
                client.close()

        threads = [threading.Thread(target=station, args=(i,)) for i in range(stations)]
        for thread in threads:
            thread.start()
        barrier.wait(timeout=60)
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        if failures:
            raise failures[0]
        total = stations * per_station
        emit("platform_ingest_50_stations_4_workers_postgres", total / elapsed, "events/s",
             total)
    finally:
        store.close()
        platform.stop()


def feed_5k(url: str, tmp: Path, n: int = 5_000) -> None:
    store = Store(url)
    store.migrate(int(time.time()))
    platform = PlatformProcess(url, 4, log=tmp / "feed.log")  # seeds the demo, then we add
    try:
        now = int(time.time())
        day = store.local_today(now) + timedelta(days=1)
        for i in range(n):
            start = 8 * 60 + 30 * (i % 16)
            store.create_booking(NewBooking(
                station=DEMO_STATION_ID, service="A", day=day, slot_start=start,
                slot_end=start + 30, name=f"居民{i}", phone=f"139{i:08d}", birth_year=1970,
                priority=None, vaccine_product=None, vaccine_dose=None), now)
        host, port = platform.url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        headers = {"Authorization": f"Bearer {DEMO_STATION_TOKEN}"}
        cursor, seen, pages = "0", 0, 0
        started = time.perf_counter()
        while True:
            conn.request("GET", f"/api/v1/stations/{DEMO_STATION_ID}/bookings?cursor={cursor}"
                         "&limit=500", headers=headers)
            page = json.loads(conn.getresponse().read())
            seen += len(page["bookings"])
            pages += 1
            cursor = page["next_cursor"]
            if not page["has_more"]:
                break
        elapsed = time.perf_counter() - started
        conn.close()
        assert seen >= n, seen
        emit("platform_feed_5k_postgres", elapsed, "s", seen)
    finally:
        platform.stop()
        store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The reference platform's ingest and feed.")
    parser.add_argument("--stations", type=int, default=50, help="simulated stations")
    parser.add_argument("--per-station", type=int, default=1000,
                        help="events each simulated station pushes")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        ingest_10k(f"sqlite:///{tmp / 'central.sqlite3'}", tmp, "sqlite")
        try:
            server = PostgresServer(max_connections=200)
        except PostgresUnavailable as err:
            print(json.dumps({"name": "platform_postgres", "skipped": str(err)}), flush=True)
            return 0
        try:
            ingest_10k(server.create_database(), tmp, "postgres")
            ingest_50_stations(server.create_database(), tmp, args.stations,
                               args.per_station)
            feed_5k(server.create_database(), tmp)
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
