"""Presenter (layer 3, adapter): engine state and events as protocol messages (JSON-ready)."""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

from contracts.names import clean_name, shown_mask
from contracts.protocol import EventMessage, QueueSummary, TicketView
from display.announce import announcement_for

from .config import Settings
from .engine import policy
from .engine.events import Event
from .engine.index import index_of
from .engine.model import State, Ticket


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def ticket_view(state: State, ticket: Ticket, now: datetime, *, position: int | None = None,
                waits: Mapping[str, int] | None = None, private: bool = True,
                show_names: bool = True, staff: bool = False) -> TicketView:
    """A ticket as the API shows it; `private=False` for screens anyone can see, which get no
    booking id or status-page key, and a masked name only where `show_names`. The full name
    only for `staff` (a nurse's console: not the kiosk, which prints the masked name).
    `waits`: policy.stage_waits of the ticket's queue, when the caller has it already."""
    if position is None:
        position = policy.position(state, ticket, now)
    eta = None
    if position:
        eta = waits.get(ticket.id) if waits is not None else policy.ticket_eta(state, ticket, now)
    slot = None
    if ticket.slot_start is not None:
        slot = f"{ticket.slot_start:%H:%M}"
        if ticket.slot_end is not None:
            slot += f"-{ticket.slot_end:%H:%M}"
    return TicketView(
        id=ticket.id, number=ticket.number, service=ticket.service, status=ticket.status,
        position=position,
        eta_minutes=eta,
        counter=ticket.counter, booking_id=ticket.booking_id if private else None,
        issued_at=_iso(ticket.issued_at) or "", called_at=_iso(ticket.called_at),
        kind=ticket.kind, priority=ticket.priority, late=ticket.late, slot=slot,
        name_masked=shown_mask(ticket.name_masked) if private or show_names else None,
        name=(clean_name(ticket.name) or None) if staff and private else None,
        recalls=ticket.recalls,
        code=ticket.code if private else None,
        transferred_from=ticket.transferred_from, transferred_to=ticket.transferred_to,
        stage=ticket.stage, flagged=ticket.flagged, cleared=ticket.cleared,
        # health answers are no business of the waiting room
        screening_yes=list(ticket.screening_yes) if private else None,
        vaccine={"product": ticket.vaccine, "dose": ticket.dose} if ticket.vaccine else None,
        observation_ends_at=_iso(ticket.observation_ends_at),
        age=age(ticket) if private else None,
    )


def age(ticket: Ticket) -> int | None:
    """The age the resident reaches in the ticket's year: the booking says the birth year
    only, as the platform keeps it."""
    return ticket.day.year - ticket.birth_year if ticket.birth_year is not None else None


QUEUE_HEAD = 50  # how many of the next ticket ids a delta carries; screens show fewer


def queue_summary(state: State, service: str, now: datetime,
                  order: list[Ticket] | None = None) -> QueueSummary:
    """Waiting count, wait for a newcomer, and the head of the call order of one service
    (`order`: the call order, when the caller has it already)."""
    if order is None:
        order = policy.order(state, service, now)
    counters = max(policy.open_counters(state, service), 1)
    return QueueSummary(
        service=service, waiting=len(order),
        # nobody waiting: no wait to promise ("无需等候"), not one service time
        eta_minutes=policy.eta_minutes(state, service, len(order) + 1, now=now) if order else 0,
        minutes_per_position=round(policy.mean_service_minutes(state, service) / counters, 2),
        order=[t.id for t in order[:QUEUE_HEAD]],
    )


