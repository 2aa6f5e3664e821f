"""Engine: the vaccination pathway with a fixed clock — stages keeping the number, screening,
a doctor's clearing and deferral, the dose's checks, observation, reaction, early leave."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from engine_support import T0, code

from contracts.demo import DEMO_TRACE_CODE, DEMO_VACCINES
from server.engine import commands as c
from server.engine import policy
from server.engine import vaccination as v
from server.engine.errors import DomainError
from server.engine.model import CounterRules, ServiceRules, State, StationRules

QUESTIONS = ("fever", "allergy", "pregnancy")
CATALOG = {row["code"]: v.Vaccine.from_dict(row) for row in DEMO_VACCINES}
EXPIRED_HEPB = "8612001" + "2024010000001"  # lot 202401C, expired 2025-12-31
FLU = "8612002" + "2026080000001"


def station() -> State:
    vax = ServiceRules("V", "V", stages=("screening", "vaccination", "observation"),
                       observation_minutes=30)
    visit = ServiceRules("A", "A")
    return State(rules=StationRules.build(
        [vax, visit],
        [CounterRules("S1", ("V",), ("screening",)), CounterRules("V1", ("V",), ("vaccination",)),
         CounterRules("V2", ("V",), ("vaccination",)), CounterRules("A1", ("A",))]))


def booked(s: State, booking_id: str = "b1", vaccine: str | None = "HepB", dose: int = 1,
           previous: date | None = None) -> tuple[State, str]:
    info = c.BookingInfo(booking_id, "V", T0.date(), T0, T0 + timedelta(minutes=30),
                         vaccine=vaccine, dose=dose, previous_dose_on=previous)
    s, events = c.check_in(s, info, code=code(), now=T0)
    return s, events[-1].ticket.id


def answered(s: State, tid: str, yes: tuple[str, ...] = ()) -> State:
    answers = {q: q in yes for q in QUESTIONS}
    s, _ = v.record_screening(s, tid, answers, questions=QUESTIONS, by="kiosk-1", now=T0)
    return s


def at_desk(s: State, tid: str, counter: str = "V1") -> State:
    s, events = c.call_next(s, counter, now=T0)
    assert events[-1].ticket.id == tid
    return s


def scan(trace_code: str = DEMO_TRACE_CODE, **kw: object) -> v.DoseScan:
    return v.DoseScan(trace_code=trace_code, site="left_deltoid", route="intramuscular",
                      nurse="demo-nurse", **kw)  # type: ignore[arg-type]


def vaccinate(s: State, tid: str, dose: v.DoseScan | None = None, used: bool = False,
              at=T0) -> tuple[State, list]:
    return v.vaccinate(s, tid, dose or scan(), catalog=CATALOG, used_before=used, now=at)


def refused(fn, *args, **kw) -> str:
    with pytest.raises(DomainError) as err:
        fn(*args, **kw)
    return err.value.code


def test_a_ticket_passes_every_stage_keeping_its_number() -> None:
    s, tid = booked(station())
    assert s.tickets[tid].stage == "screening"
    assert refused(c.call_next, s, "V1", now=T0) == "queue_empty"  # V1 serves vaccination
    s, _ = c.call_next(s, "S1", now=T0)
    s, _ = c.act(s, tid, "start", now=T0)
    s, events = c.act(s, tid, "complete", now=T0 + timedelta(minutes=3))
    assert [e.type for e in events] == ["ticket.advanced"] and events[0].reason == "vaccination"
    t = s.tickets[tid]
    assert (t.status, t.stage, t.number, t.counter) == ("waiting", "vaccination", "V001", None)
    assert s.counter_ticket["S1"] is None
    s = at_desk(s, tid)
    s, events = vaccinate(s, tid)
    assert [e.type for e in events] == ["vaccination.recorded", "observation.started"]
    t = s.tickets[tid]
    assert (t.status, t.stage, t.vaccine, t.dose) == ("observing", "observation", "HepB", 1)
    assert t.observation_ends_at == T0 + timedelta(minutes=30)
    assert s.counter_ticket["V1"] is None  # the desk calls the next one
    record = events[0].detail
    assert record["lot"] == "202603A" and record["expires"] == "2027-09-30"
    assert (record["product"], record["maker"], record["dose"], record["site"], record["route"],
            record["nurse"]) == ("HepB", "华北制药", 1, "left_deltoid", "intramuscular",
                                 "demo-nurse")
    s2, events = v.release_due(s, T0 + timedelta(minutes=29))
    assert events == [] and s2 is s
    s, events = v.release_due(s, T0 + timedelta(minutes=30))
    assert [e.type for e in events] == ["observation.released"]
    assert s.tickets[tid].status == "released" and s.tickets[tid].number == "V001"


def test_a_one_stage_service_completes_as_before() -> None:
    s, events = c.issue_walkin(station(), "A", code="x", now=T0)
    tid = events[-1].ticket.id
    assert s.tickets[tid].stage is None
    s, _ = c.call_next(s, "A1", now=T0)
    s, _ = c.act(s, tid, "start", now=T0)
    s, _ = c.act(s, tid, "complete", now=T0)
    assert s.tickets[tid].status == "done"


def test_the_wait_counts_the_stages_still_ahead() -> None:
    s, first = booked(station(), "b1")
    s, second = booked(s, "b2")
    s = answered(s, second)  # all "no": on to the vaccination queue
    at_screening, at_vaccination = s.tickets[first], s.tickets[second]
    assert (at_screening.stage, at_vaccination.stage) == ("screening", "vaccination")
    assert policy.position(s, at_screening, T0) == policy.position(s, at_vaccination, T0) == 1
    assert policy.mean_service_minutes(s, "V") == 5.0
    # screening: one desk (5), then the vaccination stage (5); vaccination: two desks (2.5)
    assert policy.eta_minutes(s, "V", 1, "screening") == 10
    assert policy.eta_minutes(s, "V", 1, "vaccination") == 3


def test_all_no_at_the_kiosk_skips_the_screening_desk() -> None:
    s, tid = booked(station())
    s, events = v.record_screening(s, tid, {q: False for q in QUESTIONS}, questions=QUESTIONS,
                                   by="kiosk-1", now=T0)
    assert [e.type for e in events] == ["screening.recorded", "ticket.advanced"]
    assert events[0].detail == {"answers": dict.fromkeys(QUESTIONS, False), "yes": [],
                                "by": "kiosk-1"}
    assert s.tickets[tid].stage == "vaccination" and not s.tickets[tid].flagged


def test_a_skipped_question_keeps_the_ticket_for_the_desk() -> None:
    s, tid = booked(station())
    s, events = v.record_screening(s, tid, {"fever": False}, questions=QUESTIONS, by="k",
                                   now=T0)
    assert [e.type for e in events] == ["screening.recorded"]
    assert s.tickets[tid].stage == "screening"


def test_a_yes_flags_until_a_doctor_clears() -> None:
    s, tid = booked(station())
    s = answered(s, tid, yes=("allergy",))
    t = s.tickets[tid]
    assert (t.flagged, t.cleared, t.screening_yes, t.stage) == (True, False, ("allergy",),
                                                               "screening")
    # the screening desk serves it, sends it on: the vaccination desk may not give the dose
    s, _ = c.call_next(s, "S1", now=T0)
    s, _ = c.act(s, tid, "start", now=T0)
    s, _ = c.act(s, tid, "complete", now=T0)
    s = at_desk(s, tid)
    assert refused(vaccinate, s, tid) == "screening_not_cleared"
    s, events = v.clear(s, tid, by="demo-doctor", reason="mild hay fever only", now=T0)
    assert [e.type for e in events] == ["screening.cleared"]
    assert events[0].detail == {"by": "demo-doctor", "reason": "mild hay fever only"}
    assert refused(v.clear, s, tid, by="d", reason="again", now=T0) == "not_flagged"
    s, _ = vaccinate(s, tid)
    assert s.tickets[tid].status == "observing"


def test_clearing_a_ticket_waiting_at_screening_sends_it_on() -> None:
    s, tid = booked(station())
    s = answered(s, tid, yes=("fever",))
    s, events = v.clear(s, tid, by="demo-doctor", reason="37.1, fine", now=T0)
    assert [e.type for e in events] == ["screening.cleared", "ticket.advanced"]
    assert s.tickets[tid].stage == "vaccination"


def test_unknown_questions_and_closed_screening_are_refused() -> None:
    s, tid = booked(station())
    assert refused(v.record_screening, s, tid, {"smoker": True}, questions=QUESTIONS, by="k",
                   now=T0) == "screening_unknown_question"
    s, events = c.issue_walkin(s, "A", code="x", now=T0)
    assert refused(v.record_screening, s, events[-1].ticket.id, {"fever": False},
                   questions=QUESTIONS, by="k", now=T0) == "screening_closed"


def test_a_doctor_defers_and_the_desk_is_free() -> None:
    s, tid = booked(station())
    s = answered(s, tid, yes=("fever",))
    s, _ = c.call_next(s, "S1", now=T0)
    s, events = v.defer(s, tid, by="demo-doctor", reason="fever 38.2", now=T0)
    assert [e.type for e in events] == ["vaccination.deferred"]
    assert s.tickets[tid].status == "deferred" and s.counter_ticket["S1"] is None
    assert events[0].detail == {"by": "demo-doctor", "reason": "fever 38.2"}
    assert refused(v.defer, s, tid, by="d", reason="x", now=T0) == "transition_forbidden"
    assert refused(vaccinate, s, tid) == "not_at_vaccination_stage"


def test_the_dose_only_at_the_vaccination_desk() -> None:
    s, tid = booked(station())
    assert refused(vaccinate, s, tid) == "not_at_vaccination_stage"  # still at screening
    s = answered(s, tid)
    assert refused(vaccinate, s, tid) == "not_at_vaccination_stage"  # waiting, not called


@pytest.mark.parametrize("bad", [
    "", "8612001202603000012", "861200120260300001234", "8612001 2026030000123",
    "8612001202603000012a", " 86120012026030000123", "８６１２００１２０２６０３００００１２３",
])
def test_a_trace_code_is_exactly_twenty_digits(bad: str) -> None:
    s, tid = booked(station())
    s = at_desk(answered(s, tid), tid)
    assert refused(vaccinate, s, tid, scan(bad)) == "trace_code_invalid"


def test_the_trace_code_checks_in_order() -> None:
    s, tid = booked(station())
    s = at_desk(answered(s, tid), tid)
    assert refused(vaccinate, s, tid, scan(FLU)) == "vaccine_mismatch"
    assert refused(vaccinate, s, tid, scan(FLU), used=True) == "vaccine_mismatch"
    assert refused(vaccinate, s, tid, used=True) == "trace_code_used"
    assert refused(vaccinate, s, tid, scan(EXPIRED_HEPB)) == "vaccine_expired"
    assert refused(vaccinate, s, tid, scan("9999999" + "0" * 13)) == "vaccine_mismatch"


def test_a_lot_the_catalog_does_not_know_is_not_refused() -> None:
    s, tid = booked(station())
    s = at_desk(answered(s, tid), tid)
    s, events = vaccinate(s, tid, scan("8612001" + "1999000000001"))
    assert events[0].detail["lot"] is None and events[0].detail["expires"] is None


def test_a_walk_in_gets_the_product_its_code_names() -> None:
    s, events = c.issue_walkin(station(), "V", code="x", now=T0)
    tid = events[-1].ticket.id
    s = at_desk(answered(s, tid), tid)
    assert refused(vaccinate, s, tid, scan("9999999" + "0" * 13)) == "vaccine_unknown"
    s, events = vaccinate(s, tid, scan(FLU, dose=1))
    assert s.tickets[tid].vaccine == "Flu4" and events[0].detail["product"] == "Flu4"


def test_a_dose_too_soon_needs_a_doctor_and_a_reason() -> None:
    previous = T0.date() - timedelta(days=20)  # HepB: 28 days between doses
    s, tid = booked(station(), dose=2, previous=previous)
    s = at_desk(answered(s, tid), tid)
    assert refused(vaccinate, s, tid) == "dose_too_soon"
    assert refused(vaccinate, s, tid, scan(override_reason="outbreak")) == \
        "override_needs_doctor"
    s, events = vaccinate(s, tid, scan(override_reason="outbreak", by_doctor=True))
    assert events[0].detail["override_reason"] == "outbreak" and events[0].detail["dose"] == 2


def test_a_dose_after_its_interval_is_given() -> None:
    s, tid = booked(station(), dose=2, previous=T0.date() - timedelta(days=28))
    s = at_desk(answered(s, tid), tid)
    s, _ = vaccinate(s, tid)
    assert s.tickets[tid].status == "observing"


def _observing(at_minutes: int = 0) -> tuple[State, str]:
    s, tid = booked(station())
    s = at_desk(answered(s, tid), tid)
    s, _ = vaccinate(s, tid, at=T0 + timedelta(minutes=at_minutes))
    return s, tid


def test_a_reaction_extends_observation() -> None:
    s, tid = _observing()
    later = T0 + timedelta(minutes=20)
    s, events = v.reaction(s, tid, symptoms=["rash"], note="arm", severity="mild",
                           action="observed", by="demo-nurse", now=later)
    assert [e.type for e in events] == ["observation.reaction"]
    assert s.tickets[tid].observation_ends_at == later + timedelta(minutes=30)
    assert events[0].detail["symptoms"] == ["rash"] and events[0].detail["severity"] == "mild"
    s, events = v.release_due(s, T0 + timedelta(minutes=30))
    assert events == []  # the original end has passed, the extended one has not
    s, events = v.release_due(s, later + timedelta(minutes=30))
    assert s.tickets[tid].status == "released"
    assert refused(v.reaction, s, tid, symptoms=[], note="", severity="mild", action="",
                   by="n", now=later) == "not_in_observation"


def test_a_reaction_for_a_ticket_not_in_observation_is_refused() -> None:
    s, tid = booked(station())
    assert refused(v.reaction, s, tid, symptoms=["rash"], note="", severity="mild",
                   action="", by="n", now=T0) == "not_in_observation"


def test_leaving_early_is_recorded_and_released() -> None:
    s, tid = _observing()
    s, events = v.leave_early(s, tid, by="demo-nurse", reason="had to pick up a child",
                              now=T0 + timedelta(minutes=10))
    assert [e.type for e in events] == ["observation.left_early"]
    assert s.tickets[tid].status == "released"
    assert events[0].detail == {"by": "demo-nurse", "reason": "had to pick up a child"}
    assert refused(v.leave_early, s, tid, by="n", reason="x", now=T0) == "not_in_observation"


def test_release_due_releases_every_ended_observation_earliest_first() -> None:
    s, first = booked(station(), "b1")
    s, second = booked(s, "b2")
    s = at_desk(answered(s, first), first, "V1")
    s = at_desk(answered(s, second), second, "V2")
    s, _ = vaccinate(s, second)
    s, _ = vaccinate(s, first, scan("8612001" + "2026030000124"),
                     at=T0 + timedelta(minutes=5))
    s, events = v.release_due(s, T0 + timedelta(hours=1))
    assert [e.ticket.id for e in events] == [second, first]
    assert all(e.type == "observation.released" for e in events)


def test_observation_of_a_vaccination_starts_only_from_the_dose_record() -> None:
    s, tid = booked(station())
    s = at_desk(answered(s, tid), tid)
    s, _ = c.act(s, tid, "start", now=T0)
    assert refused(c.act, s, tid, "observe", now=T0) == "dose_record_required"
    s, _ = vaccinate(s, tid)  # from serving, too
    assert s.tickets[tid].status == "observing"


# The wait shown at check-in runs to the call at the pathway's last queue stage (the dose), as
# the reports measure it: the vaccination queue counts too (policy._through_pathway).

def _desks(*counters: CounterRules) -> State:
    vax = ServiceRules("V", "V", stages=("screening", "vaccination", "observation"))
    return State(rules=StationRules.build([vax], list(counters)))


def test_the_wait_at_screening_counts_the_vaccination_queue() -> None:
    s = station()
    s, first = booked(s, "b0")
    # alone: screened at once (0), then at a free vaccination desk one service later (5)
    assert policy.ticket_eta(s, s.tickets[first], T0) == 5
    assert policy.eta_minutes(s, "V", 1, "screening", now=T0) == 5
    for n in range(1, 5):  # four residents screened at the kiosk wait for a vaccination desk
        s, tid = booked(s, f"b{n}")
        s = answered(s, tid)
    # two desks call those four at 0, 0, 5, 5: the resident at screening is next, at 10
    assert policy.ticket_eta(s, s.tickets[first], T0) == 10
    assert policy.eta_minutes(s, "V", 1, "screening", now=T0) == 10
    assert policy.eta_minutes(s, "V", 1, "screening") == 10  # without now: as before, 5 + 5


def test_a_desk_serving_both_stages_calls_the_vaccination_queue_first() -> None:
    s = _desks(CounterRules("S1", ("V",), ("screening",)),
               CounterRules("V1", ("V",), ("screening", "vaccination")))
    for n in (1, 2):
        s, tid = booked(s, f"b{n}")
        s = answered(s, tid)
    s, third = booked(s, "b3")
    s, fourth = booked(s, "b4")
    # screening by S1 alone (V1 has two waiting for their dose): at 0 and at 5; the dose at
    # V1 after the two: 10, then 15
    assert policy.stage_waits(s, "V", "screening", T0) == {third: 10, fourth: 15}
    # no screening-only desk: V1 and V2 screen once their share of the two is called (5)
    s = _desks(CounterRules("V1", ("V",), ("screening", "vaccination")),
               CounterRules("V2", ("V",), ("screening", "vaccination")))
    for n in (1, 2):
        s, tid = booked(s, f"b{n}")
        s = answered(s, tid)
    s, third = booked(s, "b3")
    assert policy.stage_waits(s, "V", "screening", T0) == {third: 10}


def test_each_stage_keeps_its_own_service_times() -> None:
    """Screening and the dose take different times: each stage's mean is its own, the
    service's pooled mean stays for the rest (display, legacy)."""
    s = station()
    s, tid = booked(s, "b1", vaccine="Flu4")
    s, _ = c.call_next(s, "S1", now=T0)
    s, _ = c.act(s, tid, "start", now=T0)
    s, _ = c.act(s, tid, "complete", now=T0 + timedelta(minutes=2))  # screened in 2 minutes
    s, _ = c.call_next(s, "V1", now=T0 + timedelta(minutes=2))
    s, _ = c.act(s, tid, "start", now=T0 + timedelta(minutes=3))  # a minute's walk
    s, _ = vaccinate(s, tid, scan(FLU), at=T0 + timedelta(minutes=9))  # the dose: 6 minutes
    assert s.durations["V"] == (120.0, 360.0)
    assert s.durations[policy.stage_key("V", "screening")] == (120.0,)
    assert s.durations[policy.stage_key("V", "vaccination")] == (360.0,)
    # the prior of three 5-minute services, then the stage's own time
    assert policy.mean_service_minutes(s, "V", "screening") == (15 + 2) / 4
    assert policy.mean_service_minutes(s, "V", "vaccination") == (15 + 6) / 4
    assert policy.mean_service_minutes(s, "V") == (15 + 2 + 6) / 5
    # the vaccinated resident's call was served (not left out as neither done nor no-show):
    # its walk of a minute counts
    mean = policy.mean_service_minutes(s, "V", "vaccination")
    assert policy.minutes_per_call(s, "V", "vaccination") == pytest.approx(
        (4 * mean + 1) / 4)
