"""SQLite store (layer 3): engine values to and from rows and JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import fields
from datetime import date, datetime
from typing import Any, TypeVar

from ..engine.events import Event
from ..engine.model import Call, State, Ticket, UndoRecord

_DATETIME_FIELDS = {"issued_at", "slot_start", "slot_end", "called_at", "started_at",
                    "finished_at", "observation_ends_at"}
_DATE_FIELDS = {"day", "previous_dose_on"}
_BOOL_FIELDS = {"priority", "late", "flagged", "cleared"}
_LIST_FIELDS = {"screening_yes"}  # tuples of texts, as a JSON list
TICKET_COLUMNS = tuple(f.name for f in fields(Ticket))
# stored beside a ticket for the reports (m017), derived from it, never read back into it
REPORT_COLUMNS = ("issued_hour", "wait_seconds")


def ticket_to_row(t: Ticket) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name in TICKET_COLUMNS:
        value = getattr(t, name)
        if isinstance(value, datetime | date):
            value = value.isoformat()
        elif isinstance(value, bool):
            value = int(value)
        elif name in _LIST_FIELDS:
            value = json.dumps(list(value), ensure_ascii=False)
        row[name] = value
    return row


def ticket_from_row(row: dict[str, Any]) -> Ticket:
    values: dict[str, Any] = {}
    for name in TICKET_COLUMNS:
        value = row.get(name)
        if name in _DATE_FIELDS and value is not None:
            value = date.fromisoformat(value)
        elif name in _DATETIME_FIELDS and value is not None:
            value = datetime.fromisoformat(value)
        elif name in _BOOL_FIELDS:
            value = bool(value)
        elif name in _LIST_FIELDS:
            value = tuple(json.loads(value)) if value else ()
        values[name] = value
    return Ticket(**values)


def report_cells(t: Ticket) -> dict[str, Any]:
    """What the reports read of a ticket as plain numbers: the station's hour of check-in and
    the seconds from check-in to its (last) call."""
    wait = None if t.called_at is None else round((t.called_at - t.issued_at).total_seconds())
    return {"issued_hour": t.issued_at.hour, "wait_seconds": wait}


# The events that end a stage served at a counter (the ticket was `serving` before them).
STAGE_ENDS = ("ticket.completed", "ticket.advanced", "vaccination.recorded",
              "observation.started", "ticket.transferred")


def events_report_cells(before: State, events: list[Event]) -> list[dict[str, Any]]:
    """What the reports read of each event beside its JSON: the ticket's service and stage;
    and on the first event of a command that ends a stage the ticket was being served at
    (`before`: the state the command started from), the milliseconds since it started and
    that stage."""
    out, credited = [], set()
    for e in events:
        cells: dict[str, Any] = {"service": e.ticket.service, "stage": e.ticket.stage,
                                 "served_ms": None, "served_stage": None}
        was = before.tickets.get(e.ticket.id)
        if e.type in STAGE_ENDS and e.ticket.id not in credited and was is not None \
                and was.status == "serving" and was.started_at is not None:
            credited.add(e.ticket.id)
            cells["served_ms"] = round((e.at - was.started_at).total_seconds() * 1000)
            cells["served_stage"] = was.stage
        out.append(cells)
    return out


def _ledger_ticket(t: Ticket) -> dict[str, Any]:
    """A ticket as the event ledger keeps it: without the full name, which stays in the
    tickets table for the console and never travels with the events to the platform, nor the
    kiosk that issued it (the station's own detail)."""
    row = ticket_to_row(t)
    row.pop("name", None)
    row.pop("issued_by", None)
    return row


def event_to_row(e: Event) -> dict[str, Any]:
    return {"seq": e.seq, "type": e.type, "ticket_id": e.ticket.id, "counter": e.counter,
            "reason": e.reason, "at": e.at.isoformat(),
            "ticket": json.dumps(_ledger_ticket(e.ticket), ensure_ascii=False),
            "detail": json.dumps(e.detail, ensure_ascii=False) if e.detail is not None
            else None}


def engine_meta(state: State) -> str:
    """The parts of engine state that tickets alone do not say, as JSON.

    Written on every commit: an undo record and a call are immutable and outlive many states
    unchanged, so each one's JSON is made once and kept with it (_encoded); the rest is small.
    The text is that of json.dumps of the whole (tests/test_engine_speedups.py)."""
    head = _dumps({
        "day": state.day.isoformat() if state.day else None,
        "seq": state.seq,
        "counter_ticket": dict(state.counter_ticket),
        "numbering": dict(state.numbering),
        "streak": dict(state.streak),
        "durations": {k: list(v) for k, v in state.durations.items()},
        "paused": sorted(state.paused),
        "paused_at": {k: v.isoformat() for k, v in state.paused_at.items()},
    })
    calls = ", ".join(_encoded(c, _call_json) for c in state.recent_calls)
    undo = ", ".join(f"{_dumps(counter)}: {_encoded(u, _undo_json)}"
                     for counter, u in state.undo.items())
    return f'{head[:-1]}, "recent_calls": [{calls}], "undo": {{{undo}}}}}'


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _call_json(c: Call) -> str:
    return _dumps({"ticket_id": c.ticket_id, "number": c.number, "counter": c.counter,
                   "at": c.at.isoformat()})


def _undo_json(u: UndoRecord) -> str:
    return _dumps({
        "action": u.action,
        "before": [ticket_to_row(t) for t in u.before],
        "after_versions": [list(p) for p in u.after_versions],
        "created": list(u.created),
        "counter_ticket": u.counter_ticket,
        "streak": [list(p) for p in u.streak],
    })


_T = TypeVar("_T", Call, UndoRecord)


def _encoded(part: _T, encode: Callable[[_T], str]) -> str:
    """`encode(part)`, kept with the part (it never changes, as a State keeps its policy
    answers: engine/policy.py _memo), so that the states sharing it encode it once."""
    found: str | None = part.__dict__.get("_meta_json")
    if found is None:
        found = part.__dict__["_meta_json"] = encode(part)
    return found


def state_from_meta(base: State, meta: dict[str, Any], tickets: list[Ticket]) -> State:
    return State(
        rules=base.rules,
        day=date.fromisoformat(meta["day"]) if meta["day"] else None,
        seq=meta["seq"],
        tickets={t.id: t for t in tickets},
        counter_ticket=dict(meta["counter_ticket"]),
        numbering=dict(meta["numbering"]),
        streak=dict(meta["streak"]),
        durations={k: tuple(v) for k, v in meta["durations"].items()},
        paused=frozenset(meta.get("paused", ())),  # absent in meta written before pausing
        paused_at={k: datetime.fromisoformat(v) for k, v in meta.get("paused_at", {}).items()},
        recent_calls=tuple(
            Call(c["ticket_id"], c["number"], c["counter"], datetime.fromisoformat(c["at"]))
            for c in meta["recent_calls"]
        ),
        undo={
            counter: UndoRecord(
                action=u["action"],
                before=tuple(ticket_from_row(r) for r in u["before"]),
                after_versions=tuple((a, b) for a, b in u["after_versions"]),
                created=tuple(u["created"]),
                counter_ticket=u["counter_ticket"],
                streak=tuple((a, b) for a, b in u["streak"]),
            )
            for counter, u in meta["undo"].items()
        },
    )
