"""Engine commands: check-in rules, calling, recall limit, transfer, undo, day rollover."""

from __future__ import annotations

from datetime import timedelta

import pytest
from engine_support import T0, booking, station, walkin

from server.engine import commands as c
from server.engine import policy
from server.engine.errors import DomainError


def codes(fn, *args, **kw) -> str:
    with pytest.raises(DomainError) as err:
        fn(*args, **kw)
    return err.value.code


def test_numbers_per_service_start_at_one() -> None:
    s = station()
    s, v1 = walkin(s, "V")
    s, a1 = walkin(s, "A")
    s, v2 = walkin(s, "V")
    assert [s.tickets[t].number for t in (v1, a1, v2)] == ["V001", "A001", "V002"]


def test_numbers_restart_next_day_and_open_tickets_close() -> None:
    s = station()
    s, old = walkin(s)
    tomorrow = T0 + timedelta(days=1)
    s, events = c.issue_walkin(s, "V", code="x", now=tomorrow)
    assert [e.type for e in events] == ["ticket.cancelled", "ticket.issued"]
    assert events[0].reason == "day_closed" and events[0].ticket.id == old
    assert events[-1].ticket.number == "V001"
    assert old not in s.tickets


def test_events_are_numbered_without_gaps() -> None:
    s = station()
    seqs = []
    for _ in range(3):
        s, events = c.issue_walkin(s, "V", code="x", now=T0)
        seqs += [e.seq for e in events]
    s, events = c.call_next(s, "V1", now=T0)
    seqs += [e.seq for e in events]
    assert seqs == [1, 2, 3, 4] and s.seq == 4


def test_walkins_closed() -> None:
    assert codes(c.issue_walkin, station(walkins=False), "V", code="x", now=T0) == \
        "walkins_closed"


def test_unknown_service_and_counter() -> None:
    assert codes(c.issue_walkin, station(), "Z", code="x", now=T0) == "service_unknown"
    assert codes(c.call_next, station(), "nope", now=T0) == "counter_unknown"


def test_booking_rules() -> None:
    s = station(early_minutes=60)
    other_day = c.BookingInfo("b", "V", T0.date() + timedelta(days=1))
    assert codes(c.check_in, s, other_day, code="x", now=T0) == "booking_wrong_day"
    too_early = c.BookingInfo("b", "V", T0.date(), T0 + timedelta(minutes=61))
    assert codes(c.check_in, s, too_early, code="x", now=T0) == "booking_too_early"
    s, _ = booking(s, "b2")
    again = c.BookingInfo("b2", "V", T0.date(), T0)
    assert codes(c.check_in, s, again, code="x", now=T0) == "booking_checked_in"


def test_call_next_on_empty_queue_changes_nothing() -> None:
    s = station()
    assert codes(c.call_next, s, "V1", now=T0) == "queue_empty"


def test_counter_with_an_unanswered_call_cannot_call_again() -> None:
    s = station()
    s, _ = walkin(s)
    s, _ = walkin(s)
    s, _ = c.call_next(s, "V1", now=T0)
    assert codes(c.call_next, s, "V1", now=T0) == "counter_busy"


def test_call_next_completes_the_ticket_being_served() -> None:
    s = station()
    s, first = walkin(s)
    s, second = walkin(s)
    s, _ = c.call_next(s, "V1", now=T0)
    s, _ = c.act(s, first, "start", now=T0)
    s, events = c.call_next(s, "V1", now=T0 + timedelta(minutes=3))
    assert [(e.type, e.ticket.id) for e in events] == [("ticket.completed", first),
                                                        ("ticket.called", second)]
    assert s.counter_ticket["V1"] == second


def test_two_counters_never_get_the_same_ticket() -> None:
    s = station()
    s, _ = walkin(s)
    s, _ = walkin(s)
    s, e1 = c.call_next(s, "V1", now=T0)
    s, e2 = c.call_next(s, "V2", now=T0)
    assert e1[-1].ticket.id != e2[-1].ticket.id
    assert codes(c.call_next, s, "X1", now=T0) == "queue_empty"


