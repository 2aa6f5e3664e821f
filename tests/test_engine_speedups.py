"""The engine's and store's shortcuts give the answers of the plain code they replace, over
random command sequences: the queues' lanes kept sorted by the index (lanes.py, read by
policy._order and policy._stage_waits) against sorting them each time, the wait played
forward (policy._stage_waits, its loop made cheaper) and the engine's meta row
(codec.engine_meta, its immutable parts' JSON kept)."""

from __future__ import annotations

import heapq
import itertools
import json
from collections import deque
from dataclasses import asdict
from datetime import datetime, timedelta

from engine_support import rules as station_rules
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import invariant
from test_engine_properties import QueueMachine

from server.engine import commands as c
from server.engine import playforward as pf
from server.engine import policy as p
from server.engine.index import index_of
from server.engine.model import ServiceRules, State, Ticket
from server.store import codec


def plain_engine_meta(state: State) -> str:
    """engine_meta as it was: the whole meta encoded at once, every time."""
    return json.dumps({
        "day": state.day.isoformat() if state.day else None,
        "seq": state.seq,
        "counter_ticket": dict(state.counter_ticket),
        "numbering": dict(state.numbering),
        "streak": dict(state.streak),
        "durations": {k: list(v) for k, v in state.durations.items()},
        "paused": sorted(state.paused),
        "paused_at": {k: v.isoformat() for k, v in state.paused_at.items()},
        "recent_calls": [{**asdict(c), "at": c.at.isoformat()} for c in state.recent_calls],
        "undo": {
            counter: {
                "action": u.action,
                "before": [codec.ticket_to_row(t) for t in u.before],
                "after_versions": [list(x) for x in u.after_versions],
                "created": list(u.created),
                "counter_ticket": u.counter_ticket,
                "streak": [list(x) for x in u.streak],
            }
            for counter, u in state.undo.items()
        },
    }, ensure_ascii=False)


def plain_booked_key(t: Ticket) -> tuple[datetime, datetime, int, str]:
    return (t.slot_start or t.issued_at, t.issued_at, t.seq_no, t.id)


def plain_issued_key(t: Ticket) -> tuple[datetime, int, str]:
    return (t.issued_at, t.seq_no, t.id)


def plain_walkin_due(rules: ServiceRules, streak: int) -> bool:
    return rules.booked_per_walkin > 0 and streak >= rules.booked_per_walkin


def plain_waiting(state: State, service: str, stage: str | None) -> list[Ticket]:
    index = index_of(state)
    if stage == p.ALL_STAGES:
        return index.waiting_in(service)
    return list(index.waiting_at(service, stage))


def plain_lanes(state: State, service: str, stage: str | None,
                now: datetime) -> dict[str, list[Ticket]]:
    """The waiting tickets split by policy.lane at `now` and sorted, as policy did before the
    index kept them sorted."""
    lanes: dict[str, list[Ticket]] = {"priority": [], "booked": [], "walkin": [], "early": []}
    for t in plain_waiting(state, service, stage):
        lanes[p.lane(t, now)].append(t)
    return {"priority": sorted(lanes["priority"], key=plain_issued_key),
            "booked": sorted(lanes["booked"], key=plain_booked_key),
            "walkin": sorted(lanes["walkin"], key=plain_issued_key),
            "early": sorted(lanes["early"], key=plain_booked_key)}


def plain_order(state: State, service: str, now: datetime, stage: str | None) -> list[Ticket]:
    """policy._order as it was, sorting the lanes."""
    rules = state.service(service)
    lanes = plain_lanes(state, service, stage, now)
    out = lanes["priority"]
    booked = deque(lanes["booked"])
    walkins = deque(lanes["walkin"])
    streak = state.streak.get(service, 0)
    while booked or walkins:
        if walkins and (not booked or plain_walkin_due(rules, streak)):
            out.append(walkins.popleft())
            streak = 0
        else:
            out.append(booked.popleft())
            streak += 1
    out.extend(lanes["early"])
    return out


def _plain_call_times(free: list[float], per_call: float):  # type: ignore[no-untyped-def]
    heap = [(at, k) for k, at in enumerate(free)]
    heapq.heapify(heap)
    while True:
        at, k = heapq.heappop(heap)
        yield at
        heapq.heappush(heap, (at + per_call, k))


def _plain_through_pathway(state: State, service: str, stage: str | None, now: datetime,
                           calls: list[float]) -> list[float]:
    rules = state.service(service)
    following = rules.stage_after(stage)
    while following is not None:
        mean = p.mean_service_minutes(state, service, stage)
        per_call = p.minutes_per_call(state, service, following)
        free = p._free_in(state, service, following, now)
        if not free:
            calls = [at + mean for at in calls]
        else:
            before = stage
            index = index_of(state)
            ahead = len(index.waiting.get((service, following), {})) + sum(
                1 for t in index.busy.values() if t.service == service and t.stage == before
                and t.status in ("called", "serving"))
            heap = list(free)
            heapq.heapify(heap)
            for _ in range(ahead):
                heapq.heappush(heap, heapq.heappop(heap) + per_call)
            later = []
            for at in calls:
                call = max(heapq.heappop(heap), at + mean)
                later.append(call)
                heapq.heappush(heap, call + per_call)
            calls = later
        stage, following = following, rules.stage_after(following)
    return calls


