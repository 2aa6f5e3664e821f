"""Reports (server/store/reports.py, server/web/reports_api.py): a day built by hand through the
public API on a set clock, every figure of its summary worked out on paper beforehand; the
CSVs; bad ranges; a nurse refused."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from report_day import DAY, build_day
from support import KIOSK, TZ, FakeClock, login

from server.store import Store


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 27, 8, 0, tzinfo=TZ))


@pytest.fixture
def day(client: FlaskClient, store: Store, clock: FakeClock) -> dict[str, int]:
    """The hand-built day (tests/report_day.py); the wait each ticket was told."""
    return build_day(client, store, clock)


def admin(client: FlaskClient) -> None:
    login(client, "demo-admin")


def summary(client: FlaskClient, start: str = DAY, end: str = DAY) -> dict:
    r = client.get(f"/api/v1/reports/summary?from={start}&to={end}")
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_the_wait_told_at_check_in_is_kept_on_the_ticket(client: FlaskClient, store: Store,
                                                         day: dict[str, int]) -> None:
    assert day == {"A001": 0, "A002": 0, "A003": 5, "A004": 0, "A005": 0, "V001": 4,
                   "A006": 0}
    kept = dict(store.db.execute("SELECT number, issued_eta_minutes FROM tickets").fetchall())
    assert kept == day


def test_the_days_figures_are_the_hand_worked_ones(client: FlaskClient,
                                                   day: dict[str, int]) -> None:
    admin(client)
    s = summary(client)
    counts = {"arrivals": 7, "booked": 3, "walkin": 4, "late": 1, "priority": 0, "no_show": 1,
              "cancelled": 1}
    t = s["totals"]
    assert {k: t[k] for k in counts} == counts
    # waits 5, 6, 10, 15, 15 (the no-show and the cancelled left out)
    assert t["wait"] == {"n": 5, "median": 10.0, "p90": 15.0, "mean": 10.2}
    # errors +6, +15, +10, +15, +1: absolute 1, 6, 10, 15, 15; bias 47 / 5
    assert t["estimate_error"] == {"n": 5, "median": 10.0, "p90": 15.0, "mean": 9.4,
                                   "bias": 9.4}
    assert len(s["days"]) == 1 and s["days"][0]["day"] == DAY
    assert {k: s["days"][0][k] for k in counts} == counts
    assert s["days"][0]["wait"] == t["wait"]
    hours = {h["hour"]: h for h in s["hours"]}
    assert sorted(hours) == [8, 9, 10]
    assert {k: hours[8][k] for k in counts} == {"arrivals": 5, "booked": 2, "walkin": 3,
                                                "late": 1, "priority": 0, "no_show": 1,
                                                "cancelled": 0}
    assert (hours[9]["arrivals"], hours[9]["booked"], hours[10]["cancelled"]) == (1, 1, 1)
    # 08:00 hour: waits 6, 10, 15, 15 -> median (10 + 15) / 2, p90 at rank 4
    assert hours[8]["wait"] == {"n": 4, "median": 12.5, "p90": 15.0, "mean": 11.5}
    assert hours[9]["wait"] == {"n": 1, "median": 5.0, "p90": 5.0, "mean": 5.0}
    assert hours[10]["wait"]["n"] == 0 and hours[10]["wait"]["median"] is None
    assert hours[8]["estimate_error"]["median"] == 12.5  # |errors| 6, 10, 15, 15
    assert hours[9]["estimate_error"]["bias"] == 1.0


def test_service_times_counters_and_doses(client: FlaskClient, day: dict[str, int]) -> None:
    admin(client)
    s = summary(client)
    times = {(r["service"], r["stage"]): r for r in s["service_times"]}
    assert set(times) == {("A", None), ("V", "vaccination")}
    # A: 4, 6, 8, 10
    assert {k: times[("A", None)][k] for k in ("n", "median", "p90", "mean")} == \
        {"n": 4, "median": 7.0, "p90": 10.0, "mean": 7.0}
    assert times[("V", "vaccination")]["median"] == 3.0
    assert [r["day"] for r in s["service_times_by_day"]] == [DAY, DAY]
    counters = {c["counter"]: c for c in s["counters"]}
    assert {c: counters[c]["served"] for c in counters} == {"A1": 3, "B1": 1, "V1": 1}
    assert counters["A1"]["service_time"]["median"] == 8.0  # 4, 8, 10
    assert counters["A1"]["service_time"]["mean"] == 7.3
    assert s["vaccinations"] == [{"day": DAY, "product": "HepB", "name": "乙肝疫苗",
                                  "name_en": "Hepatitis B vaccine", "dose": 1, "n": 1}] or \
        [(v["product"], v["dose"], v["n"]) for v in s["vaccinations"]] == [("HepB", 1, 1)]


def test_a_range_has_every_day_and_other_days_stay_out(client: FlaskClient,
                                                       day: dict[str, int]) -> None:
    admin(client)
    s = summary(client, "2026-11-25", "2026-11-28")
    assert [d["day"] for d in s["days"]] == ["2026-11-25", "2026-11-26", DAY, "2026-11-28"]
    assert [d["arrivals"] for d in s["days"]] == [0, 0, 7, 0]
    empty = summary(client, "2026-11-28", "2026-11-28")
    assert empty["totals"]["arrivals"] == 0 and empty["hours"] == []
    assert empty["service_times"] == [] and empty["vaccinations"] == []


def read_csv(client: FlaskClient, path: str) -> list[dict[str, str]]:
    r = client.get(path, buffered=False)  # as a server sends it: streamed, not read whole first
    assert r.status_code == 200, r.data[:200]
    assert r.content_type == "text/csv; charset=utf-8"
    assert r.is_streamed
    assert r.data.startswith("\ufeff".encode())  # Excel then reads it as UTF-8
    assert "attachment" in r.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(r.data.decode("utf-8-sig"))))


def test_the_tickets_csv(client: FlaskClient, day: dict[str, int]) -> None:
    admin(client)
    rows = read_csv(client, f"/api/v1/reports/tickets.csv?from={DAY}&to={DAY}")
    assert [r["number"] for r in rows] == ["A001", "A002", "A003", "A004", "A005", "A006",
                                           "V001"]
    by = {r["number"]: r for r in rows}
    assert by["A002"]["wait_minutes"] == "15.0" and by["A002"]["issued_eta_minutes"] == "0"
    assert by["A003"]["status"] == "no_show" and by["A006"]["wait_minutes"] == ""
    assert "name" not in rows[0] and "booking_id" not in rows[0]  # no names leave this way
    assert read_csv(client, "/api/v1/reports/tickets.csv?from=2026-11-28&to=2026-11-28") == []


def test_the_tickets_csv_pages_through_many(client: FlaskClient, store: Store,
                                            monkeypatch: pytest.MonkeyPatch,
                                            day: dict[str, int]) -> None:
    from server.store import reports
    monkeypatch.setattr(reports, "CSV_PAGE", 2)  # 7 tickets: pages of 2, 2, 2, 1
    admin(client)
    rows = read_csv(client, f"/api/v1/reports/tickets.csv?from={DAY}&to={DAY}")
    assert len(rows) == 7 and len({r["id"] for r in rows}) == 7


@pytest.mark.parametrize("table, first", [
    ("days", {"day": DAY, "arrivals": "7", "wait_median_min": "10.0",
              "estimate_error_bias_min": "9.4"}),
    ("hours", {"hour": "8", "arrivals": "5", "wait_median_min": "12.5"}),
    ("service_times", {"service": "A", "stage": "", "service_n": "4",
                       "service_median_min": "7.0"}),
    ("counters", {"counter": "A1", "served": "3", "service_median_min": "8.0"}),
    ("vaccinations", {"product": "HepB", "dose": "1", "n": "1"}),
])
def test_every_table_of_the_summary_as_csv(client: FlaskClient, day: dict[str, int],
                                           table: str, first: dict[str, str]) -> None:
    admin(client)
    rows = read_csv(client, f"/api/v1/reports/{table}.csv?from={DAY}&to={DAY}")
    assert {k: rows[0][k] for k in first} == first


@pytest.mark.parametrize("query, code, field", [
    ("", "field_missing", "from"),
    ("from=2026-11-27", "field_missing", "to"),
    ("from=2026-11-27&to=tomorrow", "field_invalid", "to"),
    ("from=2026-02-30&to=2026-03-01", "field_invalid", "from"),
    ("from=27/11/2026&to=2026-11-27", "field_invalid", "from"),
    ("from=2026-11-28&to=2026-11-27", "range_reversed", None),
    ("from=2025-11-26&to=2026-11-27", "range_too_long", None),
])
@pytest.mark.parametrize("path", ["summary", "tickets.csv", "days.csv"])
def test_bad_ranges_are_refused(client: FlaskClient, query: str, code: str, field: str | None,
                                path: str) -> None:
    admin(client)
    r = client.get(f"/api/v1/reports/{path}?{query}")
    assert r.status_code == 400
    e = r.get_json()["error"]
    assert e["code"] == code
    assert e["message"] and e["message_zh"] and e["message"] != e["message_zh"]
    assert "?" not in e["message"] and "{" not in e["message_zh"]
    if field:
        assert field in e["message"]


def test_a_year_with_a_leap_day_is_not_too_long(client: FlaskClient) -> None:
    admin(client)
    assert len(summary(client, "2027-03-01", "2028-02-29")["days"]) == 366


def test_a_nurse_and_a_kiosk_are_refused(client: FlaskClient) -> None:
    q = f"?from={DAY}&to={DAY}"
    assert client.get("/api/v1/reports/summary" + q).status_code == 401
    assert client.get("/api/v1/reports/summary" + q, headers=KIOSK).status_code == 403
    login(client)  # demo-nurse
    for path in ("summary", "tickets.csv", "vaccinations.csv"):
        r = client.get(f"/api/v1/reports/{path}{q}")
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
    assert client.get("/admin/reports").status_code == 403
    assert client.get(f"/admin/reports/print?day={DAY}").status_code == 403
    assert client.get("/api/v1/reports/secrets.csv" + q).status_code == 403
    admin(client)
    r = client.get("/api/v1/reports/secrets.csv" + q)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"


def test_the_print_page_has_the_days_figures(client: FlaskClient, day: dict[str, int]) -> None:
    admin(client)
    r = client.get(f"/admin/reports/print?day={DAY}&lang=en")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "Daily summary" in page and DAY in page and "@media print" not in page
    assert "Consulting room 1" in page  # A1 by its name
    assert client.get("/admin/reports/print?day=yesterday").status_code == 400
    zh = client.get(f"/admin/reports/print?day={DAY}&lang=zh").get_data(as_text=True)
    assert "每日汇总" in zh and "等候时间中位数" in zh


def test_the_reports_page_is_linked_and_loads_chart_js_from_the_station(
        client: FlaskClient, app: Flask) -> None:
    admin(client)
    page = client.get("/admin/reports").get_data(as_text=True)
    assert 'href="/admin/reports"' in page and "/static/vendor/chart-4.6.1.umd.min.js" in page
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page
    js = client.get("/static/vendor/chart-4.6.1.umd.min.js")
    assert js.status_code == 200 and b"Chart.js v4.6.1" in js.data[:200]
    js.close()
    assert 'href="/admin/reports"' in client.get("/admin/devices").get_data(as_text=True)


NEW_COLUMNS = {"tickets": ("issued_eta_minutes", "issued_hour", "wait_seconds"),
               "events": ("service", "stage", "served_ms", "served_stage")}


def test_m017_fills_in_a_ledger_written_before_it(client: FlaskClient, store: Store,
                                                  day: dict[str, int]) -> None:
    """A station upgraded with days in its ledger: m017 works out for the rows already
    there what the store now writes with each row, the same values."""
    from sqlite_utils import Database

    from server.store import migrations as m
    old = Database(memory=True)
    before = [mig for mig in m.migrations._migrations if mig.name < "m017"]
    for mig in before:
        mig.fn(old)
    for table, added in NEW_COLUMNS.items():
        known = set(old[table].columns_dict)  # columns of later migrations left out too
        rows = [{k: v for k, v in r.items() if k not in added and k in known}
                for r in store.db[table].rows_where(order_by="rowid")]
        old.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")  # rows go in as written
        old[table].insert_all(rows)
    old.execute("CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
                "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END")
    m.m017_add_report_columns(old)
    for table, added in NEW_COLUMNS.items():
        cols = ", ".join(added)
        key = "id" if table == "tickets" else "seq"
        live = store.db.execute(f"SELECT {key}, {cols} FROM {table} ORDER BY {key}").fetchall()
        filled = old.execute(f"SELECT {key}, {cols} FROM {table} ORDER BY {key}").fetchall()
        if table == "tickets":  # what was told at check-in was never recorded before m017
            live = [r[:1] + (None,) + r[2:] for r in live]
        assert filled == live
    assert sum(1 for r in live if r[3] is not None) == 5  # the five stages served
    with pytest.raises(Exception, match="append-only"):
        old.execute("UPDATE events SET stage = 'x'")


def test_the_summary_reads_through_the_indexes(store: Store) -> None:
    """No query of the summary scans a table: each searches a range of an index that holds
    every column it reads (the join to a ticket's service and day is one lookup by id)."""
    from server.store import reports
    params = reports._id_range(date(2026, 11, 1), date(2026, 11, 30))
    for sql in (reports._BY_HOUR, reports._SERVICE_TIMES, reports._VACCINATIONS):
        plan = [r[3] for r in store.db.execute("EXPLAIN QUERY PLAN " + sql, params)]
        on_tables = [p for p in plan if p.split(" ")[1] in ("tickets", "events", "vaccinations",
                                                           "v", "t", "c")]
        assert on_tables, plan
        for step in on_tables:
            assert step.startswith("SEARCH"), plan
            assert "COVERING INDEX" in step or "(id=?)" in step or "(code=?)" in step, plan


def test_a_transfer_is_no_new_arrival_and_is_told_no_wait(client: FlaskClient, store: Store,
                                                          clock: FakeClock) -> None:
    nurse = login(client)
    r = client.post("/api/v1/tickets", json={"service": "A"}, headers=KIOSK)
    ticket = r.get_json()["id"]
    clock.advance(minutes=3)
    client.post("/api/v1/counters/A1/call-next", headers=nurse)
    client.post(f"/api/v1/tickets/{ticket}/start", headers=nurse)
    clock.advance(minutes=5)
    r = client.post(f"/api/v1/tickets/{ticket}/transfer", json={"service": "B"}, headers=nurse)
    assert r.status_code == 200, r.get_json()
    told = dict(store.db.execute("SELECT id, issued_eta_minutes FROM tickets").fetchall())
    assert told == {ticket: 0, f"{ticket}-B": None}  # a free counter: no wait
    admin(client)
    s = summary(client)
    assert s["totals"]["arrivals"] == 1 and s["totals"]["wait"]["median"] == 3.0
    # the stage served at A1 ended with the transfer: 5 minutes
    assert [(c["counter"], c["served"], c["service_time"]["median"]) for c in s["counters"]] \
        == [("A1", 1, 5.0)]
