"""Queue engine (layer 1): which waiting ticket comes next, positions and estimated waits."""

from __future__ import annotations

import heapq
import math
import operator
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from .index import arrivals_since, index_of
from .lanes import NO_LANES
from .model import ServiceRules, State, Ticket
from .playforward import after_calls, call_times, first_calls

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


def order(state: State, service: str, now: datetime,
          stage: str | None = ALL_STAGES) -> list[Ticket]:
    """The waiting tickets of `service` (at `stage` of its pathway, or at any) in the order
    calls would take them if nothing changed."""
    key = ("order", service, stage, now)
    memo = _memo(state)
    if key not in memo:
        memo[key] = _order(state, service, now, stage)
    return list(memo[key])


def _memo(state: State) -> dict[tuple[object, ...], Any]:
    """Answers about this state, kept with it (a state never changes; index.py). A command's
    answer and its pushes ask the same questions of the same state several times."""
    memo: dict[tuple[object, ...], Any] | None = state.__dict__.get("_policy_memo")
    if memo is None or len(memo) > MEMO_KEPT:
        memo = {}
        state.__dict__["_policy_memo"] = memo
    return memo


MEMO_KEPT = 64


LaneLists = tuple[list[Ticket], list[Ticket], list[Ticket], list[Ticket]]


def _lanes(state: State, service: str, stage: str | None, now: datetime) -> LaneLists:
    """The waiting tickets of the queue (every stage's together for ALL_STAGES) by `lane` at
    `now`, each lane in its order: priority and walk-ins by arrival, booked and early by slot
    (kept sorted by the index: lanes.py). New lists, the caller's to change."""
    index = index_of(state)
    if stage == ALL_STAGES:
        return index.service_lanes.get(service, NO_LANES).at(now)
    return index.lanes.get((service, stage), NO_LANES).at(now)


def _order(state: State, service: str, now: datetime, stage: str | None) -> list[Ticket]:
    rules = state.service(service)
    out, booked, walkins, early = _lanes(state, service, stage, now)
    due, streak = rules.booked_per_walkin, state.streak.get(service, 0)
    b, w = 0, 0
    if due > 0:  # while both wait: bookings until `due` since the last walk-in, then one
        while b < len(booked) and w < len(walkins):
            if streak >= due:
                out.append(walkins[w])
                w, streak = w + 1, 0
            else:
                run = booked[b:b + due - streak]
                out += run
                b, streak = b + len(run), streak + len(run)
    # then what is left of either (due 0: the walk-ins once no booking waits)
    out += booked[b:]
    out += walkins[w:]
    out += early
    return out


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


def stage_key(service: str, stage: str) -> str:
    """The key of a pathway stage's own service times in `State.durations`."""
    return f"{service}/{stage}"


def mean_service_minutes(state: State, service: str, stage: str | None = None) -> float:
    """Recent mean service time (of `stage` of the pathway, when given and its times are
    kept), drawn towards the service's default while few are known."""
    return _kept(state, ("mean", service, stage), _mean_service_minutes, service, stage)


def _kept(state: State, key: tuple[object, ...], work: Callable[..., float],
          *args: Any) -> float:
    """`work(state, *args)`, asked once per state (_memo)."""
    memo = _memo(state)
    found = memo.get(key)
    if found is None:
        found = memo[key] = work(state, *args)
    return found


def _mean_service_minutes(state: State, service: str, stage: str | None) -> float:
    default = state.service(service).default_service_minutes
    low, high = default / DURATION_SPREAD, default * DURATION_SPREAD
    times = state.durations.get(service, ())
    if stage is not None:
        times = state.durations.get(stage_key(service, stage), times)
    recent = [min(max(s / 60.0, low), high) for s in times]
    return (PRIOR_SERVICES * default + sum(recent)) / (PRIOR_SERVICES + len(recent))


def open_counters(state: State, service: str, stage: str | None = ALL_STAGES) -> int:
    """Counters serving the service (and stage) that are not paused."""
    rules = state.service(service)
    return sum(1 for cid, c in state.rules.counters.items() if service in c.services
               and cid not in state.paused
               and (stage == ALL_STAGES or stage in c.serves(rules)))


