"""Views (layer 3, adapter): what each kind of watcher may see, and snapshots built once per
state and shared.

- staff (a console): everything, the full names too (presenter's staff view);
- display: numbers, counters, masked names where the station shows them; no phone-page codes,
  no booking ids, no health answers (presenter's public view);
- kiosk: the queues' counts and waits, and only the tickets it issued itself, with their
  phone-page codes (it prints them); any other ticket only as a phone sees it (`stub`: number,
  status, counter — what the waiting room's screen shows anyway), and in a snapshot not at all.

The engine's state is immutable, so a snapshot can be built from a reference to it without
the station's lock: `Snapshots` builds one per (state, audience) at most once — five displays
asking at once share one build — and keeps it while the state and the second stand.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.names import shown_mask

from . import presenter
from .auth import Principal
from .config import Settings
from .engine.model import State, Ticket

STAFF, DISPLAY, KIOSK = "staff", "display", "kiosk"


@dataclass(frozen=True)
class Audience:
    """Who a snapshot or delta is for; `kiosk`: the kiosk's device id (its own tickets)."""

    kind: str
    kiosk: str | None = None

    @staticmethod
    def of(who: Principal) -> Audience:
        if who.kind == "staff":
            return Audience(STAFF)
        if who.role == "kiosk":
            return Audience(KIOSK, who.id)
        return Audience(DISPLAY)

    def owns(self, ticket: Ticket) -> bool:
        return self.kind == KIOSK and ticket.issued_by is not None and \
            ticket.issued_by == self.kiosk


def stub(view: dict[str, Any]) -> dict[str, Any]:
    """A ticket as a kiosk sees one it did not issue: what anyone's phone sees of it."""
    return {k: view.get(k) for k in presenter.PHONE_FIELDS}


def own(view: dict[str, Any], ticket: Ticket) -> dict[str, Any]:
    """A public ticket view with what its own kiosk adds: the phone-page code it prints, the
    booking it checked in and the masked name it prints (never the full name)."""
    return {**view, "code": ticket.code, "booking_id": ticket.booking_id,
            "name_masked": shown_mask(ticket.name_masked),
            "screening_yes": list(ticket.screening_yes), "age": presenter.age(ticket)}


def build(state: State, settings: Settings, now: datetime, audience: Audience,
          public: dict[str, Any] | None = None) -> dict[str, Any]:
    """The snapshot for `audience`; a kiosk's is made from the display's (`public`, when the
    caller has it: it is not changed)."""
    if audience.kind == STAFF:
        return presenter.snapshot(state, settings, now, private=True, staff=True)
    if public is None:
        public = presenter.snapshot(state, settings, now, private=False)
    if audience.kind != KIOSK:
        return public
    return kiosk_snapshot(public, state, audience)


def kiosk_snapshot(public: dict[str, Any], state: State, audience: Audience) -> dict[str, Any]:
    def mine(view: dict[str, Any]) -> Ticket | None:
        ticket = state.tickets.get(view["id"])
        return ticket if ticket is not None and audience.owns(ticket) else None

    def keep(views: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [own(v, t) for v in views if (t := mine(v)) is not None]

    out = dict(public)
    out["services"] = [{**s, "tickets": keep(s["tickets"])} for s in public["services"]]
    out["observing"] = keep(public["observing"])
    out["counters"] = [{**c, "ticket": None if c["ticket"] is None else
                        own(c["ticket"], t) if (t := mine(c["ticket"])) is not None
                        else stub(c["ticket"])} for c in public["counters"]]
    out["recent_calls"] = [{**c, "name_masked": shown_mask(t.name_masked)}
                           for c in public["recent_calls"]
                           if (t := state.tickets.get(c["ticket_id"])) is not None
                           and audience.owns(t)]
    return out


def kiosk_event(public: dict[str, Any], ticket: Ticket, owner: bool) -> dict[str, Any]:
    """A public delta as a kiosk gets it: its own ticket with its code, any other as a stub."""
    view = own(public["ticket"], ticket) if owner else stub(public["ticket"])
    return {**public, "ticket": view}


def kiosk_counters(public: dict[str, Any]) -> dict[str, Any]:
    """Socket.IO `counters` for kiosks: which counters are on a break, no tickets' details."""
    return {**public, "counters": [{**c, "ticket": None if c["ticket"] is None
                                    else stub(c["ticket"])} for c in public["counters"]]}


class Snapshots:
    """Snapshots per audience, each built at most once per state and second of the station's
    clock (waits and the order of booked arrivals move with it) and shared by every client
    that asks meanwhile. Built from a state reference, without the station's lock; the caller
    checks the state did not move on before it sends (server.web.realtime)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._building: dict[Audience, threading.Lock] = {}
        # audience -> (the state it was built from, the second, the snapshot)
        self._built: dict[Audience, tuple[State, datetime, dict[str, Any]]] = {}
        self.builds = 0  # how many were built (the tests count the shared ones)

    def get(self, state: State, now: datetime, audience: Audience) -> dict[str, Any]:
        """The snapshot of `state` for `audience`: shared, so the caller must not change it
        (`with_now` makes the copy a client gets)."""
        with self._lock:
            building = self._building.setdefault(audience, threading.Lock())
        with building:  # one build per audience at a time; the others wait and share it
            second = now.replace(microsecond=0)
            cached = self._fresh(state, second, audience)
            if cached is not None:
                return cached
            public = self.get(state, now, Audience(DISPLAY)) if audience.kind == KIOSK else None
            snapshot = build(state, self.settings, now, audience, public)
            with self._lock:
                self._built[audience] = (state, second, snapshot)
                self.builds += 1
            return snapshot

    def _fresh(self, state: State, second: datetime,
               audience: Audience) -> dict[str, Any] | None:
        with self._lock:
            entry = self._built.get(audience)
        if entry is None or entry[0] is not state or entry[1] != second:
            return None
        return entry[2]


def with_now(snapshot: dict[str, Any], now: datetime,
             notices: list[dict[str, Any]]) -> dict[str, Any]:
    """The shared snapshot as one client gets it: its own top level, with the time of sending
    (a page sets its clock by it) and the notices of now."""
    return {**snapshot, "now": now.isoformat(timespec="seconds"), "notices": notices}
