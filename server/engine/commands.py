"""Queue engine (layer 1): commands — (state, arguments, now) -> (new state, events)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Required, TypedDict, Unpack

from . import events as ev
from . import policy
from .change import Result as Result  # re-exported: commands.Result
from .change import _bump, _Change
from .errors import DomainError
from .index import index_of
from .model import OBSERVATION, VACCINATION, Call, Kind, State, Status, Ticket, UndoRecord
from .transitions import check


@dataclass(frozen=True)
class BookingInfo:
    """What check-in needs to know of a booking; found by the station service, not the engine."""

    id: str
    service: str
    day: date
    slot_start: datetime | None = None
    slot_end: datetime | None = None
    priority: bool = False
    name_masked: str | None = None
    name: str | None = None  # the full name, for staff only
    vaccine: str | None = None  # the product booked (catalog code)
    dose: int | None = None
    previous_dose_on: date | None = None  # the platform's record of the last dose
    birth_year: int | None = None  # the resident's, as the platform's booking says


def open_day(state: State, now: datetime) -> Result:
    """Start `now`'s day: numbers restart at 1; tickets left open from an earlier day are closed."""
    today = now.date()
    if state.day == today:
        return state, []
    change = _Change(state, now)
    for ticket in sorted(state.tickets.values(), key=lambda t: t.seq_no):
        if ticket.is_open:
            change.put(_bump(ticket, status="cancelled", finished_at=now, counter=None),
                       ev.TicketCancelled, reason="day_closed")
    change.restart({k: t for k, t in change.tickets.items() if t.day == today})
    change.draft = replace(change.draft, day=today, numbering={}, streak={}, undo={},
                           counter_ticket={}, recent_calls=(), paused=frozenset(),
                           paused_at={})
    return change.result()


def _start(state: State, now: datetime) -> _Change:
    state, events = open_day(state, now)
    change = _Change(state, now)
    change.events = list(events)
    return change


class _NewTicketFields(TypedDict, total=False):
    """What the command issuing a ticket says of it; numbering and timing are the engine's."""

    kind: Required[Kind]
    priority: bool
    booking_id: str | None
    slot_start: datetime | None
    slot_end: datetime | None
    late: bool
    name_masked: str | None
    name: str | None
    vaccine: str | None
    dose: int | None
    previous_dose_on: date | None
    birth_year: int | None
    issued_by: str | None


def _new_ticket(change: _Change, service: str, *, code: str,
                **fields: Unpack[_NewTicketFields]) -> Ticket:
    rules = change.state.service(service)
    numbering = dict(change.view().numbering)
    n = numbering.get(service, 0) + 1
    numbering[service] = n
    change.draft = replace(change.draft, numbering=numbering)
    day = change.now.date()
    number = f"{rules.prefix}{n:0{rules.number_width}d}"
    ticket = Ticket(
        id=f"{day:%Y%m%d}-{number}", day=day, service=service, number=number, seq_no=n,
        status="waiting", issued_at=change.now, code=code, stage=rules.queue_stages[0],
        **fields,
    )
    return _told_wait(change, ticket)


def _told_wait(change: _Change, ticket: Ticket) -> Ticket:
    """The ticket with the wait it is issued with: the number the kiosk screen and the printed
    ticket show at that moment (the presenter asks policy the same question), kept so that
    reports can set it against the wait that happened."""
    view = replace(change.view(), tickets=change.tickets.updated({ticket.id: ticket}))
    change.told = view
    return replace(ticket, issued_eta_minutes=policy.ticket_eta(view, ticket, change.now))


def _issued(change: _Change, ticket: Ticket) -> Result:
    """The command's result once `ticket` is its last change: its queue's waits, worked out
    for the wait told, are those of the result too (it differs in the told wait and the
    event count, which no estimate reads), so the answer and the pushes do not work them
    out again."""
    state, events = change.result()
    if change.told is not None:
        policy.share_waits(change.told, state, ticket.service, ticket.stage, change.now)
    return state, events


