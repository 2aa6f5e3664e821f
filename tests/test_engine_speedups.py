"""The engine's and store's shortcuts give the answers of the plain code they replace, over
random command sequences: the wait played forward (policy._stage_waits, its loop made
cheaper) and the engine's meta row (codec.engine_meta, its immutable parts' JSON kept)."""

from __future__ import annotations

import heapq
import json
from collections import deque
from dataclasses import asdict
from datetime import datetime, timedelta

from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from hypothesis.stateful import invariant
from test_engine_properties import QueueMachine

from server.engine import policy as p
from server.engine.index import index_of
from server.engine.model import State, Ticket
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
    waiting = p._waiting(state, service, stage)
    free = p._free_in(state, service, stage, now)
    if not free:
        return {t.id: p.eta_minutes(state, service, i, stage)
                for i, t in enumerate(p.order(state, service, now, stage), start=1)}
    per_call = p.minutes_per_call(state, service, stage)
    lanes: dict[str, list[Ticket]] = {"priority": [], "booked": [], "walkin": [], "early": []}
    for t in waiting:
        lanes[p.lane(t, now)].append(t)
    priority = deque(sorted(lanes["priority"], key=p._issued_key))
    booked = deque(sorted(lanes["booked"], key=p._booked_key))
    walkins: deque[Ticket | None] = deque(sorted(lanes["walkin"], key=p._issued_key))
    early = deque(sorted(lanes["early"], key=p._booked_key))
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
        elif walkins and (not booked or p._walkin_due(rules, streak)):
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


class SameAnswers(QueueMachine):
    @invariant()
    def waits_as_played_plainly(self) -> None:
        state = self.state
        # now and a few minutes on: early bookings' slots open while the queue plays forward
        for now in (self.now, self.now + timedelta(minutes=7, seconds=13)):
            for service, rules in state.rules.services.items():
                for stage in rules.queue_stages:
                    assert p._stage_waits(state, service, stage, now) == \
                        plain_stage_waits(state, service, stage, now)

    @invariant()
    def meta_as_encoded_whole(self) -> None:
        # twice: the second time from the kept parts
        assert codec.engine_meta(self.state) == plain_engine_meta(self.state)
        assert codec.engine_meta(self.state) == plain_engine_meta(self.state)


SameAnswers.TestCase.settings = hsettings(
    max_examples=60, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
TestSameAnswers = SameAnswers.TestCase


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


