"""Benchmark of recording a dose over HTTP (issue 9): trace code sent → `vaccination.recorded`
committed and answered, p50 and p99; prints JSON lines.

The server runs as its own process (`clinicq serve --demo`, the shipped config.toml) on a fresh
SQLite file. Each timed request is a nurse's scan of a new box for a ticket already screened
and called to a vaccination desk; getting it there is not timed. `walkin_http` is printed
alongside for scale: the simplest committed command over the same HTTP and disk.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import StationProcess, emit_distribution, unthrottled  # noqa: E402

from contracts.demo import DEMO_TRACE_CODE  # noqa: E402
from server import config  # noqa: E402

KIOSK = {"Authorization": "Bearer demo-kiosk-token"}


def nurse(url: str) -> requests.Session:
    s = requests.Session()
    r = s.post(f"{url}/api/v1/login", json={"username": "demo-nurse", "password": "demo-nurse"})
    s.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Vaccination recording latency over HTTP.")
    parser.add_argument("--runs", type=int, default=200, help="doses recorded (timed)")
    args = parser.parse_args(argv)
    questions = config.load().screening_questions
    with tempfile.TemporaryDirectory() as tmp:
        station = StationProcess(Path(tmp) / "station.db", config_file=unthrottled(Path(tmp)))
        try:
            url = station.url
            kiosk = requests.Session()
            kiosk.headers.update(KIOSK)
            desk = nurse(url)
            timings, walkins = [], []
            for i in range(args.runs):
                t0 = time.perf_counter()
                ticket = kiosk.post(f"{url}/api/v1/tickets", json={"service": "V"}).json()
                walkins.append((time.perf_counter() - t0) * 1000)
                r = kiosk.post(f"{url}/api/v1/tickets/{ticket['id']}/screening",
                               json={"answers": dict.fromkeys(questions, False)})
                assert r.status_code == 200 and r.json()["stage"] == "vaccination", r.text
                r = desk.post(f"{url}/api/v1/counters/V1/call-next")
                assert r.status_code == 200 and r.json()["id"] == ticket["id"], r.text
                trace_code = DEMO_TRACE_CODE[:-6] + f"{500000 + i:06d}"  # a new box each time
                body = {"trace_code": trace_code, "site": "left_deltoid",
                        "route": "intramuscular"}
                t0 = time.perf_counter()
                r = desk.post(f"{url}/api/v1/tickets/{ticket['id']}/vaccinate", json=body)
                timings.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200 and r.json()["status"] == "observing", r.text
            emit_distribution("vaccinate_http", timings)
            emit_distribution("walkin_http", walkins)
        finally:
            station.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