def plain_stage_waits(state: State, service: str, stage: str | None,
                      now: datetime) -> dict[str, int]:
    """policy._stage_waits as it was, before its loop was made cheaper."""
    rules = state.service(service)
    waiting = plain_waiting(state, service, stage)
    free = p._free_in(state, service, stage, now)
    if not free:
        return {t.id: p.eta_minutes(state, service, i, stage)
                for i, t in enumerate(p.order(state, service, now, stage), start=1)}
    per_call = p.minutes_per_call(state, service, stage)
    lanes = plain_lanes(state, service, stage, now)
    priority = deque(lanes["priority"])
    booked = deque(lanes["booked"])
    walkins: deque[Ticket | None] = deque(lanes["walkin"])
    early = deque(lanes["early"])
    walkin_rate = p.walkin_rate_per_minute(state, service, now)
    came, streak = 0, state.streak.get(service, 0)
    played: list[tuple[float, Ticket | None]] = []
    found = 0
    calls = _plain_call_times(free, per_call)
    while found < len(waiting):
        at = next(calls)
        when = now + timedelta(minutes=at)
        while early and early[0].slot_start is not None and early[0].slot_start <= when:
            booked.append(early.popleft())
        while came < min(int(walkin_rate * at), p.MAX_EXPECTED):
            walkins.append(None)
            came += 1
        chosen: Ticket | None
        if priority:
            chosen = priority.popleft()
        elif walkins and (not booked or plain_walkin_due(rules, streak)):
            chosen, streak = walkins.popleft(), 0
        elif booked:
            chosen, streak = booked.popleft(), streak + 1
        elif early:
            chosen = early.popleft()
        else:  # pragma: no cover
            break
        played.append((at, chosen))
        found += chosen is not None
    last = _plain_through_pathway(state, service, stage, now, [at for at, _ in played])
    return {t.id: round(at) for at, (_, t) in zip(last, played, strict=True) if t is not None}


def plain_eta_minutes(state: State, service: str, position: int, stage: str | None,
                      now: datetime) -> int:
    """policy.eta_minutes with `now` as it was: the calls taken one by one from a heap."""
    if position <= 0:
        return 0
    rules = state.service(service)
    if stage == p.ALL_STAGES:
        stage = rules.queue_stages[0]
    free = p._free_in(state, service, stage, now)
    if not free:
        return p.eta_minutes(state, service, position, stage)
    per_call = p.minutes_per_call(state, service, stage)
    calls = list(itertools.islice(_plain_call_times(free, per_call), position))
    return round(_plain_through_pathway(state, service, stage, now, calls)[-1])


def _nows(state: State, now: datetime) -> list[datetime]:
    """Now, before it (a ticket issued after the time asked: a transfer's slotless
    continuation sorts by its arrival), a few minutes on (early bookings' slots open while the
    queue plays forward), and at and around the slot start of a few waiting bookings."""
    out = [now, now - timedelta(minutes=5), now + timedelta(minutes=7, seconds=13)]
    starts = sorted({t.slot_start for t in state.tickets.values()
                     if t.status == "waiting" and t.slot_start is not None})
    for start in starts[:2] + starts[-2:]:
        out += [start, start - timedelta(microseconds=1), start + timedelta(microseconds=1)]
    return out


class SameAnswers(QueueMachine):
    @invariant()
    def order_as_sorted_plainly(self) -> None:
        state = self.state
        for now in _nows(state, self.now):
            for service, rules in state.rules.services.items():
                for stage in (*rules.queue_stages, p.ALL_STAGES):
                    assert p._order(state, service, now, stage) == \
                        plain_order(state, service, now, stage)

    @invariant()
    def waits_as_played_plainly(self) -> None:
        state = self.state
        for now in _nows(state, self.now):
            for service, rules in state.rules.services.items():
                for stage in rules.queue_stages:
                    assert p._stage_waits(state, service, stage, now) == \
                        plain_stage_waits(state, service, stage, now)

    @invariant()
    def etas_as_played_plainly(self) -> None:
        state = self.state
        for now in _nows(state, self.now):
            for service, rules in state.rules.services.items():
                for stage in (*rules.queue_stages, p.ALL_STAGES):
                    waiting = len(p.order(state, service, now, stage))
                    for position in {1, 2, waiting, waiting + 1, waiting + 7}:
                        assert p.eta_minutes(state, service, position, stage, now=now) == \
                            plain_eta_minutes(state, service, position, stage, now)

    @invariant()
    def meta_as_encoded_whole(self) -> None:
        # twice: the second time from the kept parts
        assert codec.engine_meta(self.state) == plain_engine_meta(self.state)
        assert codec.engine_meta(self.state) == plain_engine_meta(self.state)


