"""Benchmark of check-in with a signed booking code over HTTP; prints JSON lines (bench tooling).

The station runs on a real SQLite file in a temp dir behind a live server on 127.0.0.1 with
the real clock; each run checks a different booking in (a new ticket, one committed
transaction), plus a run of replays (the same code again: 200, no write).
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
from datetime import datetime, timedelta
from pathlib import Path

import requests
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contracts.bookingcode import BookingClaims, sign_booking  # noqa: E402
from contracts.demo import DEMO_KEY_ID, demo_private_key  # noqa: E402
from server import config  # noqa: E402
from server.web import create_app  # noqa: E402

KIOSK = {"Authorization": "Bearer demo-kiosk-token"}


def emit(name: str, value: float, unit: str, n: int) -> None:
    print(json.dumps({"name": name, "value": round(value, 3), "unit": unit, "n": n}), flush=True)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def codes(settings: config.Settings, n: int) -> list[str]:
    now = datetime.now(settings.timezone)
    # a slot open now, so no check-in is refused as too early or late
    start = max(0, min(now.hour * 60 + now.minute - 5, 1410))
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(),
                                tzinfo=settings.timezone)
    return [sign_booking(BookingClaims(f"BENCH{i:05d}", settings.station_id, "V", now.date(),
                                       start, start + 30, int(midnight.timestamp()), "张*三"),
                         demo_private_key(), DEMO_KEY_ID) for i in range(n)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time check-in with a signed code over HTTP.")
    parser.add_argument("--runs", type=int, default=300, help="check-ins to time (>= 200)")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="clinicq-bench-") as tmp:
        settings = replace(config.load(demo=True), database=str(Path(tmp) / "station.db"))
        app = create_app(settings)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{server.server_port}/api/v1/checkins"
        try:
            todo = codes(settings, args.runs + 20)
            with requests.Session() as http:
                for code in todo[:20]:  # warm up: connections, key cache, first day's open
                    http.post(url, json={"code": code}, headers=KIOSK, timeout=5)
                new, again = [], []
                for code in todo[20:]:
                    t0 = time.perf_counter()
                    r = http.post(url, json={"code": code}, headers=KIOSK, timeout=5)
                    new.append((time.perf_counter() - t0) * 1000)
                    assert r.status_code == 201, r.text
                for code in todo[20:]:
                    t0 = time.perf_counter()
                    r = http.post(url, json={"code": code}, headers=KIOSK, timeout=5)
                    again.append((time.perf_counter() - t0) * 1000)
                    assert r.status_code == 200, r.text
        finally:
            server.shutdown()
            server.server_close()
            app.extensions["clinicq"].store.close()
    emit("checkin_signed_http_p50", statistics.median(new), "ms", len(new))
    emit("checkin_signed_http_p99", percentile(new, 99), "ms", len(new))
    emit("checkin_signed_replay_http_p50", statistics.median(again), "ms", len(again))
    emit("checkin_signed_replay_http_p99", percentile(again, 99), "ms", len(again))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
