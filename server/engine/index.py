"""Queue engine (layer 1): the day's tickets as a persistent map, with the views commands ask.

A mass-vaccination day holds ten thousand tickets, of which a few hundred are open; a command
changes one or two. `TicketMap` is an immutable mapping that a change derives from without
copying: it shares its parent's `base` dict and keeps its own small `delta` of changed
tickets, folding the two into a new base once the delta outgrows about 2·√n entries (so a
change costs O(√n) pointer copies in all, at C speed, instead of a copy of every ticket). Its
`index` (the waiting tickets of each queue, also sorted by lane (lanes.py) per queue and per
service, every stage together; the tickets at desks or in observation, each service's latest
closings and walk-in arrivals, today's booking → ticket) is carried from parent to child
change by change: what policy asks costs what is open, not what the day holds.
A map built from a plain dict computes its index once, when first asked.
"""

from __future__ import annotations

import bisect
import math
import weakref
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar, cast

from .lanes import NO_LANES, Lanes
from .model import OPEN_STATUSES, State, Ticket

K = TypeVar("K")
V = TypeVar("V")
_MISSING: Any = object()

# The closings kept per service for the estimate's recent calls (policy.CALL_WINDOW of them
# are read); more are kept so that a few taken back (undo, restore) need no rescan.
RECENT_KEPT = 32
# Walk-in arrivals kept per service: those of this long before the latest (the rate reads
# the last hour); a question about an earlier hour is answered by a scan.
ARRIVALS_KEPT = timedelta(hours=2)
CLOSED = ("done", "no_show")
# a vaccinated resident's call ended at the desk with the dose: observing, then released
SERVED_AT_DESK = frozenset({"observing", "released"})

# How many tickets have been looked at: by the index (built or updated) or by a pass over a
# whole map. Tests count it to check that a command's work does not grow with the day
# (tests/test_engine_index.py).
touched = [0]


class PMap(Mapping[K, V], Generic[K, V]):
    """An immutable mapping whose `updated` copies only what changed (see the module's doc)."""

    __slots__ = ("_base", "_delta", "_len", "_merged", "__weakref__")

    def __init__(self, items: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        self._base: dict[K, V] = dict(items)
        self._delta: dict[K, V] = {}
        self._len = len(self._base)
        self._merged: dict[K, V] | None = self._base

    def __getitem__(self, key: K) -> V:
        value = self._delta.get(key, _MISSING)
        return self._base[key] if value is _MISSING else cast(V, value)

    def get(self, key: K, default: Any = None) -> Any:
        value = self._delta.get(key, _MISSING)
        return self._base.get(key, default) if value is _MISSING else value

    def __contains__(self, key: object) -> bool:
        return key in self._delta or key in self._base

    def __len__(self) -> int:
        return self._len

    def _all(self) -> dict[K, V]:
        if self._merged is None:
            self._merged = {**self._base, **self._delta}
        return self._merged

    def _every(self) -> dict[K, V]:
        touched[0] += self._len  # a pass over every entry (counted: tests/test_engine_index.py)
        return self._all()

    def __iter__(self) -> Iterator[K]:
        return iter(self._every())

    def keys(self) -> Any:
        return self._every().keys()

    def values(self) -> Any:
        return self._every().values()

    def items(self) -> Any:
        return self._every().items()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PMap):
            return self._all() == other._all()
        if isinstance(other, Mapping):
            return self._all() == dict(other.items())
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._all()!r})"

    def _derive(self, changes: Mapping[K, V]) -> PMap[K, V]:
        new = object.__new__(type(self))
        new._len = self._len + sum(1 for k in changes if k not in self)
        delta = {**self._delta, **changes}
        if len(delta) > 2 * math.isqrt(len(self._base)) + 32:
            new._base = {**self._base, **delta}
            new._delta = {}
            new._merged = new._base
        else:
            new._base = self._base
            new._delta = delta
            new._merged = None
        return new

    def updated(self, changes: Mapping[K, V]) -> PMap[K, V]:
        """A map with `changes` put in; this one stays as it is."""
        return self._derive(changes) if changes else self


