"""Call policy: priority, booked by slot, walk-in share, early and late arrivals, ETA."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import engine_support
import pytest
from engine_support import T0, booking, station, walkin
from hypothesis import given
from hypothesis import strategies as st

from server.engine import commands as c
from server.engine import counters as breaks
from server.engine import policy
from server.engine.model import State


def call_order(state: State, counter: str = "V1", n: int = 99) -> list[str]:
    """Numbers in the order the counter calls them, completing each in between."""
    out = []
    now = T0
    for _ in range(n):
        if policy.next_for_counter(state, counter, now) is None:
            break
        state, events = c.call_next(state, counter, now=now)
        ticket = events[-1].ticket
        out.append(ticket.number)
        state, _ = c.act(state, ticket.id, "no-show", now=now)
    return out


def test_priority_first_then_booked_by_slot_then_checkin() -> None:
    s = station(booked_per_walkin=0)
    s, _ = booking(s, "b-late-slot", slot="09:30", at=T0 + timedelta(minutes=40))
    s, _ = booking(s, "b-early-slot", slot="08:30")
    s, _ = booking(s, "b-same-slot-2", slot="08:30")
    s, _ = booking(s, "b-prio", slot="09:00", priority=True)
    order = [t.booking_id for t in policy.order(s, "V", T0 + timedelta(minutes=40))]
    assert order == ["b-prio", "b-early-slot", "b-same-slot-2", "b-late-slot"]


def test_one_walkin_after_every_two_booked() -> None:
    s = station(booked_per_walkin=2)
    for _ in range(4):
        s, _ = walkin(s)
    for i in range(4):
        s, _ = booking(s, f"b{i}", slot="09:00")
    assert call_order(s) == ["V005", "V006", "V001", "V007", "V008", "V002", "V003", "V004"]


def test_walkins_wait_for_booked_when_share_is_zero() -> None:
    s = station(booked_per_walkin=0)
    s, _ = walkin(s)
    s, _ = booking(s, "b1", slot="09:00")
    assert call_order(s) == ["V002", "V001"]


def test_walkins_only_queue_is_first_come_first_served() -> None:
    s = station()
    for _ in range(3):
        s, _ = walkin(s)
    assert call_order(s) == ["V001", "V002", "V003"]


def test_early_arrival_waits_for_its_slot_unless_idle() -> None:
    s = station(booked_per_walkin=2)
    s, early = booking(s, "b-early", slot="09:30")  # 30 minutes early
    s, w = walkin(s)
    assert [t.id for t in policy.order(s, "V", T0)] == [w, early]
    s, events = c.call_next(s, "V1", now=T0)
    assert events[-1].ticket.id == w
    s, _ = c.act(s, w, "start", now=T0)
    s, _ = c.act(s, w, "complete", now=T0)
    # nobody else waits: the early arrival is served rather than leaving the desk idle
    s, events = c.call_next(s, "V1", now=T0)
    assert events[-1].ticket.id == early


def test_slot_opening_moves_an_early_ticket_ahead_of_walkins() -> None:
    s = station(booked_per_walkin=1)
    s, early = booking(s, "b", slot="09:10")
    s, w = walkin(s)
    assert policy.order(s, "V", T0)[0].id == w
    assert policy.order(s, "V", T0 + timedelta(minutes=10))[0].id == early


def test_arrival_past_grace_is_served_as_walkin() -> None:
    s = station(grace_minutes=15, booked_per_walkin=1)
    at = T0 + timedelta(minutes=50)  # slot 08:00-08:30 ended 20 minutes before 09:50
    s, late = booking(s, "late", slot="08:00", at=at)
    assert s.tickets[late].late is True
    assert policy.lane(s.tickets[late], at) == "walkin"
    s, on_time = booking(s, "on-time", slot="09:30", at=at)
    s, on_time2 = booking(s, "on-time-2", slot="09:30", at=at)
    assert [t.id for t in policy.order(s, "V", at)] == [on_time, late, on_time2]


def test_arrival_within_grace_keeps_its_booking() -> None:
    s = station(grace_minutes=15)
    s, t = booking(s, "b", slot="08:00", at=T0 - timedelta(minutes=20))  # 10 min after 08:30
    assert s.tickets[t].late is False


def test_counter_serving_two_services_takes_the_earlier_arrival() -> None:
    s = station()
    s, a = walkin(s, "A", at=T0)
    s, v = walkin(s, "V", at=T0 + timedelta(minutes=1))
    s, events = c.call_next(s, "X1", now=T0 + timedelta(minutes=2))
    assert events[-1].ticket.id == a


def test_priority_in_any_service_goes_first_at_a_shared_counter() -> None:
    s = station()
    s, a = walkin(s, "A", at=T0)
    s, v = walkin(s, "V", at=T0 + timedelta(minutes=1), priority=True)
    s, events = c.call_next(s, "X1", now=T0 + timedelta(minutes=2))
    assert events[-1].ticket.id == v


def served(state: State, minutes: list[float], counter: str = "V1") -> State:
    """Serve one walk-in per entry of `minutes`, each taking that long."""
    at = T0
    for m in minutes:
        state, _ = walkin(state, at=at)
        state, events = c.call_next(state, counter, now=at)
        tid = events[-1].ticket.id
        state, _ = c.act(state, tid, "start", now=at)
        at += timedelta(minutes=m)
        state, _ = c.act(state, tid, "complete", now=at)
    return state


def test_eta_is_position_times_mean_service_time_over_counters() -> None:
    s = station(default_service_minutes=5.0)
    for _ in range(5):
        s, _ = walkin(s)
    # V is served by V1, V2 and X1: ceil(4 × 5 ÷ 3) = 7
    assert policy.eta_minutes(s, "V", 4) == 7
    # real service times move the estimate from the prior: one resident served in 2 minutes
    s = served(station(default_service_minutes=5.0), [2])
    assert policy.mean_service_minutes(s, "V") == (3 * 5.0 + 2) / 4
    assert policy.eta_minutes(s, "V", 3) == 5  # ceil(3 × 4.25 ÷ 3)


def test_many_real_times_outweigh_the_prior() -> None:
    s = served(station(default_service_minutes=5.0, ), [2] * 30)
    # the window keeps the last 10: (3 × 5 + 10 × 2) ÷ 13
    assert policy.mean_service_minutes(s, "V") == (15 + 20) / 13


@pytest.mark.parametrize("seconds", [1, 5, 20])
def test_one_fast_service_does_not_promise_seven_people_a_minute(seconds: int) -> None:
    rules = engine_support.rules(default_service_minutes=5.0)
    one_desk = replace(rules, counters={"V1": rules.counters["V1"]})
    s = served(State(rules=one_desk), [seconds / 60])
    for _ in range(7):
        s, _ = walkin(s)
    assert policy.eta_minutes(s, "V", 7) >= 25  # 7 × (3 × 5 + 1.25) ÷ 4 ≈ 28.4


def test_a_forgotten_ticket_does_not_make_the_wait_hours() -> None:
    s = served(station(default_service_minutes=5.0), [240])
    assert policy.mean_service_minutes(s, "V") == (15 + 20) / 4  # held at 4 × the default


def test_a_paused_counter_is_left_out_of_the_estimate() -> None:
    s = station(default_service_minutes=6.0)
    assert policy.open_counters(s, "V") == 3
    assert policy.eta_minutes(s, "V", 3) == 6
    s = replace(s, paused=frozenset({"V2", "X1"}))
    assert policy.open_counters(s, "V") == 1
    assert policy.eta_minutes(s, "V", 3) == 18
    # every counter on a break: the estimate still counts one, it is never a division by zero
    s = replace(s, paused=frozenset({"V1", "V2", "X1"}))
    assert policy.eta_minutes(s, "V", 3) == 18


def test_no_wait_for_nobody() -> None:
    assert policy.eta_minutes(station(), "V", 0) == 0


@given(durations=st.lists(st.floats(min_value=0, max_value=6 * 3600), max_size=30),
       position=st.integers(min_value=1, max_value=60))
def test_estimate_grows_with_position_and_stays_in_bounds(durations: list[float],
                                                           position: int) -> None:
    default = 5.0
    s = replace(station(default_service_minutes=default), durations={"V": tuple(durations)})
    mean = policy.mean_service_minutes(s, "V")
    assert default / 4 <= mean <= default * 4
    eta = policy.eta_minutes(s, "V", position)
    assert eta >= position * default / 4 / 3 - 1e-9  # three counters serve V
    assert policy.eta_minutes(s, "V", position + 1) >= eta


def test_position_counts_from_one_and_ends_when_called() -> None:
    s = station()
    s, first = walkin(s)
    s, second = walkin(s)
    assert policy.position(s, s.tickets[second], T0) == 2
    s, _ = c.call_next(s, "V1", now=T0)
    assert policy.position(s, s.tickets[second], T0) == 1
    assert policy.position(s, s.tickets[first], T0) is None


# The estimate with `now` (what the station shows): what the counters are doing counts.

def busy(state: State, at: datetime = T0) -> State:
    """V1, V2 and X1 each call a walk-in of V at `at` and start serving them."""
    for counter in ("V1", "V2", "X1"):
        state, _ = walkin(state, at=at)
        state, events = c.call_next(state, counter, now=at)
        state, _ = c.act(state, events[-1].ticket.id, "start", now=at)
    return state


def test_a_free_counter_calls_at_once_a_busy_one_after_its_resident() -> None:
    s, first = walkin(station(default_service_minutes=5.0))
    assert policy.ticket_eta(s, s.tickets[first], T0) == 0
    assert policy.eta_minutes(s, "V", 1, now=T0) == 0
    assert policy.eta_minutes(s, "V", 1) == 2  # without now: as if every desk had just begun
    s = busy(station(default_service_minutes=5.0))
    s, waiting = walkin(s)
    # two minutes into three five-minute services: the next call in about three minutes
    assert policy.ticket_eta(s, s.tickets[waiting], T0 + timedelta(minutes=2)) == 3
    # a service running long is expected to end soon, not to have ended
    assert policy.ticket_eta(s, s.tickets[waiting], T0 + timedelta(minutes=30)) == 1


def test_seven_people_at_one_free_desk_wait_six_services() -> None:
    rules = engine_support.rules(default_service_minutes=5.0)
    one_desk = replace(rules, counters={"V1": rules.counters["V1"]})
    s = served(State(rules=one_desk), [5 / 60])  # one five-second service: a slip of the hand
    ids = []
    for _ in range(7):
        s, tid = walkin(s)
        ids.append(tid)
    waits = policy.stage_waits(s, "V", None, T0)
    # six services before the seventh, each at least (3 × 5 + 1.25) ÷ 4 minutes
    assert waits[ids[-1]] >= 24 and waits[ids[0]] == 0
    assert [waits[i] for i in ids] == sorted(waits[i] for i in ids)


def test_a_booking_whose_slot_opens_goes_ahead_of_earlier_walkins() -> None:
    s = busy(station(default_service_minutes=5.0))
    walkins = []
    for _ in range(6):
        s, tid = walkin(s)
        walkins.append(tid)
    s, early = booking(s, "b1", slot="09:10")  # checked in at 09:00: waits for its slot
    assert policy.position(s, s.tickets[early], T0) == 7
    waits = policy.stage_waits(s, "V", None, T0)
    # calls at 5 (three walk-ins), then at 10 the slot is open: the booking goes first
    assert waits[early] == 10 < policy.eta_minutes(s, "V", 7, now=T0) == 15
    assert [waits[w] for w in walkins] == [5, 5, 5, 10, 10, 15]


def test_a_call_costs_the_walk_to_the_desk_and_the_no_shows() -> None:
    s, tid = walkin(station(default_service_minutes=5.0))
    s, _ = c.call_next(s, "V1", now=T0)
    s, _ = c.act(s, tid, "start", now=T0 + timedelta(minutes=1))
    s, _ = c.act(s, tid, "complete", now=T0 + timedelta(minutes=6))
    s, gone = walkin(s, at=T0 + timedelta(minutes=6))
    s, _ = c.call_next(s, "V1", now=T0 + timedelta(minutes=6))
    s, _ = c.act(s, gone, "no-show", now=T0 + timedelta(minutes=8))
    assert policy.mean_service_minutes(s, "V") == 5.0
    # with the prior of three plain services: (4 served × 5 + 1 walk + 2 waiting) ÷ 5
    assert policy.minutes_per_call(s, "V") == pytest.approx((4 * 5 + 1 + 2) / 5)


def test_paused_counters_are_left_out_with_now_too() -> None:
    s = station(default_service_minutes=5.0)
    for _ in range(3):
        s, last = walkin(s)
    assert policy.ticket_eta(s, s.tickets[last], T0) == 0  # three free counters
    s = replace(s, paused=frozenset({"V2", "X1"}))
    assert policy.ticket_eta(s, s.tickets[last], T0) == 10
    s = replace(s, paused=frozenset({"V1", "V2", "X1"}))  # all on a break: one counter, no now
    assert policy.ticket_eta(s, s.tickets[last], T0) == policy.eta_minutes(s, "V", 3) == 15


def test_no_estimate_for_an_empty_queue_or_a_called_ticket() -> None:
    s = station()
    assert policy.stage_waits(s, "V", None, T0) == {}
    s, tid = walkin(s)
    s, _ = c.call_next(s, "V1", now=T0)
    assert policy.ticket_eta(s, s.tickets[tid], T0) is None
    assert policy.stage_waits(s, "V", None, T0) == {}


def test_a_counter_on_a_break_is_expected_back_after_the_usual_break() -> None:
    """A paused counter calls again once a usual break is over (EXPECTED_BREAK_MINUTES after
    it began); past that it is left out again (over-run, or closed for the day)."""
    rules = engine_support.rules(default_service_minutes=5.0)
    two = replace(rules, counters={k: rules.counters[k] for k in ("V1", "V2")})
    s = State(rules=two)
    ids = []
    for _ in range(5):
        s, tid = walkin(s)
        ids.append(tid)
    s, _ = breaks.pause(s, "V2", now=T0)
    assert s.paused_at == {"V2": T0}
    back = policy.EXPECTED_BREAK_MINUTES
    assert policy.break_left(s, "V2", T0 + timedelta(minutes=10)) == back - 10
    waits = policy.stage_waits(s, "V", None, T0)
    # V1 calls at 0, 5, 10, 15, 20; V2, back at 30, would come later than all of them
    assert [waits[i] for i in ids] == [0, 5, 10, 15, 20]
    later = T0 + timedelta(minutes=back - 4)  # V2 back in four minutes: it takes the second
    assert [policy.stage_waits(s, "V", None, later)[i] for i in ids] == [0, 4, 5, 9, 10]
    assert policy.eta_minutes(s, "V", 2, now=later) == 4
    over = T0 + timedelta(minutes=back + 1)  # the break has run over: V2 is left out again
    assert policy.break_left(s, "V2", over) is None
    assert [policy.stage_waits(s, "V", None, over)[i] for i in ids] == [0, 5, 10, 15, 20]
    # a break whose start is unknown (kept before the engine kept it) is left out, as before
    assert policy.break_left(replace(s, paused_at={}), "V2", later) is None
    s, _ = breaks.resume(s, "V2", now=later)
    assert policy.break_left(s, "V2", later) is None


def test_a_new_day_forgets_the_breaks() -> None:
    s, _ = breaks.pause(station(), "V1", now=T0)
    s, _ = c.open_day(s, T0 + timedelta(days=1))
    assert s.paused == frozenset() and s.paused_at == {}