def test_recall_up_to_the_limit_then_no_show() -> None:
    s = station(recall_limit=2)
    s, t = walkin(s)
    s, _ = c.call_next(s, "V1", now=T0)
    s, e = c.act(s, t, "recall", now=T0)
    s, e = c.act(s, t, "recall", now=T0)
    assert e[-1].type == "ticket.recalled" and s.tickets[t].recalls == 2
    s, e = c.act(s, t, "recall", now=T0)
    assert e[-1].type == "ticket.no_show" and e[-1].reason == "recall_limit"
    assert s.counter_ticket["V1"] is None


def test_requeue_sends_a_called_ticket_back_to_wait() -> None:
    s = station()
    s, t = walkin(s)
    s, _ = c.call_next(s, "V1", now=T0)
    s, e = c.act(s, t, "requeue", now=T0)
    assert s.tickets[t].status == "waiting" and s.tickets[t].counter is None


def test_transfer_keeps_the_number_in_the_next_service() -> None:
    s = station()
    s, t = walkin(s, "V")
    s, _ = c.call_next(s, "V1", now=T0)
    s, _ = c.act(s, t, "start", now=T0)
    s, events = c.act(s, t, "transfer", now=T0, service="A")
    assert [e.type for e in events] == ["ticket.transferred", "ticket.issued"]
    moved = events[-1].ticket
    assert moved.number == "V001" and moved.service == "A" and moved.status == "waiting"
    assert s.tickets[t].status == "transferred" and s.tickets[t].transferred_to == moved.id
    s, called = c.call_next(s, "A1", now=T0)
    assert called[-1].ticket.id == moved.id


def test_transfer_needs_another_service() -> None:
    s = station()
    s, t = walkin(s, "V")
    s, _ = c.call_next(s, "V1", now=T0)
    s, _ = c.act(s, t, "start", now=T0)
    assert codes(c.act, s, t, "transfer", now=T0) == "service_required"
    assert codes(c.act, s, t, "transfer", now=T0, service="V") == "transfer_same_service"
    assert codes(c.act, s, t, "transfer", now=T0, service="Q") == "service_unknown"


def test_action_at_the_wrong_counter_is_refused() -> None:
    s = station()
    s, t = walkin(s)
    s, _ = c.call_next(s, "V1", now=T0)
    assert codes(c.act, s, t, "start", now=T0, counter="V2") == "ticket_at_other_counter"


def test_undo_call_next_puts_the_ticket_back() -> None:
    s = station()
    s, t = walkin(s)
    before = s
    s, _ = c.call_next(s, "V1", now=T0)
    s, events = c.undo(s, "V1", now=T0)
    assert [e.type for e in events] == ["ticket.restored"]
    assert s.tickets[t].status == "waiting" and s.tickets[t].counter is None
    assert s.counter_ticket["V1"] is None and s.recent_calls == ()
    assert s.streak == before.streak
    assert codes(c.undo, s, "V1", now=T0) == "nothing_to_undo"


def test_undo_transfer_cancels_the_continuation() -> None:
    s = station()
    s, t = walkin(s)
    s, _ = c.call_next(s, "V1", now=T0)
    s, _ = c.act(s, t, "start", now=T0)
    s, events = c.act(s, t, "transfer", now=T0, service="A")
    moved = events[-1].ticket.id
    s, events = c.undo(s, "V1", now=T0)
    assert s.tickets[t].status == "serving" and s.tickets[moved].status == "cancelled"
    assert s.counter_ticket["V1"] == t


def test_undo_refuses_when_the_ticket_changed_since() -> None:
    s = station()
    s, t = walkin(s)
    s, _ = c.call_next(s, "V1", now=T0)
    s, _ = c.act(s, t, "start", now=T0)  # the start is V1's last action now
    s, _ = c.act(s, t, "complete", now=T0)
    s2, _ = c.undo(s, "V1", now=T0)
    assert s2.tickets[t].status == "serving"
    # a stale record: put the call's record back after the ticket moved on
    s, _ = walkin(s)
    s, e = c.call_next(s, "V1", now=T0)
    called = e[-1].ticket.id
    record = s.undo["V1"]
    s, _ = c.act(s, called, "start", now=T0)
    s = type(s)(**{**s.__dict__, "undo": {"V1": record}})
    assert codes(c.undo, s, "V1", now=T0) == "undo_stale"


def test_cancel_a_waiting_ticket() -> None:
    s = station()
    s, t = walkin(s)
    s, events = c.act(s, t, "cancel", now=T0)
    assert events[-1].type == "ticket.cancelled" and s.tickets[t].status == "cancelled"
    assert codes(c.act, s, t, "cancel", now=T0) == "transition_forbidden"