def snapshot(state: State, settings: Settings, now: datetime, *,
             private: bool = True, staff: bool = False) -> dict[str, Any]:
    """The full state a client starts from (`GET /api/v1/state`, Socket.IO `state`); `staff`
    adds the full names (ticket_view)."""
    names = private or settings.show_masked_names
    services = []
    for code, svc in settings.services.items():
        order = policy.order(state, code, now)
        summary = queue_summary(state, code, now, order)
        tickets, stages = [], []
        for stage in svc.rules.queue_stages:  # positions count within the stage's queue
            queue = policy.order(state, code, now, stage)
            waits = policy.stage_waits(state, code, stage, now)
            tickets += [ticket_view(state, t, now, position=i, waits=waits, private=private,
                                    show_names=names, staff=staff).to_dict()
                        for i, t in enumerate(queue, start=1)]
            if stage is not None:
                stages.append({"stage": stage, "waiting": len(queue),
                               "eta_minutes": policy.eta_minutes(state, code, len(queue) + 1,
                                                                 stage, now=now)
                               if queue else 0})
        services.append({
            "code": code, "name": svc.name, "name_en": svc.name_en, "prefix": svc.rules.prefix,
            "walkins": svc.rules.walkins, "waiting": summary.waiting,
            # 0: every counter of the service is on a break (the display says so)
            "open_counters": policy.open_counters(state, code),
            "eta_minutes": summary.eta_minutes,
            "minutes_per_position": summary.minutes_per_position,
            "stages": stages,
            "tickets": tickets,
        })
    counters = counter_views(state, settings, now, private=private, staff=staff)
    masked = {c.ticket_id: shown_mask(state.tickets[c.ticket_id].name_masked)
              for c in state.recent_calls if c.ticket_id in state.tickets} if names else {}
    return {
        "station": {"id": settings.station_id, "name": settings.station_name,
                    "name_en": settings.station_name_en,
                    # where phones reach the station (the ticket's QR); "" means the kiosk's
                    "public_url": settings.public_url},
        "seq": state.seq,
        "day": state.day.isoformat() if state.day else now.date().isoformat(),
        "now": _iso(now),
        "services": services,
        "counters": counters,
        "recent_calls": [
            {"ticket_id": c.ticket_id, "number": c.number, "counter": c.counter,
             "at": _iso(c.at), "name_masked": masked.get(c.ticket_id)}
            for c in reversed(state.recent_calls)
        ],
        # under observation, the first to be free first; `observation_ends_at` and `now` let
        # a page count down by itself and stay right across a clock difference
        "observing": [
            ticket_view(state, t, now, private=private, show_names=names,
                        staff=staff).to_dict()
            for t in sorted((t for t in index_of(state).busy.values() if t.status == "observing"),
                            key=lambda t: (t.observation_ends_at or now, t.seq_no))
        ],
        "display": {"show_masked_names": settings.show_masked_names,
                    "next_count": settings.next_count},
    }


def counter_views(state: State, settings: Settings, now: datetime, *,
                  private: bool = True, staff: bool = False) -> list[dict[str, Any]]:
    """Each counter: its services, the ticket at it, whether it is on a break."""
    names = private or settings.show_masked_names
    counters = []
    for cid, info in settings.counters.items():
        current = state.counter_ticket.get(cid)
        ticket = state.tickets.get(current) if current else None
        counters.append({
            "id": cid, "name": info.name, "name_en": info.name_en,
            "services": list(info.services), "stages": list(info.stages),
            "ticket": ticket_view(state, ticket, now, private=private,
                                  show_names=names, staff=staff).to_dict()
            if ticket else None,
            "can_undo": cid in state.undo,
            "paused": cid in state.paused,
        })
    return counters


def counters_message(state: State, settings: Settings, now: datetime, *,
                     private: bool) -> dict[str, Any]:
    """Socket.IO `counters`: a counter went on a break or came back; every counter, and every
    service's queue summary (the estimates changed with the counters open)."""
    return {
        "seq": state.seq,
        "counters": counter_views(state, settings, now, private=private, staff=private),
        "queues": {code: {**queue_summary(state, code, now).to_dict(),
                          "open_counters": policy.open_counters(state, code)}
                   for code in settings.services},
    }