def eta_minutes(state: State, service: str, position: int,
                stage: str | None = ALL_STAGES, *, now: datetime | None = None) -> int:
    """Estimated wait of the `position`-th ticket in the queue of `service` (at `stage`), to
    its call at the pathway's last queue stage.

    Without `now`: position × recent mean service time ÷ counters serving the stage, as if
    every counter had just begun a service, plus one service time for each stage still ahead.
    With `now` (what the station shows), what the counters are doing counts: a free counter
    calls at once, a busy one after the rest of its current resident, and a call also costs
    the walk to the desk and the residents who do not come (minutes_per_call); and each later
    stage's queue is played forward too (_through_pathway)."""
    if position <= 0:
        return 0
    rules = state.service(service)
    if stage == ALL_STAGES:
        stage = rules.queue_stages[0]
    mean = mean_service_minutes(state, service)
    ahead = _stages_after(rules, stage)
    free = _free_in(state, service, stage, now) if now is not None else []
    if not free:
        counters = max(open_counters(state, service, stage), 1)
        return math.ceil(position * mean / counters + ahead * mean)
    per_call = minutes_per_call(state, service, stage)
    calls = first_calls(free, per_call, position)
    return round(_through_pathway(state, service, stage, now, calls)[-1])


def _through_pathway(state: State, service: str, stage: str | None, now: datetime | None,
                     calls: list[float]) -> list[float]:
    """From the minutes of the calls at `stage` (in time order), the minutes of the same
    residents' calls at the pathway's last queue stage. Each is ready for the next stage one
    service time after its call; there the residents waiting now and those being served at the
    stage before go first, then each as it is ready, at the next free counter of the stage.
    Each stage with its own times (mean_service_minutes with the stage)."""
    rules = state.service(service)
    following = rules.stage_after(stage)
    while following is not None:
        mean = mean_service_minutes(state, service, stage)
        per_call = minutes_per_call(state, service, following)
        free = _free_in(state, service, following, now) if now is not None else []
        if not free:  # no counter open for the stage: one service time, as without now
            calls = [at + mean for at in calls]
        else:
            before = stage
            index = index_of(state)
            ahead = len(index.waiting.get((service, following), {})) + sum(
                1 for t in index.busy.values() if t.service == service and t.stage == before
                and t.status in ("called", "serving"))
            heap = after_calls(free, per_call, ahead)  # those go first
            heapq.heapify(heap)
            replace = heapq.heapreplace
            later: list[float] = []
            add = later.append
            for at in calls:  # each at the next free counter, once it is ready
                ready, first = at + mean, heap[0]
                call = ready if ready > first else first  # max(first, ready)
                add(call)
                replace(heap, call + per_call)
            calls = later
        stage, following = following, rules.stage_after(following)
    return calls


# The walk to the desk and the no-shows are learnt from this many recent calls, starting from
# none of either (so that a station with no history estimates as before).
CALL_WINDOW = 10


def minutes_per_call(state: State, service: str, stage: str | None = None) -> float:
    """How long a call occupies a counter on average: a resident who comes walks up and is
    served; one who does not costs the wait before the no-show. The service time is the
    stage's, when given (mean_service_minutes)."""
    return _kept(state, ("per_call", service, stage), _minutes_per_call, service, stage)


def _minutes_per_call(state: State, service: str, stage: str | None) -> float:
    recent_closed = index_of(state).recent.get(service)  # oldest first (index.closing)
    closed = [] if recent_closed is None else [
        (finished, state.tickets[tid].called_at, state.tickets[tid])
        for finished, _, tid in recent_closed.top[-CALL_WINDOW:]]
    mean = mean_service_minutes(state, service, stage)
    cap = mean * DURATION_SPREAD  # a resident called and forgotten is not a walk
    overhead, served = 0.0, float(PRIOR_SERVICES)
    recent = closed[-CALL_WINDOW:]
    for finished, called, t in recent:
        assert called is not None
        if t.status != "no_show" and t.started_at is not None:
            overhead += min((t.started_at - called).total_seconds() / 60, cap)
            served += 1
        elif t.status == "no_show":
            overhead += min((finished - called).total_seconds() / 60, cap)
    n = PRIOR_SERVICES + len(recent)
    return served / n * mean + overhead / n