def issue_walkin(
    state: State, service: str, *, code: str, now: datetime, priority: bool = False,
    issued_by: str | None = None,
) -> Result:
    """A walk-in number for `service`, if the service takes walk-ins (`issued_by`: the kiosk
    that asked, if one did)."""
    rules = state.service(service)
    if not rules.walkins:
        raise DomainError("walkins_closed", service=service)
    clock = now.time()
    if (rules.opens and clock < rules.opens) or (rules.closes and clock >= rules.closes):
        raise DomainError("outside_hours", service=service,
                          opens=f"{rules.opens or time.min:%H:%M}",
                          closes=f"{rules.closes:%H:%M}" if rules.closes else "24:00")
    change = _start(state, now)
    if rules.walkin_capacity:
        given = index_of(change.view()).given.get(service, 0)
        if given >= rules.walkin_capacity:
            raise DomainError("walkins_full", service=service, capacity=rules.walkin_capacity)
    ticket = change.put(_new_ticket(change, service, code=code, kind="walkin",
                                    priority=priority, issued_by=issued_by), ev.TicketIssued)
    return _issued(change, ticket)


def ticket_for_booking(state: State, booking_id: str) -> Ticket | None:
    """Today's first ticket for a booking, if it was checked in already."""
    ticket_id = index_of(state).bookings.get(booking_id)
    return state.tickets[ticket_id] if ticket_id is not None else None


def check_in(state: State, booking: BookingInfo, *, code: str, now: datetime,
             issued_by: str | None = None) -> Result:
    """A ticket for a booking. Early arrivals wait for their slot; late ones queue as walk-ins.
    `issued_by`: the kiosk that checked it in, if one did."""
    rules = state.service(booking.service)
    if booking.day != now.date():
        raise DomainError("booking_wrong_day", day=booking.day.isoformat())
    if ticket_for_booking(state, booking.id) is not None:
        raise DomainError("booking_checked_in", booking=booking.id)
    if booking.slot_start is not None:
        minutes_early = (booking.slot_start - now).total_seconds() / 60
        if minutes_early > rules.early_minutes and rules.early_policy != "wait":
            # said as a clock time: "come back after 12:30", not arithmetic for the resident
            opens = booking.slot_start - timedelta(minutes=rules.early_minutes)
            raise DomainError("booking_too_early", slot=f"{booking.slot_start:%H:%M}",
                              minutes=rules.early_minutes, opens=f"{opens:%H:%M}")
    end = booking.slot_end or booking.slot_start
    late = end is not None and (now - end).total_seconds() / 60 > rules.grace_minutes
    if late and rules.late_policy == "refuse":
        assert end is not None
        raise DomainError("booking_too_late", slot=f"{end:%H:%M}", minutes=rules.grace_minutes)
    change = _start(state, now)
    ticket = change.put(
        _new_ticket(
            change, booking.service, code=code, kind="booked", priority=booking.priority,
            booking_id=booking.id, slot_start=booking.slot_start, slot_end=booking.slot_end,
            late=late, name_masked=booking.name_masked, name=booking.name,
            vaccine=booking.vaccine,
            dose=booking.dose, previous_dose_on=booking.previous_dose_on,
            birth_year=booking.birth_year, issued_by=issued_by,
        ),
        ev.TicketIssued, reason="late" if late else None,
    )
    return _issued(change, ticket)


def check_in_family(state: State, bookings: list[BookingInfo], *, codes: list[str],
                    now: datetime, issued_by: str | None = None) -> Result:
    """Several bookings checked in by one command: consecutive numbers, all or none.

    Bookings already checked in keep their ticket and are skipped.
    """
    events: list[ev.Event] = []
    for booking, code in zip(bookings, codes, strict=True):
        if ticket_for_booking(state, booking.id) is not None:
            continue
        state, more = check_in(state, booking, code=code, now=now, issued_by=issued_by)
        events.extend(more)
    return state, events


