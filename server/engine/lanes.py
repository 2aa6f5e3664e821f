"""Queue engine (layer 1): each queue's waiting tickets kept sorted by lane, change by change.

policy orders a queue by lane (policy.lane): priority tickets by arrival, then the open
bookings by slot and the walk-ins (late arrivals too) by arrival taken in turn, then the
bookings whose slot has not opened ("early") by slot. Sorting a few hundred tickets with
Python key functions on every new state is what that cost; the index (index.TicketIndex)
keeps instead, per queue, `Lanes`: the tickets already sorted, with their keys, each change
put in with bisect. A `Lanes` is never changed once made (a change copies the one lane it
touches: a few hundred pointers, at C speed), so a parent state's index stays as it was.

Which lane a ticket is in depends on the time only through "early": a booking (not priority,
not a walk-in, not late) whose slot starts after now. The bookings are kept in one lane
sorted by `booked_key`, slot start first (the arrival when there is no slot): the early ones
are those whose first key element is after now, a suffix found by bisect (`Lanes.at`); a
slotless booking keyed by an arrival after now is moved back, in order (`slotless` says
whether any can be).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from datetime import datetime
from operator import itemgetter
from typing import Any

from .model import Ticket

Key = tuple[Any, ...]


# the id last: a transfer's continuation may share its number and arrival with one of the
# service's own tickets, and the order must not depend on which the index met first
def booked_key(t: Ticket) -> tuple[datetime, datetime, int, str]:
    return (t.slot_start or t.issued_at, t.issued_at, t.seq_no, t.id)


def issued_key(t: Ticket) -> tuple[datetime, int, str]:
    return (t.issued_at, t.seq_no, t.id)


def kept_lane(t: Ticket) -> str:
    """The lane a waiting ticket is kept in: `priority`, `walkin` (late arrivals too) or
    `booked` (the early ones too: policy.lane tells them apart with the time)."""
    if t.priority:
        return "priority"
    if t.kind == "walkin" or t.late:
        return "walkin"
    return "booked"


class Lane:
    """Tickets sorted by their keys (unique: a key ends with the ticket's id); `keys[i]` is
    `tickets[i]`'s. Never changed once made."""

    __slots__ = ("keys", "tickets")

    def __init__(self, keys: list[Key], tickets: list[Ticket]) -> None:
        self.keys = keys
        self.tickets = tickets

    def __len__(self) -> int:
        return len(self.keys)

    def with_(self, key: Key, t: Ticket) -> Lane:
        i = bisect.bisect_left(self.keys, key)
        keys, tickets = self.keys.copy(), self.tickets.copy()
        keys.insert(i, key)
        tickets.insert(i, t)
        return Lane(keys, tickets)

    def without(self, key: Key) -> Lane:
        i = bisect.bisect_left(self.keys, key)
        if i == len(self.keys) or self.keys[i] != key:
            return self
        keys, tickets = self.keys.copy(), self.tickets.copy()
        del keys[i], tickets[i]
        return Lane(keys, tickets)


_NO_LANE = Lane([], [])
_KEYS = {"priority": issued_key, "walkin": issued_key, "booked": booked_key}
_first = itemgetter(0)


def _sorted(tickets: list[Ticket], key: Any) -> Lane:
    pairs = sorted((key(t), t) for t in tickets)  # keys are unique: tickets never compared
    return Lane([k for k, _ in pairs], [t for _, t in pairs])


class Lanes:
    """A queue's waiting tickets by kept lane (kept_lane), each sorted by its key; `slotless`:
    how many of the bookings have no slot. Never changed once made."""

    __slots__ = ("priority", "walkin", "booked", "slotless")

    def __init__(self, priority: Lane = _NO_LANE, walkin: Lane = _NO_LANE,
                 booked: Lane = _NO_LANE, slotless: int = 0) -> None:
        self.priority = priority
        self.walkin = walkin
        self.booked = booked
        self.slotless = slotless

    def __len__(self) -> int:
        return len(self.priority) + len(self.walkin) + len(self.booked)

    @staticmethod
    def of(tickets: Iterable[Ticket]) -> Lanes:
        by: dict[str, list[Ticket]] = {"priority": [], "walkin": [], "booked": []}
        for t in tickets:
            by[kept_lane(t)].append(t)
        return Lanes(_sorted(by["priority"], issued_key), _sorted(by["walkin"], issued_key),
                     _sorted(by["booked"], booked_key),
                     sum(1 for t in by["booked"] if t.slot_start is None))

    def changed(self, t: Ticket, add: bool) -> Lanes:
        """These lanes with `t` put in (`add`) or taken out (as it was when put in)."""
        name = kept_lane(t)
        key = _KEYS[name](t)
        lane: Lane = getattr(self, name)
        new = lane.with_(key, t) if add else lane.without(key)
        if new is lane:
            return self
        slotless = self.slotless
        if name == "booked" and t.slot_start is None:
            slotless += 1 if add else -1
        return Lanes(new if name == "priority" else self.priority,
                     new if name == "walkin" else self.walkin,
                     new if name == "booked" else self.booked, slotless)

    def at(self, now: datetime) -> tuple[list[Ticket], list[Ticket], list[Ticket],
                                         list[Ticket]]:
        """New lists of the tickets in policy.lane's lanes at `now`, each in its order:
        priority, booked (slot open), walk-in, early (slot not open yet)."""
        booked = self.booked
        cut = bisect.bisect_right(booked.keys, now, key=_first)
        open_, early = booked.tickets[:cut], booked.tickets[cut:]
        if self.slotless and early:
            # a booking without a slot is never early; keyed by an arrival after now, it
            # sorts after every open one, and stays in order among the others
            open_ += [t for t in early if t.slot_start is None]
            early = [t for t in early if t.slot_start is not None]
        return self.priority.tickets.copy(), open_, self.walkin.tickets.copy(), early


NO_LANES = Lanes()