def _free_in(state: State, service: str, stage: str | None, now: datetime) -> list[float]:
    """Minutes until each counter serving the stage is free to call, soonest first: an open
    one within [0, minutes_per_call], free now or after the rest of its current ticket; one on
    a break when it is expected back (break_left), unless its break has run over. A counter
    serving a later stage of the pathway as well calls the residents waiting there first (they
    checked in earlier, and more follow them from this stage): while some wait there it is
    left out, unless no other counter serves the stage; then it is free once its share of
    them is called."""
    rules = state.service(service)
    per_call = minutes_per_call(state, service, stage)
    mean = mean_service_minutes(state, service, stage)
    later = _later_backlog(state, service, stage)
    out: list[float] = []
    held: list[float] = []  # counters that call a later stage first
    for cid, c in state.rules.counters.items():
        if service not in c.services or stage not in c.serves(rules):
            continue
        first = max((later.get(s, 0.0) for s in c.serves(rules)), default=0.0)
        if cid in state.paused:
            back = break_left(state, cid, now)
            if back is not None:
                (held if first else out).append(max(back, first))
            continue
        tid = state.counter_ticket.get(cid)
        current = state.tickets.get(tid) if tid else None
        if current is None or current.status not in ("called", "serving"):
            (held if first else out).append(first)
            continue
        if current.status == "serving" and current.started_at is not None:
            elapsed = (now - current.started_at).total_seconds() / 60
            left = max(mean - elapsed, mean * REMAINING_FLOOR)
        else:
            since = (now - (current.called_at or now)).total_seconds() / 60
            left = max(per_call - since, mean * REMAINING_FLOOR)
        (held if first else out).append(max(min(left, per_call), first))
    return sorted(out or held)


def _later_backlog(state: State, service: str, stage: str | None) -> dict[str | None, float]:
    """For each later stage of the pathway with residents waiting: the minutes its open
    counters take to call them all (waiting ÷ counters × one call's time)."""
    rules = state.service(service)
    out: dict[str | None, float] = {}
    following = rules.stage_after(stage)
    while following is not None:
        waiting = len(index_of(state).waiting.get((service, following), {}))
        counters = open_counters(state, service, following)
        if waiting and counters:
            out[following] = waiting * minutes_per_call(state, service, following) / counters
        following = rules.stage_after(following)
    return out


def ticket_eta(state: State, ticket: Ticket, now: datetime) -> int | None:
    """The wait shown on a waiting ticket; None once it is not waiting (stage_waits)."""
    if ticket.status != "waiting":
        return None
    return stage_waits(state, ticket.service, ticket.stage, now).get(ticket.id)


def stage_waits(state: State, service: str, stage: str | None, now: datetime) -> dict[str, int]:
    """The estimated wait of every ticket waiting at `stage` of `service`, by ticket id.

    The queue is played forward with the call rules of `order`, at the times the counters are
    expected to call (eta_minutes with `now`): a booking that came early is not promised a
    call before its slot opens, and then goes ahead of the walk-ins as it will; walk-ins still
    to come (at today's recent rate) take their share of calls ahead of bookings. Bookings
    still to come are not counted: most come early and wait for their slot, and the
    simulation (bench/simulate.py) found counting them an overestimate."""
    key = ("waits", service, stage, now)
    memo = _memo(state)
    if key not in memo:
        memo[key] = _stage_waits(state, service, stage, now)
    return dict(memo[key])


def share_waits(source: State, target: State, service: str, stage: str | None,
                now: datetime) -> None:
    """`target` gets the waits at `stage` of `service` that `source` has worked out, if any.
    For a caller that knows the two differ in nothing an estimate reads."""
    key = ("waits", service, stage, now)
    found = _memo(source).get(key)
    if found is not None:
        _memo(target).setdefault(key, found)