def _remember(change: _Change, counter: str, action: str, before: list[Ticket],
              created: tuple[str, ...] = ()) -> None:
    """Keep what `counter`'s action replaced, so `undo` can put it back."""
    old = change.state
    after = tuple((t.id, change.tickets[t.id].version) for t in before)
    after += tuple((tid, change.tickets[tid].version) for tid in created)
    undo = dict(change.view().undo)
    undo[counter] = UndoRecord(
        action=action, before=tuple(before), after_versions=after, created=created,
        counter_ticket=old.counter_ticket.get(counter),
        streak=tuple(old.streak.items()),
    )
    change.draft = replace(change.draft, undo=undo)


def _set_counter(change: _Change, counter: str, ticket_id: str | None) -> None:
    current = dict(change.view().counter_ticket)
    current[counter] = ticket_id
    change.draft = replace(change.draft, counter_ticket=current)


def _record_duration(change: _Change, ticket: Ticket) -> None:
    if ticket.started_at is None:
        return
    window = change.state.rules.service_time_window
    durations = dict(change.view().durations)
    seconds = (change.now - ticket.started_at).total_seconds()
    keys = [ticket.service]
    if ticket.stage is not None:  # a pathway's stage has its own times too
        keys.append(policy.stage_key(ticket.service, ticket.stage))
    for key in keys:
        durations[key] = (durations.get(key, ()) + (seconds,))[-window:]
    change.draft = replace(change.draft, durations=durations)


def call_next(state: State, counter: str, *, now: datetime) -> Result:
    """The counter calls the next ticket of its services; a ticket it was serving is completed."""
    state.counter(counter)
    change = _start(state, now)
    view = change.view()
    current_id = view.counter_ticket.get(counter)
    current = view.tickets.get(current_id) if current_id else None
    if current is not None and current.status == "called":
        raise DomainError("counter_busy", ticket=current.number, counter=counter)
    chosen = policy.next_for_counter(view, counter, now)
    if chosen is None:
        raise DomainError("queue_empty", counter=counter)
    before = [chosen]
    if current is not None and current.status == "serving":
        before.insert(0, current)
        _finish(change, current, counter)
    streak = dict(view.streak)
    streak[chosen.service] = policy.streak_after_call(view, chosen, now)
    # calling is what a nurse back from a break does first: it ends the break
    change.draft = replace(change.draft, streak=streak, paused=view.paused - {counter})
    check(chosen, "call")
    called = change.put(_bump(chosen, status="called", called_at=now, counter=counter),
                        ev.TicketCalled, counter=counter)
    _set_counter(change, counter, called.id)
    _add_call(change, called, counter)
    _remember(change, counter, "call-next", before)
    return change.result()


def _add_call(change: _Change, ticket: Ticket, counter: str) -> None:
    limit = change.state.rules.recent_calls_kept
    calls = change.view().recent_calls + (Call(ticket.id, ticket.number, counter, change.now),)
    change.draft = replace(change.draft, recent_calls=calls[-limit:])


def _finish(change: _Change, ticket: Ticket, counter: str) -> Ticket:
    """The counter is done with the ticket: it queues for its pathway's next stage, if there is
    one, else it is done."""
    following = change.state.service(ticket.service).stage_after(ticket.stage)
    if following is not None:
        done = advance(change, ticket, following, counter)
    else:
        check(ticket, "complete")
        done = change.put(_bump(ticket, status="done", finished_at=change.now),
                          ev.TicketCompleted, counter=counter)
    _record_duration(change, ticket)
    _set_counter(change, counter, None)
    return done


def advance(change: _Change, ticket: Ticket, stage: str, counter: str | None = None) -> Ticket:
    """Queue the ticket, same number, at `stage` of its pathway."""
    check(ticket, "advance")
    return change.put(_bump(ticket, status="waiting", stage=stage, called_at=None,
                            started_at=None, counter=None, recalls=0),
                      ev.TicketAdvanced, counter=counter, reason=stage)


def _counter_of(state: State, ticket: Ticket, counter: str | None) -> str:
    """The counter acting: the one the ticket is at, else the one the request names."""
    if ticket.counter is not None:
        if counter is not None and counter != ticket.counter:
            state.counter(counter)
            raise DomainError("ticket_at_other_counter", ticket=ticket.number,
                              counter=ticket.counter)
        return ticket.counter
    if counter is None:
        raise DomainError("counter_required", ticket=ticket.number)
    state.counter(counter)
    return counter


