"""The tickets' persistent map and index (server/engine/index.py): the index kept change by
change equals one built from scratch, and a command's work does not grow with the day."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from engine_support import T0, rules
from hypothesis import settings as hsettings
from hypothesis.stateful import invariant
from support import station_settings
from test_engine_properties import QueueMachine

from server import presenter
from server.engine import commands as c
from server.engine import index, policy
from server.engine.index import PMap, TicketIndex, TicketMap, arrivals_since, index_of, tickets_of
from server.engine.lanes import NO_LANES
from server.engine.model import State, Ticket
from server.store import Store


def test_a_map_derived_from_another_leaves_it_as_it_was() -> None:
    first: PMap[str, int] = PMap({"a": 1, "b": 2})
    second = first.updated({"b": 3, "c": 4})
    assert dict(first) == {"a": 1, "b": 2} and len(first) == 2
    assert dict(second) == {"a": 1, "b": 3, "c": 4} and len(second) == 3
    assert second["b"] == 3 and second.get("z") is None and "c" in second and "c" not in first
    assert list(second) == ["a", "b", "c"]  # a dict's order: first put, first met
    assert second == {"a": 1, "b": 3, "c": 4} and first != second


def test_many_changes_fold_the_delta_into_a_new_base_and_lose_nothing() -> None:
    m: PMap[int, int] = PMap({i: i for i in range(100)})
    maps = [m]
    for i in range(1000):
        maps.append(maps[-1].updated({i % 150: -i}))
    expected = {i: i for i in range(100)}
    for i in range(1000):
        expected[i % 150] = -i
    assert dict(maps[-1]) == expected and len(maps[-1]) == 150
    assert dict(maps[0]) == {i: i for i in range(100)}
    assert len(maps[-1]._delta) <= 2 * 10 + 32  # folded: never the whole day


def test_the_store_is_told_which_tickets_changed() -> None:
    state = State(rules=rules(), day=T0.date())
    new, _ = c.issue_walkin(state, "A", code="x", now=T0)
    assert isinstance(new.tickets, TicketMap)
    changed = tickets_of(new).changed_since(tickets_of(state))
    assert changed is not None and [t.id for t in changed] == ["20261127-A001"]
    assert new.tickets.changed_since(new.tickets) == []
    assert new.tickets.changed_since(TicketMap()) is None  # not derived from it: unknown


# ---- the index kept change by change is the one built from scratch ----------------------

def _check_index(state: State, now: datetime) -> None:
    kept = index_of(state)
    built = TicketIndex.build(state.tickets.values())
    assert {q: dict(v) for q, v in kept.waiting.items() if v} == \
        {q: dict(v) for q, v in built.waiting.items() if v}
    # each lane sorted as if sorted afresh: each queue's, and each service's (every stage)
    for kept_lanes, built_lanes in ((kept.lanes, built.lanes),
                                    (kept.service_lanes, built.service_lanes)):
        for q in set(kept_lanes) | set(built_lanes):
            mine, fresh = kept_lanes.get(q, NO_LANES), built_lanes.get(q, NO_LANES)
            for lane in ("priority", "walkin", "booked"):
                assert getattr(mine, lane).keys == getattr(fresh, lane).keys
                assert getattr(mine, lane).tickets == getattr(fresh, lane).tickets
            assert mine.slotless == fresh.slotless
    assert dict(kept.busy) == dict(built.busy)
    assert {s: n for s, n in kept.given.items() if n} == dict(built.given)
    assert dict(kept.bookings) == dict(built.bookings)
    for service in state.rules.services:
        closings = sorted((t.finished_at, t.seq_no, t.id) for t in state.tickets.values()
                          if t.service == service and t.status in ("done", "no_show")
                          and t.called_at is not None and t.finished_at is not None)
        recent = kept.recent.get(service, index.Recent())
        assert recent.count == len(closings)
        assert len(recent.top) >= min(policy.CALL_WINDOW, len(closings))
        assert list(recent.top) == closings[len(closings) - len(recent.top):]
        for since in (now - timedelta(minutes=policy.RATE_MINUTES), now, now - timedelta(days=1)):
            n = arrivals_since(kept.arrivals.get(service), since)
            if n is not None:
                assert n == sum(1 for t in state.tickets.values() if t.service == service
                                and t.kind == "walkin" and not t.priority
                                and t.issued_at > since)


class IndexMachine(QueueMachine):
    """The engine's random command sequences (test_engine_properties), the index checked
    after each step."""

    @invariant()
    def index_is_the_one_built_from_scratch(self) -> None:
        _check_index(self.state, self.now)

    @invariant()
    def waits_kept_with_a_state_are_its_own(self) -> None:
        """A new ticket's command hands its result the waits it worked out (share_waits)."""
        for key, waits in list(self.state.__dict__.get("_policy_memo", {}).items()):
            if key[0] == "waits":
                _, service, stage, now = key
                assert waits == policy._stage_waits(self.state, service, stage, now)


