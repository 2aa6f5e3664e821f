"""The vaccination API through the real app: screening, a doctor's decisions, the catalog, the
dose with every refusal (each its own code, nothing recorded), observation and its release."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from support import KIOSK, FakeClock, LiveServer, login, wait_until

from contracts.demo import DEMO_TRACE_CODE, DEMO_VACCINES
from server import presenter
from server.store import Store

ALL_NO = {"fever": False, "allergy": False, "past_reaction": False, "recent_vaccine": False,
          "pregnancy": False, "immune": False, "illness": False}
EXPIRED_HEPB = "8612001" + "2024010000001"
FLU = "8612002" + "2026080000001"
DOSE = {"trace_code": DEMO_TRACE_CODE, "site": "left_deltoid", "route": "intramuscular"}
_booked = iter(range(1, 1000))


def error(r) -> dict:
    body = r.get_json()
    assert set(body) == {"error"}, body
    e = body["error"]
    assert e["code"] and e["message"] and e["message_zh"] and e["message"] != e["message_zh"]
    assert "?" not in e["message"], e  # every placeholder filled
    return e


def book(store: Store, clock: FakeClock, vaccine: str | None = "HepB", dose: int = 1,
         previous_days: int | None = None, birth_year: int | None = None) -> str:
    """A booking of the local list whose slot is open now; returns its typed code."""
    n = next(_booked)
    start = clock.now - timedelta(minutes=5)
    info: dict = {"product": vaccine, "dose": dose} if vaccine else {}
    if previous_days is not None:
        info["previous_dose_on"] = (clock.now.date() - timedelta(days=previous_days)).isoformat()
    store.upsert_bookings([{
        "id": f"vax-{n}", "code": f"VAX-{n:03d}", "station": "demo-station", "service": "V",
        "day": clock.now.date().isoformat(), "slot_start": f"{start:%H:%M}",
        "slot_end": f"{start + timedelta(minutes=30):%H:%M}", "name": "李四",
        "name_masked": "李*", "phone_last4": "0000", "priority": 0, "status": "booked",
        "updated_at": None, "vaccine": json.dumps(info) if info else None,
        "birth_year": birth_year}])
    return f"VAX-{n:03d}"


def checked_in(client: FlaskClient, code: str) -> dict:
    r = client.post("/api/v1/checkins", json={"code": code}, headers=KIOSK)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def at_desk(client: FlaskClient, nurse: dict, store: Store, clock: FakeClock,
            counter: str = "V1", **booking: object) -> dict:
    """A booked vaccination ticket screened (all no) and called to a vaccination desk."""
    t = checked_in(client, book(store, clock, **booking))  # type: ignore[arg-type]
    r = client.post(f"/api/v1/tickets/{t['id']}/screening", json={"answers": ALL_NO},
                    headers=KIOSK)
    assert r.status_code == 200 and r.get_json()["stage"] == "vaccination", r.get_json()
    r = client.post(f"/api/v1/counters/{counter}/call-next", headers=nurse)
    assert r.get_json()["id"] == t["id"], r.get_json()
    return r.get_json()


def ledger(store: Store) -> tuple[int, int]:
    return len(store.events()), len(store.vaccinations())


def test_questions_in_both_languages(client: FlaskClient) -> None:
    r = client.get("/api/v1/screening/questions", headers=KIOSK)
    questions = r.get_json()["questions"]
    assert [q["id"] for q in questions] == list(ALL_NO)
    assert all(set(q) == {"id", "zh", "en"} and q["zh"] != q["en"] for q in questions)
    assert "发热" in questions[0]["zh"] and "fever" in questions[0]["en"]


def test_the_catalog_is_the_demo_catalog(client: FlaskClient, nurse: dict) -> None:
    r = client.get("/api/v1/vaccines", headers=nurse)
    assert r.status_code == 200
    assert r.get_json() == {"vaccines": [dict(v) for v in DEMO_VACCINES]}
    assert client.get("/api/v1/vaccines", headers=KIOSK).status_code == 200
    assert client.get("/api/v1/vaccines",
                      headers={"Authorization": "Bearer demo-display-token"}).status_code == 403


def test_replace_vaccines_replaces_the_catalog(store: Store) -> None:
    store.replace_vaccines([dict(v) for v in DEMO_VACCINES])
    store.replace_vaccines([dict(DEMO_VACCINES[1])])
    assert store.vaccines() == [dict(DEMO_VACCINES[1])]


def test_a_yes_flags_and_the_console_sees_the_answers(client: FlaskClient, nurse: dict,
                                                      store: Store, clock: FakeClock) -> None:
    t = checked_in(client, book(store, clock))
    assert (t["stage"], t["flagged"], t["vaccine"]) == ("screening", False,
                                                         {"product": "HepB", "dose": 1})
    r = client.post(f"/api/v1/tickets/{t['id']}/screening",
                    json={"answers": {**ALL_NO, "allergy": True}}, headers=KIOSK)
    assert r.status_code == 200
    body = r.get_json()
    assert (body["flagged"], body["cleared"], body["screening_yes"], body["stage"]) == (
        True, False, ["allergy"], "screening")
    events = [e for e in store.events() if e["type"] == "screening.recorded"]
    assert json.loads(events[-1]["detail"])["answers"]["allergy"] is True


def test_unknown_questions_are_refused_and_nothing_is_recorded(
        client: FlaskClient, store: Store, clock: FakeClock) -> None:
    t = checked_in(client, book(store, clock))
    before = ledger(store)
    r = client.post(f"/api/v1/tickets/{t['id']}/screening",
                    json={"answers": {"fever": False, "smoker": True}}, headers=KIOSK)
    assert r.status_code == 422 and error(r)["code"] == "screening_unknown_question"
    r = client.post(f"/api/v1/tickets/{t['id']}/screening", json={"answers": {"fever": "no"}},
                    headers=KIOSK)
    assert r.status_code == 400 and error(r)["code"] == "field_invalid"
    assert ledger(store) == before


def test_clear_and_defer_are_a_doctors(client: FlaskClient, app: Flask, store: Store,
                                       clock: FakeClock) -> None:
    t = checked_in(client, book(store, clock))
    client.post(f"/api/v1/tickets/{t['id']}/screening", json={"answers": {"fever": True}},
                headers=KIOSK)
    nurse = login(client)
    r = client.post(f"/api/v1/tickets/{t['id']}/clear", json={"reason": "ok"}, headers=nurse)
    assert r.status_code == 403 and error(r)["code"] == "forbidden"
    doctor = login(client, "demo-doctor")
    r = client.post(f"/api/v1/tickets/{t['id']}/clear", json={"reason": ""}, headers=doctor)
    assert r.status_code == 400 and error(r)["code"] == "field_invalid"
    r = client.post(f"/api/v1/tickets/{t['id']}/clear", json={"reason": "36.9 now"},
                    headers=doctor)
    assert r.status_code == 200 and r.get_json()["cleared"] and \
        r.get_json()["stage"] == "vaccination"
    r = client.post(f"/api/v1/tickets/{t['id']}/clear", json={"reason": "again"},
                    headers=doctor)
    assert r.status_code == 409 and error(r)["code"] == "not_flagged"
    r = client.post(f"/api/v1/tickets/{t['id']}/defer", json={"reason": "fever returned"},
                    headers=doctor)
    assert r.status_code == 200 and r.get_json()["status"] == "deferred"
    types = [e["type"] for e in store.events()]
    assert "screening.cleared" in types and types[-1] == "vaccination.deferred"


def test_a_dose_is_recorded_and_observation_starts(client: FlaskClient, nurse: dict,
                                                   store: Store, clock: FakeClock) -> None:
    t = at_desk(client, nurse, store, clock)
    r = client.post(f"/api/v1/tickets/{t['id']}/vaccinate",
                    json={**DOSE, "checklist": {"name": True, "age": True}}, headers=nurse)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["status"], body["stage"], body["vaccine"]) == (
        "observing", "observation", {"product": "HepB", "dose": 1})
    assert body["observation_ends_at"] == (clock.now + timedelta(minutes=30)).isoformat(
        timespec="seconds")
    [row] = store.vaccinations()
    assert (row["trace_code"], row["product"], row["lot"], row["expires"], row["dose"],
            row["site"], row["route"], row["nurse"]) == (
        DEMO_TRACE_CODE, "HepB", "202603A", "2027-09-30", 1, "left_deltoid", "intramuscular",
        "demo-nurse")
    record = [e for e in store.events() if e["type"] == "vaccination.recorded"][-1]
    detail = json.loads(record["detail"])
    assert detail["maker"] == "华北制药" and detail["checklist"] == {"name": True, "age": True}
    snapshot = client.get("/api/v1/state", headers=nurse).get_json()
    assert snapshot["now"] == clock.now.isoformat(timespec="seconds")
    [observing] = snapshot["observing"]
    assert observing["id"] == t["id"] and observing["observation_ends_at"] == \
        body["observation_ends_at"]
    public = client.get("/api/v1/state",
                        headers={"Authorization": "Bearer demo-display-token"}).get_json()
    assert public["observing"][0]["screening_yes"] is None  # health answers stay inside


def test_the_desk_sees_the_residents_age(client: FlaskClient, nurse: dict, store: Store,
                                         clock: FakeClock) -> None:
    """三查七对 checks the age: the booking's birth year gives it, in the ticket's year."""
    t = at_desk(client, nurse, store, clock, birth_year=1961)
    assert t["age"] == 2026 - 1961
    counter = next(c for c in client.get("/api/v1/state", headers=nurse).get_json()["counters"]
                   if c["id"] == "V1")
    assert counter["ticket"]["age"] == 65
    public = client.get("/api/v1/state",
                        headers={"Authorization": "Bearer demo-display-token"}).get_json()
    assert next(c for c in public["counters"] if c["id"] == "V1")["ticket"]["age"] is None
    walkin = client.post("/api/v1/tickets", json={"service": "V"}, headers=KIOSK).get_json()
    assert walkin["age"] is None  # no booking, no birth year


@pytest.mark.parametrize("trace_code, code, status", [
    ("8612001202603000012", "trace_code_invalid", 422),  # short
    ("861200120260300001234", "trace_code_invalid", 422),  # long
    ("8612001 202603000012", "trace_code_invalid", 422),  # a space
    ("86120012026030000A23", "trace_code_invalid", 422),  # a letter
    (FLU, "vaccine_mismatch", 422),  # another product
    (EXPIRED_HEPB, "vaccine_expired", 422),
])
def test_bad_trace_codes_are_refused_and_nothing_is_recorded(
        client: FlaskClient, nurse: dict, store: Store, clock: FakeClock, trace_code: str,
        code: str, status: int) -> None:
    t = at_desk(client, nurse, store, clock)
    before = ledger(store)
    r = client.post(f"/api/v1/tickets/{t['id']}/vaccinate",
                    json={**DOSE, "trace_code": trace_code}, headers=nurse)
    assert r.status_code == status and error(r)["code"] == code
    assert ledger(store) == before
    assert client.get(f"/api/v1/tickets/{t['id']}", headers=nurse).get_json()["status"] == \
        "called"


def test_a_used_trace_code_is_refused(client: FlaskClient, nurse: dict, store: Store,
                                      clock: FakeClock) -> None:
    first = at_desk(client, nurse, store, clock, "V1")
    second = at_desk(client, nurse, store, clock, "V2")
    assert client.post(f"/api/v1/tickets/{first['id']}/vaccinate", json=DOSE,
                       headers=nurse).status_code == 200
    before = ledger(store)
    r = client.post(f"/api/v1/tickets/{second['id']}/vaccinate", json=DOSE, headers=nurse)
    assert r.status_code == 409 and error(r)["code"] == "trace_code_used"
    assert ledger(store) == before


def test_the_ticket_must_be_at_the_vaccination_desk(client: FlaskClient, nurse: dict,
                                                    store: Store, clock: FakeClock) -> None:
    t = checked_in(client, book(store, clock))
    before = ledger(store)
    r = client.post(f"/api/v1/tickets/{t['id']}/vaccinate", json=DOSE, headers=nurse)
    assert r.status_code == 409 and error(r)["code"] == "not_at_vaccination_stage"
    assert ledger(store) == before


def test_a_flagged_ticket_needs_clearing_first(client: FlaskClient, nurse: dict, store: Store,
                                               clock: FakeClock) -> None:
    t = checked_in(client, book(store, clock))
    client.post(f"/api/v1/tickets/{t['id']}/screening", json={"answers": {"fever": True}},
                headers=KIOSK)
    client.post("/api/v1/counters/S1/call-next", headers=nurse)
    client.post(f"/api/v1/tickets/{t['id']}/start", headers=nurse)
    client.post(f"/api/v1/tickets/{t['id']}/complete", headers=nurse)  # on to vaccination
    r = client.post("/api/v1/counters/V1/call-next", headers=nurse)
    assert r.get_json()["id"] == t["id"] and r.get_json()["stage"] == "vaccination"
    before = ledger(store)
    r = client.post(f"/api/v1/tickets/{t['id']}/vaccinate", json=DOSE, headers=nurse)
    assert r.status_code == 409 and error(r)["code"] == "screening_not_cleared"
    assert ledger(store) == before


def test_a_dose_too_soon_is_a_doctors_call(client: FlaskClient, store: Store,
                                           clock: FakeClock) -> None:
    nurse = login(client)
    t = at_desk(client, nurse, store, clock, dose=2, previous_days=10)
    before = ledger(store)
    r = client.post(f"/api/v1/tickets/{t['id']}/vaccinate", json=DOSE, headers=nurse)
    assert r.status_code == 422 and error(r)["code"] == "dose_too_soon"
    r = client.post(f"/api/v1/tickets/{t['id']}/vaccinate",
                    json={**DOSE, "override_reason": "travel"}, headers=nurse)
    assert r.status_code == 403 and error(r)["code"] == "override_needs_doctor"
    assert ledger(store) == before
    doctor = login(client, "demo-doctor")
    r = client.post(f"/api/v1/tickets/{t['id']}/vaccinate",
                    json={**DOSE, "override_reason": "travel"}, headers=doctor)
    assert r.status_code == 200 and r.get_json()["vaccine"] == {"product": "HepB", "dose": 2}


def test_bodies_are_checked(client: FlaskClient, nurse: dict, store: Store,
                            clock: FakeClock) -> None:
    t = at_desk(client, nurse, store, clock)
    for body, field in [({"site": "arm", "route": "im"}, "trace_code"),
                        ({**DOSE, "site": ""}, "site"), ({**DOSE, "dose": 0}, "dose")]:
        r = client.post(f"/api/v1/tickets/{t['id']}/vaccinate", json=body, headers=nurse)
        assert r.status_code == 400 and error(r)["code"] in ("field_missing", "field_invalid")
        assert field in error(r)["message"]
    r = client.post(f"/api/v1/tickets/{t['id']}/vaccinate", json=DOSE, headers=KIOSK)
    assert r.status_code == 403


def test_reaction_early_leave_and_release(client: FlaskClient, nurse: dict, app: Flask,
                                          store: Store, clock: FakeClock) -> None:
    t = at_desk(client, nurse, store, clock)
    other = at_desk(client, nurse, store, clock, "V2")
    r = client.post(f"/api/v1/tickets/{t['id']}/reaction",
                    json={"symptoms": ["rash"], "severity": "mild"}, headers=nurse)
    assert r.status_code == 409 and error(r)["code"] == "not_in_observation"
    client.post(f"/api/v1/tickets/{t['id']}/vaccinate", json=DOSE, headers=nurse)
    client.post(f"/api/v1/tickets/{other['id']}/vaccinate",
                json={**DOSE, "trace_code": DEMO_TRACE_CODE[:-1] + "4"}, headers=nurse)
    clock.advance(minutes=20)
    r = client.post(f"/api/v1/tickets/{t['id']}/reaction",
                    json={"symptoms": ["rash", "itch"], "note": "left arm",
                          "severity": "moderate", "action": "antihistamine"}, headers=nurse)
    assert r.status_code == 200
    assert r.get_json()["observation_ends_at"] == (clock.now + timedelta(minutes=30)).isoformat(
        timespec="seconds")
    r = client.post(f"/api/v1/tickets/{t['id']}/reaction",
                    json={"symptoms": ["rash"], "severity": "awful"}, headers=nurse)
    assert r.status_code == 400 and error(r)["code"] == "field_invalid"
    station = app.extensions["clinicq"].station
    clock.advance(minutes=11)  # the other's 30 minutes are over; this one's extended are not
    assert [x.id for x in station.release_due()] == [other["id"]]
    r = client.post(f"/api/v1/tickets/{t['id']}/leave-early", json={"reason": "felt fine"},
                    headers=nurse)
    assert r.status_code == 200 and r.get_json()["status"] == "released"
    types = [e["type"] for e in store.events()]
    assert types.count("observation.reaction") == 1 and types[-1] == "observation.left_early"
    assert "observation.released" in types


def test_the_timer_releases_on_the_stations_clock(client: FlaskClient, nurse: dict, app: Flask,
                                                  store: Store, clock: FakeClock) -> None:
    t = at_desk(client, nurse, store, clock)
    client.post(f"/api/v1/tickets/{t['id']}/vaccinate", json=DOSE, headers=nurse)
    station = app.extensions["clinicq"].station
    station.start_timer(interval=0.01)
    try:
        clock.advance(minutes=30)
        wait_until(lambda: station.state.tickets[t["id"]].status == "released",
                   what="the observation released by the timer")
    finally:
        station.stop_timer()
    assert station._timer is None


def test_two_nurses_scanning_one_box_at_once(app: Flask, store: Store, clock: FakeClock,
                                             live_server: LiveServer) -> None:
    """Both press Enter at the same instant: one dose recorded, one `trace_code_used`."""
    client = app.test_client()
    nurse = login(client)
    for attempt in range(5):
        code = DEMO_TRACE_CODE[:-3] + f"{200 + attempt:03d}"
        tickets = [at_desk(client, nurse, store, clock, counter)["id"]
                   for counter in ("V1", "V2")]
        sessions = []
        for _ in range(2):
            s = requests.Session()
            r = s.post(f"{live_server.url}/api/v1/login",
                       json={"username": "demo-nurse", "password": "demo-nurse"}, timeout=10)
            s.headers["X-CSRF-Token"] = r.json()["csrf_token"]
            sessions.append(s)
        barrier = threading.Barrier(2)
        answers: list = [None, None]

        def scan(i: int, code: str = code, tickets: list = tickets, sessions: list = sessions,
                 answers: list = answers, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            answers[i] = sessions[i].post(
                f"{live_server.url}/api/v1/tickets/{tickets[i]}/vaccinate",
                json={**DOSE, "trace_code": code}, timeout=10)

        threads = [threading.Thread(target=scan, args=(i,)) for i in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert sorted(a.status_code for a in answers) == [200, 409]
        refused = next(a for a in answers if a.status_code == 409)
        assert refused.json()["error"]["code"] == "trace_code_used"
        assert [v["trace_code"] for v in store.vaccinations()].count(code) == 1
        # the desk that was refused hands its ticket back for the next box
        loser = tickets[answers.index(refused)]
        r = client.post(f"/api/v1/tickets/{loser}/vaccinate",
                        json={**DOSE, "trace_code": code[:-3] + f"{300 + attempt:03d}"},
                        headers=nurse)
        assert r.status_code == 200, r.get_json()


def test_the_release_is_announced(client: FlaskClient, nurse: dict, app: Flask, store: Store,
                                  clock: FakeClock) -> None:
    t = at_desk(client, nurse, store, clock)
    client.post(f"/api/v1/tickets/{t['id']}/vaccinate", json=DOSE, headers=nurse)
    station = app.extensions["clinicq"].station
    heard = []
    station.subscribe(lambda published: heard.extend(
        presenter.event_message(e, published.state, station.settings, published.now, {})
        for e in published.events))
    clock.advance(minutes=30)
    station.release_due()
    [released] = heard
    assert released.type == "observation.released" and released.counter is None
    assert released.announcement["text"] == f"{t['number']} 号 留观结束，可以离开"
