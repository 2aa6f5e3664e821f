"""An offline day, rehearsed (issue 15 item 6): a real platform process and a real station
process on 127.0.0.1; the station pulls its bookings the evening before, then the link is cut
(tests/faultproxy.py refuses every request) from opening to close while a seeded day of
traffic (tests/offline_day.py) runs through the station's API: bookings checked in by their
signed QR code and by typed code, walk-ins, calls, no-shows, screening, doses with trace codes,
observation, residents who give up, bookings cancelled at the platform meanwhile, and the
station killed and started again halfway. Then the link comes back, and everything reconciles
as docs/sync.md says; all of it is read through the two sides' public APIs."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from faultproxy import FaultProxy
from offline_day import SLOT_MINUTES, Day, Station
from support import (
    OUTPUT,
    TZ,
    CentralProcess,
    StationProcess,
    free_port,
    station_config,
    wait_until,
)

from central.demo import DEMO_ADMIN_TOKEN
from contracts.demo import demo_bookings

pytestmark = pytest.mark.slow
SEED = 20261203
ADMIN = {"Authorization": f"Bearer {DEMO_ADMIN_TOKEN}"}
PLACE = {"lat": "30.2741", "lon": "120.1551"}  # the demo station's (central/demo.py)
# the platform's booking status for the station's last ticket status (docs/sync.md)
BOOKING_STATUS = {"done": "completed", "released": "completed", "no_show": "no_show",
                  "cancelled": "cancelled", "deferred": "deferred"}


@pytest.fixture
def central(tmp_path: Path) -> Iterator[CentralProcess]:
    proc = CentralProcess(f"sqlite:///{tmp_path / 'central.db'}", log=tmp_path / "central.log")
    yield proc
    proc.stop()


@pytest.fixture
def link(central: CentralProcess) -> Iterator[FaultProxy]:
    proxy = FaultProxy(central.url)
    yield proxy
    proxy.stop()


def kill(proc: StationProcess) -> None:
    """SIGKILL every process of the station at once, mid-day: no graceful anything."""
    for pid in reversed(proc.pids()):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.stop()


class Platform:
    def __init__(self, central: CentralProcess) -> None:
        self.url = central.url
        self.http = requests.Session()
        self.http.headers.update(ADMIN)

    def get(self, path: str, **params: str) -> Any:
        r = self.http.get(f"{self.url}{path}", params=params, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        r = self.http.post(f"{self.url}{path}", json=body, timeout=10)
        assert r.status_code in (200, 201), r.text
        return r.json()

    def day(self, day: str, items: bool = False) -> dict[str, Any]:
        return self.get("/api/v1/stations/demo-station/reconciliation", day=day,
                        **({"items": "1"} if items else {}))  # type: ignore[no-any-return]

    def heartbeat(self) -> dict[str, Any]:
        found = self.get("/api/v1/stations/nearby", limit="20", **PLACE)["stations"]
        return next(s for s in found if s["id"] == "demo-station")  # type: ignore[no-any-return]


def slot_around(now: datetime) -> str:
    """A real slot that holds `now` for the whole test: on time, neither early nor late."""
    start = max(0, now.hour * 60 + now.minute - 10)
    end = min(24 * 60, start + 40)
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60 % 24:02d}:{end % 60:02d}"


def typed_codes(now: datetime) -> list[str]:
    """Demo bookings of the doctor's service (typed as DEMO-A…) whose slot has begun or begins
    within the hour (so the station takes them: on time, or late and queued as a walk-in)."""
    def minutes(hhmm: str) -> int:
        return int(hhmm[:2]) * 60 + int(hhmm[3:])
    limit = now.hour * 60 + now.minute + 50
    ours = [b for b in demo_bookings(now.date()) if b["service"] == "A"
            and b["status"] == "booked"]
    taken = [b["code"] for b in ours if minutes(b["slot_start"]) <= limit]
    # before 07:10 every slot is more than an hour ahead: the station refuses them as early
    return taken[:3] or [b["code"] for b in ours[:2]]


def test_an_offline_day_reconciles_when_the_link_returns(
        tmp_path: Path, central: CentralProcess, link: FaultProxy) -> None:
    now = datetime.now(TZ)
    if now + timedelta(minutes=10) > datetime.combine(now.date() + timedelta(days=1),
                                                      datetime.min.time(), TZ):
        pytest.skip("the station's day would change during the test (minutes to midnight)")
    today = now.date().isoformat()
    platform = Platform(central)
    port = free_port()
    config_file = station_config(tmp_path, url=link.url, backoff_max_seconds=1,
                                 timeout_seconds=1.0, heartbeat_seconds=1,
                                 pull_interval_seconds=1)

    def start() -> StationProcess:
        return StationProcess(tmp_path / "station.db", port, config_file=config_file,
                              log=tmp_path / "station.log")

    day = Day(SEED)
    # -- the evening before, link up: bookings made at the platform reach the station ----------
    made = []
    for planned in day.plan_bookings():
        body = {"station": "demo-station", "service": planned["service"], "day": today,
                "slot": slot_around(now),
                "resident": {"name": planned["name"], "phone": planned["phone"],
                             "birth_year": planned["birth_year"]}}
        if planned["product"]:
            body["vaccine"] = {"product": planned["product"], "dose": 1}
        made.append((planned, platform.post("/api/v1/bookings", body)))
    station = Station(start)
    try:
        last = made[-1][1]
        wait_until(lambda: station.get("/api/v1/bookings", q=last["phone_last4"])["bookings"],
                   timeout=20, what="the station pulled the platform's bookings")
        wait_until(lambda: platform.heartbeat()["live"], timeout=20, what=platform.heartbeat)
        assert station.get("/api/v1/sync/status")["pending"] == 0
        # -- opening: the platform is unreachable until close ------------------------------
        cut_at = datetime.now(TZ)
        link.mode = "refuse"
        wait_until(lambda: link.count("/", "refuse"), timeout=20, what="the station tried")
        passed_before = link.count("/", "pass")  # (one in flight at the cut is counted)
        typed = typed_codes(now)
        day.plan(made, typed)
        absent = [r.booking for r in day.residents if r.kind == "booked" and r.absent]
        coming = [r.booking for r in day.residents if r.kind == "booked" and not r.absent]
        assert len(absent) >= 2 and len(coming) >= 2
        cancelled_absent, cancelled_coming = absent[:2], coming[:2]
        for booking in cancelled_absent + cancelled_coming:  # by phone, at the platform
            day.at(SLOT_MINUTES, lambda b=booking: platform.post(
                f"/api/v1/bookings/{b['id']}/cancel", {}))
        restart: dict[str, Any] = {}
        day.at(60, lambda: restart_station(station, today, restart))
        day.run(station)

        # -- close: nothing got through all day ---------------------------------------------
        status = station.get("/api/v1/sync/status")
        assert status["pending"] == status["last_seq"] > 250, status
        assert status["last_push_error"]
        assert link.count("/", "pass") == passed_before
        assert link.count("/events", "refuse") and link.count("/heartbeat", "refuse")
        assert link.count("/bookings", "refuse")  # the feed's pull, tried and refused too
        assert datetime.fromisoformat(platform.heartbeat()["updated_at"]) < cut_at
        assert platform.day(today)["events"] == 0
        assert restart["after"] == restart["before"], "the restart lost or changed events"
        assert restart["pending_after"] == restart["pending_before"] > 0
        for booking in cancelled_absent + cancelled_coming:
            assert platform.get(f"/api/v1/bookings/{booking['id']}")["status"] == "cancelled"

        # -- the link returns ---------------------------------------------------------------
        restored_at = datetime.now(TZ)
        link.mode = "pass"
        ours = wait_until(lambda: in_step(station, platform, today), timeout=60,
                          what=lambda: station.get("/api/v1/sync/status"))
        caught_up = (datetime.now(TZ) - restored_at).total_seconds()
        theirs = platform.day(today, items=True)
        status = station.get("/api/v1/sync/status")
        assert status["conflicts"] == status["rejected"] == 0 and not status["problems"]
        # every event once: seq 1..N without a gap, each id once, the same content both sides
        seqs = [i["seq"] for i in theirs["items"]]
        assert seqs == list(range(1, status["last_seq"] + 1))
        assert len({i["id"] for i in theirs["items"]}) == len(seqs)
        assert theirs["items"] == ours["items"] and theirs["digest"] == ours["digest"]
        check_records(day, station, platform, made)
        check_typed(day, platform, typed)
        check_cancellations(day, station, platform, cancelled_absent, cancelled_coming)
        # the heartbeat resumes, with the station's counts of now (the day is over: none wait)
        beat = wait_until(lambda: (lambda h: h if h["live"] and datetime.fromisoformat(
            h["updated_at"]) >= restored_at else None)(platform.heartbeat()), timeout=20,
            what=platform.heartbeat)
        assert all(s["waiting"] == 0 for s in beat["services"]), beat
        write_summary(day, status["last_seq"], caught_up, restart["before"]["events"])
    finally:
        station.stop()


def write_summary(day: Day, events: int, caught_up: float, at_restart: int) -> None:
    """The day in figures, for the report: test-output/offline-day.json."""
    counts: dict[str, int] = {}
    for ticket in day.tickets.values():
        key = f"{ticket['service']} {ticket['kind']} {ticket['status']}"
        counts[key] = counts.get(key, 0) + 1
    outcomes = [d["outcome"] for d in day.doses.values()]
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "offline-day.json").write_text(json.dumps({
        "seed": SEED, "events": events, "events_at_restart": at_restart,
        "tickets": len(day.tickets), "by_service_kind_status": dict(sorted(counts.items())),
        "doses": len(day.doses), "outcomes": {o: outcomes.count(o) for o in set(outcomes)},
        "refused": day.refused, "catch_up_seconds": round(caught_up, 2)},
        ensure_ascii=False, indent=1), encoding="utf-8")


def restart_station(station: Station, today: str, seen: dict[str, Any]) -> None:
    """Halfway through the day: SIGKILL, start again on the same database; nothing lost."""
    seen["before"] = station.get("/api/v1/sync/reconciliation", day=today, items="1")
    seen["pending_before"] = station.get("/api/v1/sync/status")["pending"]
    snapshot = station.get("/api/v1/state", who=station.kiosk)
    station.restart(kill)
    seen["after"] = station.get("/api/v1/sync/reconciliation", day=today, items="1")
    seen["pending_after"] = station.get("/api/v1/sync/status")["pending"]
    again = station.get("/api/v1/state", who=station.kiosk)
    assert queues(again) == queues(snapshot) and again["seq"] == snapshot["seq"]


def queues(state: dict[str, Any]) -> list[tuple[str, str, str, int]]:
    """Every queued ticket of the snapshot: service, id, stage and position."""
    return [(s["code"], t["id"], str(t.get("stage")), t["position"])
            for s in state["services"] for t in s["tickets"]]


def in_step(station: Station, platform: Platform, day: str) -> dict[str, Any] | None:
    if station.get("/api/v1/sync/status")["pending"]:
        return None
    ours = station.get("/api/v1/sync/reconciliation", day=day, items="1")
    theirs = platform.day(day)
    if (ours["events"], ours["digest"]) != (theirs["events"], theirs["digest"]):
        return None
    return ours  # type: ignore[no-any-return]


def check_records(day: Day, station: Station, platform: Platform,
                  made: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    """Each booking the station served: the platform's booking status follows the station's
    ticket, and the resident's records hold the visit and the dose as the station has them."""
    compared = doses = 0
    for _planned, booking in made:
        ticket_id = day.checked_in.get(booking["id"])
        if ticket_id is None:
            continue
        ticket = station.get(f"/api/v1/tickets/{ticket_id}")
        assert ticket["status"] == day.tickets[ticket_id]["status"]  # the test's own record
        got = platform.get(f"/api/v1/bookings/{booking['id']}")
        assert got["status"] == BOOKING_STATUS[ticket["status"]], (ticket, got)
        records = platform.get(f"/api/v1/residents/{booking['resident']['id']}/records")
        [visit] = [v for v in records["visits"] if v["station"] == "demo-station"]
        assert visit["ticket"] == ticket["number"] and visit["booking_id"] == booking["id"]
        # the event's time to the microsecond, the ticket's to the second
        assert seconds(visit["checked_in"]) == seconds(ticket["issued_at"])
        if ticket["called_at"] is None:  # gave up before the call
            assert visit["called"] is None
        else:  # the first call; the ticket shows its last
            assert seconds(visit["called"]) <= seconds(ticket["called_at"])
        assert visit["status"] == ticket["status"]
        given = day.doses.get(ticket_id)
        shots = [v for v in records["vaccinations"] if v["station"] == "demo-station"]
        if given is None:
            assert not shots
        else:
            [shot] = shots
            assert (shot["trace_code"], shot["product"], shot["site"], shot["route"]) == (
                given["trace_code"], given["product"], given["site"], given["route"])
            assert shot["dose"] == 1 and shot["lot"] in ("202603A", "202608F")
            assert shot["observation"]["outcome"] == given["outcome"], (shot, given)
            doses += 1
        compared += 1
    assert compared >= 10 and doses >= 3, (compared, doses)