SameAnswers.TestCase.settings = hsettings(
    max_examples=60, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
TestSameAnswers = SameAnswers.TestCase


class SameAnswersOtherTurns(SameAnswers):
    """The same, with a walk-in after every booking, or only when no booking waits."""

    def __init__(self) -> None:
        super().__init__()
        self.turn = next(_turns)
        self.state = State(rules=station_rules(recall_limit=1, booked_per_walkin=self.turn))


_turns = itertools.cycle([1, 0])
SameAnswersOtherTurns.TestCase.settings = hsettings(
    max_examples=40, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
TestSameAnswersOtherTurns = SameAnswersOtherTurns.TestCase


def test_meta_round_trips_with_kept_parts() -> None:
    """A state loaded from the meta written with kept parts is the state written."""
    machine = QueueMachine()
    machine.walk_in("A", False)
    machine.walk_in("V", True)
    machine.call_next("A1")
    machine.call_next("V1")
    machine.time_passes(3)
    machine.call_next("V2")
    state = machine.state
    codec.engine_meta(state)  # the parts' JSON is kept now
    loaded = codec.state_from_meta(state, json.loads(codec.engine_meta(state)),
                                   list(state.tickets.values()))
    assert loaded.undo == state.undo and loaded.recent_calls == state.recent_calls
    assert codec.engine_meta(loaded) == codec.engine_meta(state)


def test_stage_waits_with_early_bookings_opening() -> None:
    """Bookings checked in early get their slot while the queue plays forward: the margin
    before the exact test does not move any of them."""
    machine = QueueMachine()
    for minutes in (1, 2, 5, 9, 15, 30):
        machine.check_in("A", minutes)
        machine.walk_in("A", False)
    machine.call_next("A1")
    state = machine.state
    for seconds in range(0, 40 * 60, 17):
        now = machine.now + timedelta(seconds=seconds)
        assert p._stage_waits(state, "A", None, now) == plain_stage_waits(state, "A", None, now)




def test_lanes_at_a_slot_start_and_without_a_slot() -> None:
    """A booking whose slot starts now is open, not early; a transfer's continuation (booked,
    no slot) is never early, even asked about before it arrived."""
    machine = QueueMachine()
    machine.check_in("A", 0)  # slot starts now
    machine.check_in("A", 20)  # early
    machine.walk_in("V", False)
    machine.call_next("V1")
    held = machine.state.counter_ticket["V1"]
    machine.apply(c.act, held, "start", counter="V1")
    machine.apply(c.act, held, "transfer", counter="V1", service="A")
    state = machine.state
    moved = [t for t in state.tickets.values() if t.transferred_from is not None]
    assert moved and moved[0].slot_start is None and moved[0].status == "waiting"
    for now in _nows(state, machine.now) + [machine.now - timedelta(hours=1)]:
        assert p._order(state, "A", now, None) == plain_order(state, "A", now, None)
        assert p._order(state, "A", now, p.ALL_STAGES) == \
            plain_order(state, "A", now, p.ALL_STAGES)
    lanes = p._lanes(state, "A", None, machine.now - timedelta(minutes=1))
    assert moved[0] in lanes[1]  # booked, not early
    assert [p.lane(t, machine.now) for t in p._order(state, "A", machine.now, None)].count(
        "early") == 1


_minutes = st.one_of(st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0, 1e16, 1e16 + 2.0]),
                     st.floats(min_value=0, max_value=60, allow_nan=False))
_per_call = st.one_of(st.sampled_from([0.0, 1e-17, 0.1, 0.3, 0.5, 1.0, 3.0]),
                      st.floats(min_value=-1, max_value=30, allow_nan=False))


@given(free=st.lists(_minutes, min_size=1, max_size=6), per_call=_per_call,
       n=st.integers(min_value=0, max_value=80))
@hsettings(max_examples=2000, deadline=None)
def test_calls_as_taken_from_a_heap(free: list[float], per_call: float, n: int) -> None:
    """playforward's calls are the heap's floats, ties and rounding included: the first n
    (policy.eta_minutes), and the counters' next calls after n (policy._through_pathway)."""
    free = sorted(free)
    assert pf.first_calls(free, per_call, n) == \
        list(itertools.islice(_plain_call_times(free, per_call), n))
    heap = list(free)
    heapq.heapify(heap)
    for _ in range(n):
        heapq.heappush(heap, heapq.heappop(heap) + per_call)
    assert sorted(pf.after_calls(free, per_call, n)) == sorted(heap)