def _stage_waits(state: State, service: str, stage: str | None,
                 now: datetime) -> dict[str, int]:
    rules = state.service(service)
    lanes = _lanes(state, service, stage, now)
    free = _free_in(state, service, stage, now)
    if not free:  # every counter on a break: as eta_minutes, one counter
        return {t.id: eta_minutes(state, service, i, stage)
                for i, t in enumerate(order(state, service, now, stage), start=1)}
    per_call = minutes_per_call(state, service, stage)
    priority = deque(lanes[0])
    booked = deque(lanes[1])
    # None: a walk-in expected to have come by then
    walkins: deque[Ticket | None] = deque(lanes[2])
    early = deque(lanes[3])
    left = sum(map(len, lanes))
    if not left:
        return {}
    walkin_rate = walkin_rate_per_minute(state, service, now)
    if not walkin_rate > 0 and not early:
        # nobody joins on the way (no walk-in expected, no early booking's slot to open): the
        # calls take the queue in its order as it stands, one call each
        queue = order(state, service, now, stage)
        last = _through_pathway(state, service, stage, now, first_calls(free, per_call, left))
        return dict(zip(map(_ID, queue), map(round, last), strict=True))
    arriving = walkin_rate > 0  # walk-ins still expected to come (at most MAX_EXPECTED)
    came, streak = 0, state.streak.get(service, 0)
    # every call played forward, in time order: the minutes from now, and the ticket or None
    # for a walk-in expected by then (it goes on along the pathway too)
    times: list[float] = []
    time_add = times.append
    chosen_list: list[Ticket | None] = []
    chosen_add = chosen_list.append
    found = 0
    due = rules.booked_per_walkin
    turn = due if due > 0 else math.inf  # a walk-in's turn while bookings wait: streak >= turn
    # the minute before which the first early booking's slot cannot have opened (a margin
    # over the microseconds a timedelta rounds to); at or after it, the exact test decides
    opens_after = _opens_after(early, now)
    for at in call_times(free, per_call):
        if at >= opens_after:
            when = now + timedelta(minutes=at)
            while early and early[0].slot_start is not None and early[0].slot_start <= when:
                booked.append(early.popleft())  # its slot has opened: it queues by slot
            opens_after = _opens_after(early, now)
        if arriving:
            expected = int(walkin_rate * at)
            if expected > came:
                more = min(expected, MAX_EXPECTED) - came
                walkins.extend([None] * more)
                came += more
                arriving = came < MAX_EXPECTED
        chosen: Ticket | None
        if priority:
            chosen = priority.popleft()
        elif walkins and (not booked or streak >= turn):
            chosen, streak = walkins.popleft(), 0
        elif booked:
            chosen, streak = booked.popleft(), streak + 1
        elif early:  # only early bookings wait: a free counter takes the first
            chosen = early.popleft()
            opens_after = _opens_after(early, now)
        else:  # pragma: no cover - a ticket is left, so some lane holds it
            break
        time_add(at)
        chosen_add(chosen)
        if chosen is not None:
            found += 1
            if found >= left:
                break
    last = _through_pathway(state, service, stage, now, times)
    if not came:  # every call a ticket
        return dict(zip(map(_ID, chosen_list), map(round, last), strict=True))
    return {t.id: round(at) for at, t in zip(last, chosen_list, strict=True) if t is not None}


_ID = operator.attrgetter("id")


def _opens_after(early: deque[Ticket], now: datetime) -> float:
    """The minutes from now before which the slot of the first of `early` cannot have opened
    (math.inf: none with a slot waits); see _stage_waits."""
    if not early or early[0].slot_start is None:
        return math.inf
    return (early[0].slot_start - now).total_seconds() / 60 - _MARGIN_MINUTES


_MARGIN_MINUTES = 1e-3


def _stages_after(rules: ServiceRules, stage: str | None) -> int:
    """How many queue stages of the pathway follow `stage`."""
    n, following = 0, rules.stage_after(stage)
    while following is not None:
        n, following = n + 1, rules.stage_after(following)
    return n


# Walk-ins are expected at the rate of this many minutes before now; and the wait played
# forward counts at most this many of them (a bound on the loop, not a figure).
RATE_MINUTES = 60
MAX_EXPECTED = 200


def walkin_rate_per_minute(state: State, service: str, now: datetime) -> float:
    """Walk-ins issued per minute over the last RATE_MINUTES (priority tickets left out:
    they are not a steady stream)."""
    since = now - timedelta(minutes=RATE_MINUTES)
    walkins = arrivals_since(index_of(state).arrivals.get(service), since)
    if walkins is None:  # an hour before the latest ones kept (a clock set back): look
        walkins = sum(1 for t in state.tickets.values() if t.service == service
                      and t.kind == "walkin" and not t.priority and t.issued_at > since)
    return walkins / RATE_MINUTES


# How long a counter's break is expected to last (a nurse's usual break; the engine is not
# told its length). A counter past it is left out again: the break has run over, or the
# counter has closed for the day.
EXPECTED_BREAK_MINUTES = 30


def break_left(state: State, counter: str, now: datetime) -> float | None:
    """Minutes until the paused `counter` is expected back, or None: not paused, its break's
    start unknown (paused before the engine kept it), or past EXPECTED_BREAK_MINUTES."""
    since = state.paused_at.get(counter) if counter in state.paused else None
    if since is None:
        return None
    left = EXPECTED_BREAK_MINUTES - (now - since).total_seconds() / 60
    return left if left > 0 else None


# A service running over its mean is expected to end soon, not now: at least this share of a
# mean service time is left.
REMAINING_FLOOR = 0.2


def position(state: State, ticket: Ticket, now: datetime) -> int | None:
    """1 for the next ticket to be called; None once the ticket is no longer waiting."""
    if ticket.status != "waiting":
        return None
    key = ("positions", ticket.service, ticket.stage, now)
    memo = _memo(state)
    if key not in memo:
        memo[key] = {t.id: i for i, t in enumerate(
            order(state, ticket.service, now, ticket.stage), start=1)}
    position: int | None = memo[key].get(ticket.id)
    return position