def event_message(event: Event, state: State, settings: Settings, now: datetime,
                  queues: dict[str, QueueSummary], *, private: bool = False,
                  staff: bool = False,
                  speak: Callable[[Event], dict[str, Any] | None] | None = None
                  ) -> EventMessage:
    """One delta. `queues` carries the summaries of the services the command touched;
    `speak` gives a spoken event's announcement (server.announcer, with its audio)."""
    announcement = None
    if speak is not None:
        spoken = speak(event)
    elif event.speak:
        # a release after observation names no desk: "V012 号 留观结束，可以离开"
        counter = settings.counters.get(event.counter) if event.counter else None
        announcement = announcement_for(
            event.type, event.ticket.number, counter.name if counter else event.counter or ""
        )
        spoken = asdict(announcement) if announcement else None
    else:
        spoken = None
    position = None
    queue = queues.get(event.ticket.service)
    if queue is not None and event.ticket.id in queue.order:
        # the summary has just ordered the queue: no need to order it again for one ticket
        position = queue.order.index(event.ticket.id) + 1
    return EventMessage(
        seq=event.seq, type=event.type,
        ticket=ticket_view(state, event.ticket, now, position=position, private=private,
                           show_names=settings.show_masked_names, staff=staff).to_dict(),
        counter=event.counter, at=_iso(event.at) or "", reason=event.reason,
        queues={code: q.to_dict() for code, q in queues.items()},
        announcement=spoken,
    )


def alert(event: Event, state: State, now: datetime) -> dict[str, Any]:
    """The Socket.IO `alert` to every console: `{"seq", "type", "at", "ticket", "detail"}`
    (an adverse reaction: its symptoms, severity, action and the new end of observation)."""
    return {"seq": event.seq, "type": event.type, "at": _iso(event.at),
            "ticket": ticket_view(state, event.ticket, now, staff=True).to_dict(),
            "detail": dict(event.detail or {})}


# the resident's phone page (/t/<code>, Socket.IO `ticket` and `phone`) ---------------------

# what a ticket's code looks like (StationService makes 16 URL-safe characters: 96 bits);
# anything else is answered like an unknown code, without looking
CODE = re.compile(r"[A-Za-z0-9_-]{16,64}")
PHONE_FIELDS = ("id", "number", "service", "status", "stage", "counter", "position",
                "eta_minutes", "recalls", "called_at", "observation_ends_at")


def ticket_by_code(state: State, code: str) -> Ticket | None:
    """Today's ticket with this phone-page code, or None (also for a malformed code)."""
    if not CODE.fullmatch(code):
        return None
    for ticket in state.tickets.values():
        if hmac.compare_digest(ticket.code, code):
            return ticket
    return None


def phone_snapshot(state: State, ticket: Ticket, settings: Settings,
                   now: datetime) -> dict[str, Any]:
    """What the phone page starts from: its ticket (no name, no booking), where it stands."""
    view = ticket_view(state, ticket, now, private=False, show_names=False).to_dict()
    queue = queue_summary(state, ticket.service, now)
    return {"seq": state.seq, "now": _iso(now),
            "ticket": {k: view[k] for k in PHONE_FIELDS},
            "minutes_per_position": queue.minutes_per_position}


def phone_delta(message: dict[str, Any], state: State) -> dict[str, Any]:
    """One change as every phone gets it: the ticket without its name, and the head of each
    touched queue with each ticket's stage (a phone counts the ones ahead at its stage)."""
    ticket = message["ticket"]
    queues = {}
    for code, q in message["queues"].items():
        stages = [state.tickets[i].stage if i in state.tickets else None for i in q["order"]]
        queues[code] = {"waiting": q["waiting"], "minutes_per_position":
                        q["minutes_per_position"], "order": q["order"], "stages": stages}
    return {"seq": message["seq"], "type": message["type"], "at": message["at"],
            "counter": message["counter"],
            "ticket": {k: ticket.get(k) for k in PHONE_FIELDS}, "queues": queues}


def heartbeat(state: State, settings: Settings, now: datetime) -> dict[str, Any]:
    """Waiting counts and waits per service, for the platform's nearby-stations view."""
    services = []
    for code, svc in settings.services.items():
        summary = queue_summary(state, code, now)
        services.append({"service": code, "name": svc.name, "waiting": summary.waiting,
                         "estimated_wait_minutes": summary.eta_minutes})
    return {"at": now.isoformat(timespec="seconds"), "services": services}
