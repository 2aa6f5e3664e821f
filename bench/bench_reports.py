"""Benchmark of the reports (issue 13): a 30-day range of 100,000 tickets in a SQLite file,
`GET /api/v1/reports/summary` and `GET /api/v1/reports/tickets.csv` timed in the server (the
Flask app's own request handling, no network), median of several runs; prints JSON lines.

The tickets are written straight into the store's tables in one transaction, shaped as the
engine writes them (ids, days, times in the station's timezone, the ledger's events with the
ticket as JSON): doctor visits (issued, called, started, completed), vaccinations (issued,
screened at the kiosk, called to the desk, started, dose recorded, observation), some
no-shows and cancellations. Targets: summary ≤ 300 ms, CSV ≤ 2 s.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import emit  # noqa: E402

from server import config  # noqa: E402
from server.store import Store, codec  # noqa: E402
from server.web import create_app  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
FIRST = date(2026, 3, 2)
PRODUCTS = (("HepB", 3), ("Flu4", 1), ("HPV9", 3), ("PPV23", 1), ("RZV", 2))


def _ticket_row(**values: object) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(codec.TICKET_COLUMNS)
    row.update(priority=0, late=0, recalls=0, version=1, flagged=0, cleared=0,
               screening_yes="[]")
    row.update(values)
    return row


def build(store: Store, tickets: int, days: int, seed: int = 13) -> int:
    """`tickets` tickets spread over `days` days from FIRST; returns the events written."""
    rng = random.Random(seed)
    per_day = tickets // days
    ticket_rows, event_rows, dose_rows = [], [], []
    seq = 0

    def event(kind: str, t: dict[str, object], at: datetime, counter: str | None = None,
              stage: str | None = None, served: datetime | None = None,
              served_stage: str | None = None) -> None:
        nonlocal seq
        seq += 1
        served_ms = None if served is None else round((at - served).total_seconds() * 1000)
        event_rows.append((uuid.uuid4().hex, seq, kind, t["id"], counter, None,
                           at.isoformat(), json.dumps(t, ensure_ascii=False), None,
                           t["service"], stage, served_ms, served_stage))

    for d in range(days):
        day = FIRST + timedelta(days=d)
        numbers = {"A": 0, "V": 0}
        opens = datetime(day.year, day.month, day.day, 8, 0, tzinfo=TZ)
        for i in range(per_day + (1 if d < tickets % days else 0)):
            service = "V" if i % 3 == 0 else "A"
            numbers[service] += 1
            number = f"{service}{numbers[service]:04d}"
            issued = opens + timedelta(seconds=rng.uniform(0, 9 * 3600))
            kind = "booked" if rng.random() < 0.6 else "walkin"
            called = issued + timedelta(minutes=rng.expovariate(1 / 14))
            started = called + timedelta(minutes=rng.uniform(0.3, 2))
            done = started + timedelta(minutes=rng.lognormvariate(1.6, 0.4))
            counter = rng.choice(("V1", "V2") if service == "V" else ("A1", "B1"))
            t = _ticket_row(id=f"{day:%Y%m%d}-{number}", day=day.isoformat(), service=service,
                            number=number, seq_no=numbers[service], kind=kind,
                            issued_at=issued.isoformat(), code=uuid.uuid4().hex[:16],
                            late=int(kind == "booked" and rng.random() < 0.05),
                            issued_eta_minutes=max(0, round(rng.gauss(14, 6))),
                            stage="screening" if service == "V" else None, status="waiting")
            event("ticket.issued", t, issued, stage=t["stage"])
            fate = rng.random()
            if fate < 0.03:  # cancelled while waiting
                t.update(status="cancelled", finished_at=called.isoformat())
                event("ticket.cancelled", t, called)
            elif fate < 0.08:  # called, never came
                t.update(status="called", called_at=called.isoformat(), counter=counter)
                event("ticket.called", t, called, counter, t["stage"])
                t.update(status="no_show", finished_at=(called + timedelta(minutes=3))
                         .isoformat())
                event("ticket.no_show", t, called + timedelta(minutes=3), counter)
            elif service == "V":
                t.update(stage="vaccination")
                event("ticket.advanced", t, issued + timedelta(minutes=1), None, "vaccination")
                t.update(status="called", called_at=called.isoformat(), counter=counter)
                event("ticket.called", t, called, counter, "vaccination")
                t.update(status="serving", started_at=started.isoformat())
                event("ticket.started", t, started, counter, "vaccination")
                product, doses = rng.choice(PRODUCTS)
                dose = rng.randint(1, doses)
                t.update(status="observing", stage="observation", vaccine=product, dose=dose,
                         observation_ends_at=(done + timedelta(minutes=30)).isoformat())
                event("vaccination.recorded", t, done, counter, "observation", started,
                      "vaccination")
                event("observation.started", t, done, counter, "observation")
                dose_rows.append((seq, t["id"], None, f"86{seq:018d}", product, "LOT1",
                                  "2028-01-01", dose, "left_deltoid", "intramuscular",
                                  "nurse", done.isoformat(timespec="seconds")))
                t.update(status="released", finished_at=(done + timedelta(minutes=30))
                         .isoformat())
                event("observation.released", t, done + timedelta(minutes=30), None,
                      "observation")
            else:
                t.update(status="called", called_at=called.isoformat(), counter=counter)
                event("ticket.called", t, called, counter)
                t.update(status="serving", started_at=started.isoformat())
                event("ticket.started", t, started, counter)
                t.update(status="done", finished_at=done.isoformat())
                event("ticket.completed", t, done, counter, None, started, None)
            t.update(issued_hour=issued.hour, wait_seconds=None if t["called_at"] is None
                     else round((called - issued).total_seconds()))
            ticket_rows.append(t)
    columns = codec.TICKET_COLUMNS + codec.REPORT_COLUMNS
    with store._write() as db:
        conn = db.conn
        conn.executemany(
            f"INSERT INTO tickets ({', '.join(columns)}) VALUES "
            f"({', '.join('?' for _ in columns)})",
            [tuple(t[c] for c in columns) for t in ticket_rows])
        conn.executemany(
            "INSERT INTO events (id, seq, type, ticket_id, counter, reason, at, ticket, detail, "
            "service, stage, served_ms, served_stage) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", event_rows)
        conn.executemany(
            "INSERT INTO vaccinations (seq, ticket_id, booking_id, trace_code, product, lot, "
            "expires, dose, site, route, nurse, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            dose_rows)
    store.db.execute("ANALYZE")
    return len(event_rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Reports over a 30-day range of tickets.")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each request")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "station.db"
        store = Store(path)
        began = time.perf_counter()
        events = build(store, args.tickets, args.days)
        emit("reports_build_s", time.perf_counter() - began, "s", args.tickets)
        settings = replace(config.load(database=str(path)), demo=True)
        app = create_app(settings, store=store, testing=True)
        client = app.test_client()
        r = client.post("/api/v1/login", json={"username": "demo-admin",
                                                "password": "demo-admin"})
        assert r.status_code == 200, r.get_json()
        last = FIRST + timedelta(days=args.days - 1)
        q = f"?from={FIRST}&to={last}"
        summary, exported = [], []
        client.get("/api/v1/reports/summary" + q)  # the first request warms Flask's own caches
        for _ in range(args.runs):
            began = time.perf_counter()
            r = client.get("/api/v1/reports/summary" + q)
            body = r.get_json()
            summary.append((time.perf_counter() - began) * 1000)
            assert r.status_code == 200 and body["totals"]["arrivals"] == args.tickets, body
        for _ in range(max(3, args.runs // 2)):
            began = time.perf_counter()
            r = client.get("/api/v1/reports/tickets.csv" + q)
            size = len(r.get_data())
            exported.append((time.perf_counter() - began) * 1000)
            assert r.status_code == 200 and size > args.tickets * 50
        emit("reports_summary_30d_ms", statistics.median(summary), "ms", len(summary))
        emit("reports_tickets_csv_30d_ms", statistics.median(exported), "ms", len(exported))
        emit("reports_events_rows", events, "rows", 1)
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
