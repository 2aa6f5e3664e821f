"""Engine invariants under random command sequences (hypothesis stateful testing)."""

from __future__ import annotations

from datetime import timedelta

from engine_support import T0, rules
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from server.engine import commands as c
from server.engine import counters as breaks
from server.engine.errors import DomainError
from server.engine.model import State
from server.engine.transitions import TRANSITIONS

STATUSES = {"waiting", "called", "serving", "done", "no_show", "cancelled", "transferred",
            "observing", "released", "deferred"}
COUNTERS = ["V1", "V2", "A1", "X1"]
ACTIONS = sorted(c.ACTIONS)


class QueueMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.state = State(rules=rules(recall_limit=1))
        self.now = T0
        self.issued: list[tuple[str, str, str]] = []  # (day, service, number) of new numbers
        self.bookings = 0
        self.last_seq = 0

    def apply(self, fn, *args, **kw) -> None:
        try:
            new, events = fn(self.state, *args, now=self.now, **kw)
        except DomainError:
            return
        for e in events:
            assert e.seq == self.last_seq + 1, "events are numbered without gaps"
            self.last_seq = e.seq
            if e.type == "ticket.called":
                # never call a ticket another counter holds
                holder = [k for k, v in self.state.counter_ticket.items()
                          if v == e.ticket.id and k != e.counter]
                assert not holder
                assert self.state.tickets[e.ticket.id].status == "waiting"
                assert e.counter not in new.paused, "a counter that calls is not on a break"
            if e.type == "ticket.issued" and e.ticket.transferred_from is None:
                self.issued.append((str(e.ticket.day), e.ticket.service, e.ticket.number))
        self.state = new

    @rule(service=st.sampled_from(["V", "A"]), priority=st.booleans())
    def walk_in(self, service: str, priority: bool) -> None:
        self.apply(c.issue_walkin, service, code="x", priority=priority)

    @rule(service=st.sampled_from(["V", "A"]), slot_offset=st.integers(-120, 90))
    def check_in(self, service: str, slot_offset: int) -> None:
        self.bookings += 1
        start = self.now + timedelta(minutes=slot_offset)
        info = c.BookingInfo(f"b{self.bookings}", service, self.now.date(), start,
                             start + timedelta(minutes=30))
        self.apply(c.check_in, info, code="x")

    @rule(counter=st.sampled_from(COUNTERS))
    def call_next(self, counter: str) -> None:
        self.apply(c.call_next, counter)

    @precondition(lambda self: bool(self.state.tickets))
    @rule(data=st.data(), action=st.sampled_from(ACTIONS),
          counter=st.sampled_from(COUNTERS + [None]), service=st.sampled_from(["V", "A"]))
    def act(self, data: st.DataObject, action: str, counter: str | None, service: str) -> None:
        ticket_id = data.draw(st.sampled_from(sorted(self.state.tickets)))
        self.apply(c.act, ticket_id, action, counter=counter, service=service)

    @rule(counter=st.sampled_from(COUNTERS), on=st.booleans())
    def pause_or_resume(self, counter: str, on: bool) -> None:
        self.apply(breaks.pause if on else breaks.resume, counter)

    @rule(counter=st.sampled_from(COUNTERS))
    def undo(self, counter: str) -> None:
        self.apply(c.undo, counter)

    @rule(minutes=st.integers(1, 40))
    def time_passes(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)

    @rule()
    def next_day(self) -> None:
        self.now += timedelta(days=1)
        self.apply(c.open_day)

    @invariant()
    def numbers_unique_per_service_and_day(self) -> None:
        assert len(self.issued) == len(set(self.issued))

    @invariant()
    def every_ticket_in_exactly_one_known_state(self) -> None:
        for t in self.state.tickets.values():
            assert t.status in STATUSES
        by_status = {s: {t.id for t in self.state.tickets.values() if t.status == s}
                     for s in STATUSES}
        assert sum(len(v) for v in by_status.values()) == len(self.state.tickets)

    @invariant()
    def counters_hold_their_own_active_ticket(self) -> None:
        held = [v for v in self.state.counter_ticket.values() if v]
        assert len(held) == len(set(held)), "one ticket at two counters"
        for counter, tid in self.state.counter_ticket.items():
            if tid:
                t = self.state.tickets[tid]
                assert t.status in ("called", "serving") and t.counter == counter
        for t in self.state.tickets.values():
            if t.status in ("called", "serving"):
                assert self.state.counter_ticket.get(t.counter or "") == t.id

    @invariant()
    def statuses_reachable_by_the_table(self) -> None:
        reachable = {"waiting"} | {target for _, target in TRANSITIONS.values()}
        assert {t.status for t in self.state.tickets.values()} <= reachable


QueueMachine.TestCase.settings = hsettings(max_examples=150, stateful_step_count=40,
                                           deadline=None)
TestQueueMachine = QueueMachine.TestCase