IndexMachine.TestCase.settings = hsettings(max_examples=100, stateful_step_count=40,
                                           deadline=None)
TestIndexMachine = IndexMachine.TestCase


# ---- a command's work on a day of 10,000 tickets is that on a day of 10 ----------------

NOW = T0 + timedelta(hours=8)


def _day(closed: int) -> State:
    """`closed` tickets of A served today, then the same few waiting of V and A."""
    r = rules()
    tickets: dict[str, Ticket] = {}
    numbering: dict[str, int] = {}

    def add(service: str, **fields: object) -> None:
        n = numbering[service] = numbering.get(service, 0) + 1
        t = Ticket(id=f"{T0:%Y%m%d}-{service}{n:05d}", day=T0.date(), service=service,
                   number=f"{service}{n:05d}", seq_no=n, kind="walkin",
                   issued_at=T0 + timedelta(seconds=n), code=f"c{service}{n}",
                   **{"status": "waiting", **fields})  # type: ignore[arg-type]
        tickets[t.id] = t

    for i in range(closed):
        at = T0 + timedelta(seconds=i + 60)
        add("A", status="done", called_at=at, started_at=at, finished_at=at, counter="A1")
    for _ in range(3):
        add("V")
        add("A")
    return State(rules=r, day=T0.date(), tickets=tickets, numbering=numbering,
                 seq=len(tickets))


def _work(state: State) -> int:
    """Tickets looked at by a walk-in, a check-in, a call, a start and a completion, each
    with what is pushed for it (queue summaries, event messages, the phone delta) and what
    the store writes."""
    settings = station_settings(database=":memory:")
    store = Store(":memory:")
    index_of(state)  # built once when a station loads its day; not a command's work
    before = index.touched[0]
    steps = [
        lambda s: c.issue_walkin(s, "A", code="w", now=NOW),
        lambda s: c.check_in(s, c.BookingInfo("b1", "V", NOW.date(), NOW, NOW), code="b",
                             now=NOW),
        lambda s: c.call_next(s, "V1", now=NOW),
        lambda s: c.act(s, s.counter_ticket["V1"], "start", now=NOW),
        lambda s: c.act(s, s.counter_ticket["V1"], "complete", now=NOW),
    ]
    for step in steps:
        new, events = step(state)
        store.save(state, new, events)
        queues = {e.ticket.service: presenter.queue_summary(new, e.ticket.service, NOW)
                  for e in events}
        for e in events:
            message = presenter.event_message(e, new, settings, NOW, queues).to_dict()
            presenter.phone_delta(message, new)
            presenter.ticket_view(new, new.tickets[e.ticket.id], NOW)
        state = new
    store.close()
    return index.touched[0] - before


@pytest.mark.parametrize("closed", [10_000])
def test_a_command_costs_what_changes_not_what_the_day_holds(closed: int) -> None:
    small, large = _work(_day(10)), _work(_day(closed))
    assert small > 0
    assert large == small


def test_a_pass_over_every_ticket_is_counted() -> None:
    """What makes the test above able to fail: a pass over the map counts every ticket."""
    state = _day(100)
    index_of(state)
    before = index.touched[0]
    sum(1 for _ in tickets_of(state).values())
    assert index.touched[0] - before == len(state.tickets)