class TicketMap(PMap[str, Ticket]):
    """The tickets of a state, with their index (module doc)."""

    __slots__ = ("_index", "_parent", "_changes")

    def __init__(self, items: Mapping[str, Ticket] | Iterable[tuple[str, Ticket]] = ()) -> None:
        super().__init__(items)
        self._index: TicketIndex | None = None
        self._parent: weakref.ref[TicketMap] | None = None
        self._changes: tuple[str, ...] = ()

    @classmethod
    def of(cls, tickets: Mapping[str, Ticket]) -> TicketMap:
        return tickets if isinstance(tickets, TicketMap) else cls(tickets)

    @property
    def index(self) -> TicketIndex:
        if self._index is None:
            self._index = TicketIndex.build(self.values())
        return self._index

    def updated(self, changes: Mapping[str, Ticket]) -> TicketMap:
        if not changes:
            return self
        index = self.index
        new = cast(TicketMap, self._derive(changes))
        new._parent = weakref.ref(self)
        new._changes = tuple(changes)
        new._index = None
        new._index = index.updated(self, new, changes)
        return new

    def changed_since(self, older: Mapping[str, Ticket]) -> list[Ticket] | None:
        """The tickets changed from `older`, when this map was derived from it in one step;
        None when that is not known (the caller compares them all)."""
        if self is older:
            return []
        if self._parent is not None and self._parent() is older:
            return [self[k] for k in self._changes]
        return None


@dataclass(frozen=True)
class Recent:
    """A service's latest closings (index._closing: done, no-show or dose given), oldest
    first, as (finished_at, seq_no, id); `count`: its closings in all."""

    top: tuple[tuple[datetime, int, str], ...] = ()
    count: int = 0


@dataclass(frozen=True)
class Arrivals:
    """A service's walk-in arrival times (issued_at of walk-ins, priority ones left out),
    sorted; those before `pruned` (the latest dropped) were dropped."""

    times: tuple[datetime, ...] = ()
    pruned: datetime | None = None


Queue = tuple[str, str | None]  # (service, stage)


def _closing(t: Ticket) -> tuple[datetime, int, str] | None:
    """A call that ended: done or no-show (at its finish), or a dose given (the call ended at
    the desk with it: observing, then released; at its start)."""
    if t.called_at is None:
        return None
    if t.status in CLOSED and t.finished_at is not None:
        return (t.finished_at, t.seq_no, t.id)
    if t.status in SERVED_AT_DESK and t.started_at is not None:
        return (t.started_at, t.seq_no, t.id)
    return None


def _arrival(t: Ticket) -> datetime | None:
    return t.issued_at if t.kind == "walkin" and not t.priority else None


def _given(t: Ticket) -> bool:
    """A walk-in number given (what a service's walk-in capacity counts)."""
    return t.kind == "walkin" and t.booking_id is None and t.transferred_from is None