def test_actions_need_a_counter_when_the_ticket_has_none() -> None:
    s = station()
    s, t = walkin(s)
    assert codes(c.act, s, t, "start", now=T0) == "transition_forbidden"
    assert codes(c.act, s, "nope", "start", now=T0) == "ticket_not_found"


def test_call_is_not_an_action_on_a_named_ticket() -> None:
    s = station()
    s, t = walkin(s)
    assert codes(c.act, s, t, "call", now=T0, counter="V1") == "action_unknown"
    assert codes(c.act, s, t, "teleport", now=T0, counter="V1") == "action_unknown"


def _serving(s, counter: str = "V1"):
    s, t = walkin(s)
    s, _ = c.call_next(s, counter, now=T0)
    s, _ = c.act(s, t, "start", now=T0)
    return s, t


def test_observe_frees_the_counter_and_release_closes_the_ticket() -> None:
    s, t = _serving(station())
    s, events = c.act(s, t, "observe", now=T0 + timedelta(minutes=4))
    assert [e.type for e in events] == ["observation.started"]
    assert events[0].counter == "V1"
    assert s.tickets[t].status == "observing" and s.tickets[t].is_open
    assert s.tickets[t].finished_at is None
    assert s.counter_ticket["V1"] is None and s.durations["V"] == (240.0,)
    # the counter calls the next resident while this one waits out the observation
    s, _ = walkin(s)
    s, called = c.call_next(s, "V1", now=T0 + timedelta(minutes=5))
    assert [e.type for e in called] == ["ticket.called"]
    # released by staff at any desk, or with no counter at all (the observation room's timer)
    later = T0 + timedelta(minutes=34)
    s, events = c.act(s, t, "release", now=later)
    assert [(e.type, e.counter) for e in events] == [("observation.released", None)]
    assert s.tickets[t].status == "released" and s.tickets[t].finished_at == later
    assert not s.tickets[t].is_open
    assert codes(c.act, s, t, "release", now=later) == "transition_forbidden"


def test_release_by_a_named_counter_can_be_undone_by_that_counter() -> None:
    s, t = _serving(station())
    s, _ = c.act(s, t, "observe", now=T0)
    s, events = c.act(s, t, "release", now=T0, counter="A1")
    assert events[-1].counter == "A1"
    s, events = c.undo(s, "A1", now=T0)
    assert [e.type for e in events] == ["ticket.restored"]
    assert s.tickets[t].status == "observing" and s.counter_ticket.get("A1") is None
    assert codes(c.act, s, t, "release", now=T0, counter="nope") == "counter_unknown"


def test_undo_observe_brings_the_resident_back_to_the_counter() -> None:
    s, t = _serving(station())
    s, _ = c.act(s, t, "observe", now=T0)
    s, _ = c.undo(s, "V1", now=T0)
    assert s.tickets[t].status == "serving" and s.counter_ticket["V1"] == t


def test_only_a_ticket_being_served_goes_to_observation() -> None:
    s = station()
    s, t = walkin(s)
    assert codes(c.act, s, t, "observe", now=T0, counter="V1") == "transition_forbidden"
    s, _ = c.call_next(s, "V1", now=T0)
    assert codes(c.act, s, t, "observe", now=T0) == "transition_forbidden"
    assert codes(c.act, s, t, "release", now=T0) == "transition_forbidden"


def test_a_restored_no_show_waits_again_with_its_number_and_undo_takes_it_back() -> None:
    s = station()
    s, first = walkin(s)
    s, second = walkin(s)
    s, _ = c.call_next(s, "V1", now=T0)
    s, _ = c.act(s, first, "no-show", now=T0)
    number = s.tickets[first].number
    s, events = c.act(s, first, "restore", counter="V2", now=T0)
    back = s.tickets[first]
    assert (back.status, back.number, back.recalls, back.counter) == ("waiting", number, 0, None)
    assert [e.type for e in events] == ["ticket.restored"]
    assert events[0].reason == "no_show_restored"
    # back in its place by arrival: ahead of the one who came after
    assert policy.position(s, back, T0) == 1 and policy.position(s, s.tickets[second], T0) == 2
    s, _ = c.undo(s, "V2", now=T0)
    assert s.tickets[first].status == "no_show"
