"""The hand-built day of the reports tests (tests/test_reports.py works its figures out on
paper; tests/browser/test_admin_reports.py shows them): tickets through the public API on a
set clock."""

from __future__ import annotations

import json

from flask.testing import FlaskClient
from support import KIOSK, FakeClock, login

from contracts.demo import DEMO_TRACE_CODE
from server.store import Store

DAY = "2026-11-27"
ALL_NO = {"fever": False, "allergy": False, "past_reaction": False, "recent_vaccine": False,
          "pregnancy": False, "immune": False, "illness": False}


def at(clock: FakeClock, hhmm: str) -> None:
    h, m = map(int, hhmm.split(":"))
    clock.now = clock.now.replace(hour=h, minute=m, second=0, microsecond=0)


def booking(store: Store, n: int, service: str, start: str, end: str,
            vaccine: dict | None = None) -> str:
    store.upsert_bookings([{
        "id": f"rep-{n}", "code": f"REP-{n:03d}", "station": "demo-station",
        "service": service, "day": DAY, "slot_start": start, "slot_end": end, "name": "王五",
        "name_masked": "王*", "phone_last4": "0000", "priority": 0, "status": "booked",
        "updated_at": None, "vaccine": json.dumps(vaccine) if vaccine else None}])
    return f"REP-{n:03d}"


def build_day(client: FlaskClient, store: Store, clock: FakeClock) -> dict[str, int]:
    """The hand-built day; returns the wait each ticket was told, as the API answered it.

    service A (one stage; A1 and B1 serve it: 2 counters; default 8 min), V (screening →
    vaccination; 3 counters screen; default 4 min). What each is told is the station's
    estimate (server/engine/policy.py stage_waits: a free counter calls at once, a busy one
    after the rest of its resident), checked on its own in tests/test_engine_policy.py:
      08:00 A001 walk-in      told 0 (both counters free)   called 08:06 (wait 6, error +6)
      08:00 A002 walk-in      told 0 (the second counter)   called 08:15 (wait 15, +15)
      08:10 A003 walk-in      told 5             called 08:21, recalled twice: no-show
      08:40 A004 booked       told 0             called 08:50 (wait 10, +10)
      08:40 A005 booked, late told 0             called 08:55 by B1 (wait 15, +15)
      09:00 V001 booked HepB  told 4             screened at the kiosk 09:01, called to
            the vaccination desk 09:05 (wait 5, +1)
      10:00 A006 walk-in, cancelled 10:05
    service times: A001 08:07→08:15 (8, A1), A002 08:16→08:20 (4, A1), A004 08:51→09:01
    (10, A1), A005 08:56→09:02 (6, B1), V001 vaccination 09:06→09:09 (3, V1).
    """
    nurse = login(client)
    told: dict[str, int] = {}

    def walk_in(service: str) -> str:
        r = client.post("/api/v1/tickets", json={"service": service}, headers=KIOSK)
        assert r.status_code == 201, r.get_json()
        told[r.get_json()["number"]] = r.get_json()["eta_minutes"]
        return r.get_json()["id"]

    def check_in(code: str) -> str:
        r = client.post("/api/v1/checkins", json={"code": code}, headers=KIOSK)
        assert r.status_code == 201, r.get_json()
        told[r.get_json()["number"]] = r.get_json()["eta_minutes"]
        return r.get_json()["id"]

    def call(counter: str, expect: str) -> None:
        r = client.post(f"/api/v1/counters/{counter}/call-next", headers=nurse)
        assert r.status_code == 200 and r.get_json()["number"] == expect, r.get_json()

    def act(ticket: str, action: str, **body: str) -> None:
        r = client.post(f"/api/v1/tickets/{ticket}/{action}", json=body or None, headers=nurse)
        assert r.status_code == 200, r.get_json()

    a4 = booking(store, 1, "A", "08:30", "09:00")
    a5 = booking(store, 2, "A", "07:00", "07:30")  # past its 15-minute grace: late
    v1 = booking(store, 3, "V", "08:45", "09:15", {"product": "HepB", "dose": 1})
    at(clock, "08:00")
    t1, t2 = walk_in("A"), walk_in("A")
    at(clock, "08:06")
    call("A1", "A001")
    at(clock, "08:07")
    act(t1, "start")
    at(clock, "08:10")
    t3 = walk_in("A")
    at(clock, "08:15")
    call("A1", "A002")  # completes A001
    at(clock, "08:16")
    act(t2, "start")
    at(clock, "08:20")
    act(t2, "complete")
    at(clock, "08:21")
    call("A1", "A003")
    for minute in ("08:22", "08:23", "08:24"):  # the third recall is past the limit
        at(clock, minute)
        act(t3, "recall")
    at(clock, "08:40")
    t4, t5 = check_in(a4), check_in(a5)
    at(clock, "08:50")
    call("A1", "A004")
    at(clock, "08:51")
    act(t4, "start")
    at(clock, "08:55")
    call("B1", "A005")
    at(clock, "08:56")
    act(t5, "start")
    at(clock, "09:00")
    tv = check_in(v1)
    at(clock, "09:01")
    act(t4, "complete")
    r = client.post(f"/api/v1/tickets/{tv}/screening", json={"answers": ALL_NO}, headers=KIOSK)
    assert r.get_json()["stage"] == "vaccination", r.get_json()
    at(clock, "09:02")
    act(t5, "complete", counter="B1")
    at(clock, "09:05")
    call("V1", "V001")
    at(clock, "09:06")
    act(tv, "start")
    at(clock, "09:09")
    r = client.post(f"/api/v1/tickets/{tv}/vaccinate", headers=nurse, json={
        "trace_code": DEMO_TRACE_CODE, "site": "left_deltoid", "route": "intramuscular"})
    assert r.status_code == 200, r.get_json()
    at(clock, "10:00")
    t6 = walk_in("A")
    at(clock, "10:05")
    act(t6, "cancel")
    client.post("/api/v1/logout", headers=nurse)
    return told