def act(state: State, ticket_id: str, action: str, *, now: datetime,
        counter: str | None = None, service: str | None = None) -> Result:
    """Apply a nurse's action (one of `ACTIONS`: `recall`, `start`, `complete`, `no-show`,
    `requeue`, `cancel`, `transfer`, `observe`, `release`, `restore`) to one ticket."""
    change = _start(state, now)
    ticket = change.view().ticket(ticket_id)
    if action not in ACTIONS:
        raise DomainError("action_unknown", action=action)
    target = check(ticket, action)
    by_staff = _BY_STAFF.get(action)
    if by_staff is not None:
        if counter is not None:
            state.counter(counter)
        by_staff(change, ticket, target, counter)
        if counter is not None:
            _remember(change, counter, action, [ticket])
        return change.result()
    who = _counter_of(change.view(), ticket, counter)
    created = _AT_COUNTER[action](change, ticket, target, who, service)
    _remember(change, who, action, [ticket], created)
    return change.result()


# An action at the counter holding the ticket: (change, ticket, status the table leads to,
# counter, service named by the request) -> ids of tickets it made.
AtCounter = Callable[[_Change, Ticket, Status, str, str | None], tuple[str, ...]]
# An action any staff member takes, naming a counter or not (then nobody's undo records it).
ByStaff = Callable[[_Change, Ticket, Status, str | None], None]


def _recall(change: _Change, ticket: Ticket, target: Status, who: str,
            service: str | None) -> tuple[str, ...]:
    rules = change.state.service(ticket.service)
    if ticket.recalls >= rules.recall_limit:
        change.put(_bump(ticket, status="no_show", finished_at=change.now), ev.TicketNoShow,
                   counter=who, reason="recall_limit")
        _set_counter(change, who, None)
    else:
        recalled = change.put(_bump(ticket, recalls=ticket.recalls + 1), ev.TicketRecalled,
                              counter=who)
        _add_call(change, recalled, who)
    return ()


def _serve(change: _Change, ticket: Ticket, target: Status, who: str,
           service: str | None) -> tuple[str, ...]:
    change.put(_bump(ticket, status=target, started_at=change.now), ev.TicketStarted,
               counter=who)
    return ()


def _complete(change: _Change, ticket: Ticket, target: Status, who: str,
              service: str | None) -> tuple[str, ...]:
    _finish(change, ticket, who)
    return ()


def _no_show(change: _Change, ticket: Ticket, target: Status, who: str,
             service: str | None) -> tuple[str, ...]:
    change.put(_bump(ticket, status=target, finished_at=change.now), ev.TicketNoShow,
               counter=who)
    _set_counter(change, who, None)
    return ()


def _requeue(change: _Change, ticket: Ticket, target: Status, who: str,
             service: str | None) -> tuple[str, ...]:
    change.put(_bump(ticket, status=target, called_at=None, counter=None), ev.TicketRequeued,
               counter=who)
    _set_counter(change, who, None)
    return ()


def _transfer_at(change: _Change, ticket: Ticket, target: Status, who: str,
                 service: str | None) -> tuple[str, ...]:
    return (_transfer(change, ticket, who, service),)


def _observe(change: _Change, ticket: Ticket, target: Status, who: str,
             service: str | None) -> tuple[str, ...]:
    """The dose is given: the resident leaves the desk for the observation room, so the
    counter is free to call the next one; the ticket stays open until it is released."""
    rules = change.state.service(ticket.service)
    if VACCINATION in rules.stages:  # the dose record, trace code checked, starts it there
        raise DomainError("dose_record_required", ticket=ticket.number)
    stage = OBSERVATION if OBSERVATION in rules.stages else ticket.stage
    ends = change.now + timedelta(minutes=rules.observation_minutes)
    change.put(_bump(ticket, status=target, stage=stage, observation_ends_at=ends),
               ev.ObservationStarted, counter=who)
    _record_duration(change, ticket)
    _set_counter(change, who, None)
    return ()


