"""Benchmark of the kiosk path: scan → check-in over HTTP → ticket handed to the printer driver.

A station server runs in-process on a real loopback socket and a real SQLite file (WAL,
synchronous=FULL, so every check-in waits for its commit), with a Socket.IO client in the
kiosk's room so the server's push to the screen is part of each request. The agent runs its
real loop step with the fake scanner and the recording printer. Prints one JSON line per
figure: {"name", "value", "unit", "n"}. Target: p50 ≤ 150 ms.

    .venv/bin/python bench/bench_kiosk.py [--runs 300] [--preview-runs 40]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import socketio
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hardware.printer import FakePrinter, PreviewPrinter, Printer  # noqa: E402
from hardware.scanner.fake import FakeScanner  # noqa: E402
from kiosk.agent import KioskAgent  # noqa: E402
from kiosk.client import StationClient  # noqa: E402
from server import config  # noqa: E402
from server.demo import demo_bookings  # noqa: E402
from server.store import Store  # noqa: E402
from server.web import create_app  # noqa: E402

TOKEN = "demo-kiosk-token"


def emit(name: str, value: float, unit: str, n: int) -> None:
    print(json.dumps({"name": name, "value": round(value, 3), "unit": unit, "n": n}), flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def bench_bookings(settings: config.Settings, now: datetime, count: int) -> list[dict]:
    """`count` bookings of service V whose slot is open at `now` (copies of a demo row)."""
    template = demo_bookings(settings, now.date())[0]
    return [{**template, "id": f"bench-{i:05d}", "code": f"BENCH-{i:05d}", "service": "V",
             "slot_start": "08:30", "slot_end": "09:30", "status": "booked", "priority": 0}
            for i in range(count)]


def measure(agent: KioskAgent, scanner: FakeScanner, printer: Printer, codes: list[str]
            ) -> list[float]:
    """Milliseconds from the scanner read to the layout being in the printer's hands."""
    times = []
    printed = printer.printed  # type: ignore[attr-defined]
    for code in codes:
        before = len(printed)
        scanner.feed(code)
        start = time.perf_counter()
        agent.step(timeout=2.0)
        times.append((time.perf_counter() - start) * 1000)
        if len(printed) != before + 1:
            raise SystemExit(f"bench: {code} was not printed: {list(agent.outcomes)[-1]}")
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300, help="check-ins to time (default 300)")
    parser.add_argument("--preview-runs", type=int, default=40,
                        help="check-ins with the PNG preview printer (default 40; 0 skips)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    tmp = Path(tempfile.mkdtemp(prefix="clinicq-bench-kiosk-"))
    # the bench scans as fast as it can, far past a kiosk's check-in limit (server/throttle.py)
    settings = replace(config.load(demo=True), database=str(tmp / "station.db"),
                       kiosk_checkins_per_minute=10**6, kiosk_checkin_burst=10**6)
    fixed = datetime(2026, 11, 27, 9, 0, tzinfo=settings.timezone)
    store = Store(settings.database)
    app = create_app(settings, store=store, clock=lambda: fixed)
    store.upsert_bookings(bench_bookings(settings, fixed, args.runs + args.preview_runs))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    screen = socketio.Client(reconnection=False)
    screen.connect(url, auth={"token": TOKEN}, transports=["polling"], wait_timeout=5)
    client = StationClient(url, TOKEN)
    try:
        scanner = FakeScanner(dedupe_seconds=0)
        printer = FakePrinter()
        agent = KioskAgent(client, scanner, printer)
        measure(agent, scanner, printer, ["DEMO-V001"] * 5)  # warm up: connection, station name
        codes = [f"BENCH-{i:05d}" for i in range(args.runs)]
        new = measure(agent, scanner, printer, codes)
        again = measure(agent, scanner, printer, codes[: max(args.runs // 2, 1)])
        emit("kiosk_scan_to_printer_p50", statistics.median(new), "ms", len(new))
        emit("kiosk_scan_to_printer_p99", percentile(new, 0.99), "ms", len(new))
        emit("kiosk_reprint_scan_to_printer_p50", statistics.median(again), "ms", len(again))
        if args.preview_runs:
            preview = PreviewPrinter(tmp / "tickets")
            agent = KioskAgent(client, scanner, preview)
            codes = [f"BENCH-{i:05d}" for i in range(args.runs, args.runs + args.preview_runs)]
            times = measure(agent, scanner, preview, codes)
            emit("kiosk_scan_to_preview_png_p50", statistics.median(times), "ms", len(times))
    finally:
        client.close()
        screen.disconnect()
        server.shutdown()
        server.server_close()
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
