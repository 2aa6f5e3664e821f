"""The audit log of staff actions (layer 2): who logged in (or failed to), out, and which step
each staff member made a ticket take, for the administrator to read; nobody can edit it (the
store only appends, and the database refuses UPDATE and DELETE on it).

Ticket steps are recorded in the same transaction as their events (StationService._run asks
`command_entry`): an action is in the log if and only if it happened. Who is acting is set
by the web layer for the length of a request (`acting`), so the station service's commands
keep their signatures. The log holds no secret: no password, hash, token or session id.
Settings changes are not repeated here: they are the `changes` ledger (server/ledger.py),
which the audit page reads alongside (Store.audit_log).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from .engine.events import Event
from .store import Store

PAGE_MAX = 500
CSV_MAX = 100_000
CSV_COLUMNS = ("at", "source", "actor", "role", "action", "subject", "detail")


@dataclass(frozen=True)
class Actor:
    id: str
    role: str


_ACTOR: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("clinicq_actor",
                                                                        default=None)

# engine command (its function's name) -> the action the log names; what is not here (a new
# day opening, the observation timer, a kiosk's check-in) is no staff action
COMMANDS: Mapping[str, str] = {
    "issue_walkin": "walk_in", "check_in": "check_in", "check_in_family": "check_in",
    "call_next": "call", "undo": "undo", "pause": "pause", "resume": "resume",
    "record_screening": "screening", "clear": "clear", "defer": "defer", "vaccinate": "dose",
    "reaction": "reaction", "leave_early": "leave_early",
}
# `act`'s actions keep their names: recall, start, complete, no-show, requeue, cancel,
# transfer, observe, release (observation ended), restore


@contextmanager
def acting(actor_id: str, role: str) -> Iterator[None]:
    """Within the block, commands are recorded as done by `actor_id`."""
    token = _ACTOR.set(Actor(actor_id, role))
    try:
        yield
    finally:
        _ACTOR.reset(token)


def begin(actor_id: str, role: str) -> contextvars.Token[Actor | None]:
    """`acting` for a request: the web layer begins before the view and ends after it."""
    return _ACTOR.set(Actor(actor_id, role))


def end(token: contextvars.Token[Actor | None]) -> None:
    _ACTOR.reset(token)


def current() -> Actor | None:
    return _ACTOR.get()


def entry(now: datetime, actor: str, action: str, *, role: str | None = None,
          subject: str = "", **detail: Any) -> dict[str, Any]:
    """A log entry as Store.record_audit and Store.save take it."""
    return {"at": now.isoformat(timespec="seconds"), "actor": actor, "role": role,
            "action": action, "subject": subject, "detail": detail}


def record(store: Store, now: datetime, actor: str, action: str, *, role: str | None = None,
           subject: str = "", **detail: Any) -> None:
    """Append one entry (a login, a logout) on its own."""
    store.record_audit([entry(now, actor, action, role=role, subject=subject, **detail)])


def command_entry(command: str, args: Sequence[Any], kw: Mapping[str, Any],
                  events: Sequence[Event], now: datetime) -> dict[str, Any] | None:
    """The entry for a command that made `events`, when a staff member is acting; None when
    nobody is (a kiosk, the timer) or the command is no staff action."""
    who = current()
    if who is None or not events:
        return None
    if command == "act":
        action = str(args[1])
    elif command in COMMANDS:
        action = COMMANDS[command]
    else:
        return None
    ids = list(dict.fromkeys(e.ticket.id for e in events))
    numbers = list(dict.fromkeys(e.ticket.number for e in events))
    counter = kw.get("counter") or (args[0] if command in ("call_next", "undo", "pause",
                                                           "resume") else None) or \
        next((e.counter for e in events if e.counter), None)
    detail: dict[str, Any] = {"numbers": numbers, "events": [e.seq for e in events]}
    if counter:
        detail["counter"] = counter
    if command == "act" and kw.get("service"):
        detail["service"] = kw["service"]
    return entry(now, who.id, action, role=who.role, subject=" ".join(ids), **detail)


def day_range(start: date, end: date) -> tuple[str, str]:
    """The text range of `at` values from the start of `start` to the end of `end`."""
    return start.isoformat(), (end + timedelta(days=1)).isoformat()


def page(store: Store, start: date, end: date, limit: int,
         offset: int = 0) -> tuple[list[dict[str, Any]], int | None]:
    """Up to `limit` entries of the days `start` to `end`, newest first, and the offset of
    the next page (None when there is no more)."""
    limit = max(1, min(limit, PAGE_MAX))
    rows = store.audit_log(*day_range(start, end), limit=limit + 1, offset=offset)
    more = len(rows) > limit
    return rows[:limit], (offset + limit if more else None)
