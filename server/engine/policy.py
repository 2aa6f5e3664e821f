"""Queue engine (layer 1): which waiting ticket comes next, positions and estimated waits."""

from __future__ import annotations

import math
from collections import deque
from datetime import datetime

from .model import ServiceRules, State, Ticket

ALL_STAGES = "*"  # order(): the waiting tickets of every stage of the service together


def lane(ticket: Ticket, now: datetime) -> str:
    """`priority`, `booked` (slot open), `walkin` (incl. late arrivals), or `early` (slot not
    open yet)."""
    if ticket.priority:
        return "priority"
    if ticket.kind == "walkin" or ticket.late:
        return "walkin"
    if ticket.slot_start is not None and ticket.slot_start > now:
        return "early"
    return "booked"


def _booked_key(t: Ticket) -> tuple[datetime, datetime, int]:
    return (t.slot_start or t.issued_at, t.issued_at, t.seq_no)


def _issued_key(t: Ticket) -> tuple[datetime, int]:
    return (t.issued_at, t.seq_no)


def order(state: State, service: str, now: datetime,
          stage: str | None = ALL_STAGES) -> list[Ticket]:
    """The waiting tickets of `service` (at `stage` of its pathway, or at any) in the order
    calls would take them if nothing changed."""
    rules = state.service(service)
    waiting = [t for t in state.tickets.values() if t.service == service and t.status == "waiting"
               and (stage == ALL_STAGES or t.stage == stage)]
    lanes: dict[str, list[Ticket]] = {"priority": [], "booked": [], "walkin": [], "early": []}
    for t in waiting:
        lanes[lane(t, now)].append(t)
    out = sorted(lanes["priority"], key=_issued_key)
    booked = deque(sorted(lanes["booked"], key=_booked_key))
    walkins = deque(sorted(lanes["walkin"], key=_issued_key))
    streak = state.streak.get(service, 0)
    while booked or walkins:
        if walkins and (not booked or _walkin_due(rules, streak)):
            out.append(walkins.popleft())
            streak = 0
        else:
            out.append(booked.popleft())
            streak += 1
    out.extend(sorted(lanes["early"], key=_booked_key))
    return out


def _walkin_due(rules: ServiceRules, streak: int) -> bool:
    return rules.booked_per_walkin > 0 and streak >= rules.booked_per_walkin


_RANK = {"priority": 0, "booked": 1, "walkin": 1, "early": 2}


def next_for_counter(state: State, counter_id: str, now: datetime) -> Ticket | None:
    """The ticket `counter_id` calls next: each service's head, then by lane and arrival."""
    heads = []
    counter = state.counter(counter_id)
    for service in counter.services:
        for stage in counter.serves(state.service(service)):
            queue = order(state, service, now, stage)
            if queue:
                heads.append(queue[0])
    if not heads:
        return None
    return min(heads, key=lambda t: (_RANK[lane(t, now)], t.issued_at, t.seq_no))


def streak_after_call(state: State, ticket: Ticket, now: datetime) -> int:
    """The booked-since-walk-in count of the ticket's service once `ticket` is called."""
    current = state.streak.get(ticket.service, 0)
    kind = lane(ticket, now)
    if kind == "walkin":
        return 0
    if kind == "booked":
        return current + 1
    return current


# How many services at the configured default time the estimate starts from: the first real
# times move it, one fast or slow service does not swing it (a Bayesian mean with a prior).
PRIOR_SERVICES = 3
# A recorded time is held within [default ÷ 4, default × 4]: a ticket started and completed in
# one tap, or one left open over lunch, is a slip of the hand, not a service time.
DURATION_SPREAD = 4.0


def mean_service_minutes(state: State, service: str) -> float:
    """Recent mean service time, drawn towards the service's default while few are known."""
    default = state.service(service).default_service_minutes
    low, high = default / DURATION_SPREAD, default * DURATION_SPREAD
    recent = [min(max(s / 60.0, low), high) for s in state.durations.get(service, ())]
    return (PRIOR_SERVICES * default + sum(recent)) / (PRIOR_SERVICES + len(recent))


def open_counters(state: State, service: str, stage: str | None = ALL_STAGES) -> int:
    """Counters serving the service (and stage) that are not paused."""
    rules = state.service(service)
    return sum(1 for cid, c in state.rules.counters.items() if service in c.services
               and cid not in state.paused
               and (stage == ALL_STAGES or stage in c.serves(rules)))


def eta_minutes(state: State, service: str, position: int,
                stage: str | None = ALL_STAGES) -> int:
    """Estimated wait: position × recent mean service time ÷ counters serving the stage, plus
    one service time for each stage of the pathway still ahead after this one."""
    if position <= 0:
        return 0
    rules = state.service(service)
    if stage == ALL_STAGES:
        stage = rules.queue_stages[0]
    mean = mean_service_minutes(state, service)
    counters = max(open_counters(state, service, stage), 1)
    ahead = 0
    following = rules.stage_after(stage)
    while following is not None:
        ahead += 1
        following = rules.stage_after(following)
    return math.ceil(position * mean / counters + ahead * mean)


def position(state: State, ticket: Ticket, now: datetime) -> int | None:
    """1 for the next ticket to be called; None once the ticket is no longer waiting."""
    if ticket.status != "waiting":
        return None
    for i, t in enumerate(order(state, ticket.service, now, ticket.stage), start=1):
        if t.id == ticket.id:
            return i
    return None  # pragma: no cover - a waiting ticket is always in its service's order