def check_typed(day: Day, platform: Platform, typed: list[str]) -> None:
    """Typed demo codes: checked in (on time, or late and queued as a walk-in), or refused as
    early only; those checked in reach the platform's copy of the same demo booking."""
    assert all(code == "booking_too_early" for _typed, code in day.refused), day.refused
    ids = {b["code"]: b["id"] for b in demo_bookings(datetime.now(TZ).date())}
    served = [ids[c] for c in typed if ids[c] in day.checked_in]
    assert len(served) + len(day.refused) == len(typed)
    for booking_id in served:
        final = day.tickets[day.checked_in[booking_id]]["status"]
        assert platform.get(f"/api/v1/bookings/{booking_id}")["status"] == BOOKING_STATUS[final]


def seconds(at: str) -> datetime:
    return datetime.fromisoformat(at).replace(microsecond=0)


def check_cancellations(day: Day, station: Station, platform: Platform,
                        absent: list[dict[str, Any]], coming: list[dict[str, Any]]) -> None:
    """Cancelled at the platform while the station was cut off (docs/sync.md, and issue 10:
    a booking the station has acted on is never reset by the feed): one nobody came for
    stays cancelled and the station, once it has pulled the cancellation, refuses its code;
    one the station checked in follows the station's ticket, and its code still finds it."""
    for booking in absent:
        assert platform.get(f"/api/v1/bookings/{booking['id']}")["status"] == "cancelled"
        found = wait_until(lambda b=booking: [
            x for x in station.get("/api/v1/bookings", q=b["phone_last4"])["bookings"]
            if x["id"] == b["id"] and x["status"] == "cancelled"], timeout=20,
            what="the cancellation reached the station")
        assert not found[0]["checked_in"]
        r = station.call(station.kiosk, "POST", "/api/v1/checkins", expect=(422,),
                         json={"code": booking["token"]})
        assert r.json()["error"]["code"] == "booking_cancelled"
    for booking in coming:
        ticket_id = day.checked_in[booking["id"]]
        final = day.tickets[ticket_id]["status"]
        assert platform.get(f"/api/v1/bookings/{booking['id']}")["status"] == \
            BOOKING_STATUS[final]
        [mine] = [x for x in station.get("/api/v1/bookings", q=booking["phone_last4"])[
            "bookings"] if x["id"] == booking["id"]]
        assert mine["checked_in"] and mine["ticket_id"] == ticket_id, mine
        r = station.call(station.kiosk, "POST", "/api/v1/checkins", expect=(200, 422),
                         json={"code": booking["token"]})
        if r.status_code == 200:  # the same ticket, not a second one
            assert r.json()["id"] == ticket_id
        else:  # a finished ticket's code is spent, never "cancelled"
            assert r.json()["error"]["code"] != "booking_cancelled", r.text