def _cancel(change: _Change, ticket: Ticket, target: Status, who: str | None) -> None:
    change.put(_bump(ticket, status=target, finished_at=change.now), ev.TicketCancelled,
               counter=who, reason="staff")


def _restore(change: _Change, ticket: Ticket, target: Status, who: str | None) -> None:
    """A no-show back in the queue with its number, in its place by arrival ("过号请到服务台")."""
    change.put(_bump(ticket, status=target, called_at=None, finished_at=None, counter=None,
                     recalls=0), ev.TicketRestored, counter=who, reason="no_show_restored")


def _release(change: _Change, ticket: Ticket, target: Status, who: str | None) -> None:
    change.put(_bump(ticket, status=target, finished_at=change.now), ev.ObservationReleased,
               counter=who)


# One handler per action of the transition table (tests/test_engine_transitions.py holds the
# two together), except "call": no one names the ticket to call, call_next picks it.
_AT_COUNTER: dict[str, AtCounter] = {
    "recall": _recall, "start": _serve, "complete": _complete, "no-show": _no_show,
    "requeue": _requeue, "transfer": _transfer_at, "observe": _observe,
}
# A waiting ticket is at no counter yet, and observation is a room, not a desk.
_BY_STAFF: dict[str, ByStaff] = {"cancel": _cancel, "release": _release, "restore": _restore}
ACTIONS: frozenset[str] = frozenset(_AT_COUNTER) | frozenset(_BY_STAFF)


def _transfer(change: _Change, ticket: Ticket, counter: str, service: str | None) -> str:
    """Close the ticket here and queue it, with the same number, in the next service."""
    if not service:
        raise DomainError("service_required")
    change.state.service(service)
    if service == ticket.service:
        raise DomainError("transfer_same_service", service=service)
    new_id = f"{ticket.id}-{service}"
    n = 2
    while new_id in change.tickets:
        new_id, n = f"{ticket.id}-{service}{n}", n + 1
    change.put(_bump(ticket, status="transferred", finished_at=change.now, transferred_to=new_id),
               ev.TicketTransferred, counter=counter, reason=service)
    _record_duration(change, ticket)
    _set_counter(change, counter, None)
    moved = replace(ticket, id=new_id, service=service, status="waiting", issued_at=change.now,
                    kind="booked", slot_start=None, slot_end=None, late=False, called_at=None,
                    started_at=None, finished_at=None, counter=None, recalls=0, version=1,
                    transferred_from=ticket.id, transferred_to=None,
                    stage=change.state.service(service).queue_stages[0],
                    observation_ends_at=None, issued_eta_minutes=None)
    change.put(moved, ev.TicketIssued, reason="transfer")
    return new_id


def undo(state: State, counter: str, *, now: datetime) -> Result:
    """Put back what the counter's last action changed, if nobody has touched it since."""
    state.counter(counter)
    change = _start(state, now)
    view = change.view()
    record = view.undo.get(counter)
    if record is None:
        raise DomainError("nothing_to_undo", counter=counter)
    for ticket_id, version in record.after_versions:
        if view.tickets[ticket_id].version != version:
            raise DomainError("undo_stale", ticket=view.tickets[ticket_id].number)
    for tid in record.created:
        t = view.tickets[tid]
        change.put(_bump(t, status="cancelled", finished_at=now), ev.TicketCancelled,
                   counter=counter, reason="undone")
    restored = set()
    for before in record.before:
        current = view.tickets[before.id]
        change.put(replace(before, version=current.version + 1), ev.TicketRestored,
                   counter=counter, reason=record.action)
        restored.add(before.id)
    _set_counter(change, counter, record.counter_ticket)
    change.draft = replace(change.draft, streak=dict(record.streak))
    # a call that was taken back should not linger on the display's list of recent calls
    tickets = change.tickets
    change.draft = replace(change.draft, recent_calls=tuple(
        c for c in view.recent_calls
        if not (c.ticket_id in restored and tickets[c.ticket_id].status != "called")
    ))
    undo_map = dict(view.undo)
    del undo_map[counter]
    change.draft = replace(change.draft, undo=undo_map)
    return change.result()