@dataclass(frozen=True)
class TicketIndex:
    """What policy and commands ask of the tickets, without looking at them all. Every field
    is replaced, never changed, by `updated`."""

    waiting: Mapping[Queue, Mapping[str, Ticket]]
    lanes: Mapping[Queue, Lanes]  # the same tickets, sorted by lane (lanes.py)
    service_lanes: Mapping[str, Lanes]  # each service's, every stage together
    busy: Mapping[str, Ticket]  # open, not waiting: called, serving, observing
    recent: Mapping[str, Recent]
    arrivals: Mapping[str, Arrivals]
    given: Mapping[str, int]
    bookings: PMap[str, str]  # booking id -> its (first) ticket's id

    @staticmethod
    def build(tickets: Iterable[Ticket]) -> TicketIndex:
        waiting: dict[Queue, dict[str, Ticket]] = {}
        busy: dict[str, Ticket] = {}
        closings: dict[str, list[tuple[datetime, int, str]]] = {}
        times: dict[str, list[datetime]] = {}
        given: dict[str, int] = {}
        bookings: dict[str, str] = {}
        for t in tickets:
            touched[0] += 1
            if t.status == "waiting":
                waiting.setdefault((t.service, t.stage), {})[t.id] = t
            elif t.status in OPEN_STATUSES:
                busy[t.id] = t
            key = _closing(t)
            if key is not None:
                closings.setdefault(t.service, []).append(key)
            arrived = _arrival(t)
            if arrived is not None:
                times.setdefault(t.service, []).append(arrived)
            if _given(t):
                given[t.service] = given.get(t.service, 0) + 1
            if t.booking_id is not None and t.transferred_from is None:
                bookings.setdefault(t.booking_id, t.id)
        recent = {s: Recent(tuple(sorted(keys)[-RECENT_KEPT:]), len(keys))
                  for s, keys in closings.items()}
        arrivals = {s: _prune(Arrivals(tuple(sorted(ts)))) for s, ts in times.items()}
        lanes = {q: Lanes.of(queue.values()) for q, queue in waiting.items()}
        by_service: dict[str, list[Ticket]] = {}
        for (service, _), queue in waiting.items():
            by_service.setdefault(service, []).extend(queue.values())
        service_lanes = {s: Lanes.of(ts) for s, ts in by_service.items()}
        return TicketIndex(waiting, lanes, service_lanes, busy, recent, arrivals, given,
                           PMap(bookings))

    def updated(self, old: TicketMap, new: TicketMap,
                changes: Mapping[str, Ticket]) -> TicketIndex:
        """The index of `new`: `old` with `changes` put in."""
        waiting: dict[Queue, Mapping[str, Ticket]] | None = None
        lanes: dict[Queue, Lanes] = {}  # the queues' changed lanes
        service_lanes: dict[str, Lanes] = {}  # and the services'
        copied: set[Queue] = set()
        busy: dict[str, Ticket] | None = None
        recent: dict[str, Recent] | None = None
        arrivals: dict[str, Arrivals] | None = None
        given: dict[str, int] | None = None
        bookings: dict[str, str] = {}
        for tid, t in changes.items():
            touched[0] += 1
            was = old.get(tid)
            # the queues
            for ticket, add in ((was, False), (t, True)):
                if ticket is None or ticket.status != "waiting":
                    continue
                q = (ticket.service, ticket.stage)
                if waiting is None:
                    waiting = dict(self.waiting)
                if q not in copied:
                    waiting[q] = dict(waiting.get(q, {}))
                    copied.add(q)
                inner = cast(dict[str, Ticket], waiting[q])
                if add:
                    inner[tid] = t
                else:
                    inner.pop(tid, None)
                kept = lanes[q] if q in lanes else self.lanes.get(q, NO_LANES)
                lanes[q] = kept.changed(ticket, add)
                svc = ticket.service
                kept = service_lanes[svc] if svc in service_lanes else \
                    self.service_lanes.get(svc, NO_LANES)
                service_lanes[svc] = kept.changed(ticket, add)
            was_busy = was is not None and was.status in OPEN_STATUSES and \
                was.status != "waiting"
            is_busy = t.status in OPEN_STATUSES and t.status != "waiting"
            if was_busy or is_busy:
                if busy is None:
                    busy = dict(self.busy)
                if is_busy:
                    busy[tid] = t
                else:
                    busy.pop(tid, None)
            # the service's latest closings
            before, after = (_closing(was) if was else None), _closing(t)
            if before != after:
                if recent is None:
                    recent = dict(self.recent)
                if before is not None and was is not None:
                    recent[was.service] = _without(recent.get(was.service, Recent()), before)
                if after is not None:
                    recent[t.service] = _with(recent.get(t.service, Recent()), after)
            gone, came = (_arrival(was) if was else None), _arrival(t)
            if gone != came or (was is not None and was.service != t.service):
                if arrivals is None:
                    arrivals = dict(self.arrivals)
                if gone is not None and was is not None:
                    arrivals[was.service] = _leave(arrivals.get(was.service, Arrivals()), gone)
                if came is not None:
                    arrivals[t.service] = _prune(_arrive(arrivals.get(t.service, Arrivals()),
                                                         came))
            if _given(t) != (was is not None and _given(was)):
                if given is None:
                    given = dict(self.given)
                if was is not None and _given(was):
                    given[was.service] -= 1
                if _given(t):
                    given[t.service] = given.get(t.service, 0) + 1
            if t.booking_id is not None and t.transferred_from is None and \
                    t.booking_id not in self.bookings and t.booking_id not in bookings:
                bookings[t.booking_id] = tid
        out = replace(
            self,
            waiting=self.waiting if waiting is None else waiting,
            lanes={**self.lanes, **lanes} if lanes else self.lanes,
            service_lanes={**self.service_lanes, **service_lanes} if service_lanes else
            self.service_lanes,
            busy=self.busy if busy is None else busy,
            recent=self.recent if recent is None else recent,
            arrivals=self.arrivals if arrivals is None else arrivals,
            given=self.given if given is None else given,
            bookings=self.bookings.updated(bookings),
        )
        if recent is not None:
            # at least CALL_WINDOW of the latest are kept (RECENT_KEPT // 2 is more)
            stale = [s for s, r in recent.items() if len(r.top) < min(RECENT_KEPT // 2, r.count)]
            if stale:  # too many of the kept ones were taken back: look at the service again
                fresh = dict(recent)
                for s in stale:
                    keys = []
                    for x in new.values():
                        touched[0] += 1
                        k = _closing(x)
                        if x.service == s and k is not None:
                            keys.append(k)
                    fresh[s] = Recent(tuple(sorted(keys)[-RECENT_KEPT:]), len(keys))
                out = replace(out, recent=fresh)
        return out

    def waiting_at(self, service: str, stage: str | None) -> Iterable[Ticket]:
        return self.waiting.get((service, stage), {}).values()

    def waiting_in(self, service: str) -> list[Ticket]:
        """The waiting tickets of every stage of `service`."""
        return [t for (s, _), queue in self.waiting.items() if s == service
                for t in queue.values()]


def _with(r: Recent, key: tuple[datetime, int, str]) -> Recent:
    top = list(r.top)
    if len(top) < r.count and top and key < top[0]:
        return Recent(r.top, r.count + 1)  # older than every kept one: counted, not kept
    bisect.insort(top, key)
    return Recent(tuple(top[-RECENT_KEPT:]), r.count + 1)


def _without(r: Recent, key: tuple[datetime, int, str]) -> Recent:
    top = list(r.top)
    i = bisect.bisect_left(top, key)
    if i < len(top) and top[i] == key:
        del top[i]
    return Recent(tuple(top), r.count - 1)


def _arrive(a: Arrivals, at: datetime) -> Arrivals:
    times = list(a.times)
    bisect.insort(times, at)
    return Arrivals(tuple(times), a.pruned)


def _leave(a: Arrivals, at: datetime) -> Arrivals:
    times = list(a.times)
    i = bisect.bisect_left(times, at)
    if i < len(times) and times[i] == at:
        del times[i]
        return Arrivals(tuple(times), a.pruned)
    # an arrival already dropped: the kept ones no longer tell the hour before it
    return Arrivals(a.times, at if a.pruned is None else max(a.pruned, at))


def _prune(a: Arrivals) -> Arrivals:
    if not a.times:
        return a
    cut = bisect.bisect_left(a.times, a.times[-1] - ARRIVALS_KEPT)
    if cut == 0:
        return a
    dropped = a.times[cut - 1]
    return Arrivals(a.times[cut:], dropped if a.pruned is None else max(a.pruned, dropped))


def tickets_of(state: State) -> TicketMap:
    """The state's tickets as a TicketMap: they are one when a command made the state; a
    state built from a plain dict gets one, kept with it (a state never changes)."""
    tickets = state.tickets
    if isinstance(tickets, TicketMap):
        return tickets
    kept = state.__dict__.get("_ticket_map")
    if kept is None:
        kept = state.__dict__["_ticket_map"] = TicketMap(tickets)
    return cast(TicketMap, kept)


def index_of(state: State) -> TicketIndex:
    """The open tickets by queue and what the estimate reads, kept change by change."""
    return tickets_of(state).index


def arrivals_since(a: Arrivals | None, since: datetime) -> int | None:
    """Walk-ins issued after `since`; None when the kept ones cannot tell (a scan can)."""
    if a is None:
        return 0
    if a.pruned is not None and since < a.pruned:
        return None
    return len(a.times) - bisect.bisect_right(a.times, since)
