"""What stations send up (docs/sync.md) checked and shaped: event batches, heartbeats, the
nearby query, and the distance between two places; pure, no I/O (central web layer's inputs).

A batch that is not `{"events": [...]}`, or longer than MAX_BATCH, is refused as a whole (a
CentralError); a malformed event inside a good batch is not: it gets `rejected` with a reason
and the others are stored.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from central.errors import CentralError
from contracts import syncwire

MAX_EVENT_ID = 64
MAX_SEQ = 2**63 - 1
_DAY_PREFIX = re.compile(r"\d{4}-\d{2}-\d{2}T")
# Engine status → booking status (docs/sync.md); `transferred` leaves the booking as it is.
BOOKING_STATUS = {
    "waiting": "checked_in", "called": "called", "serving": "serving",
    "observing": "observing", "done": "completed", "released": "completed",
    "no_show": "no_show", "cancelled": "cancelled", "deferred": "deferred",
}
MAX_SERVICES = 50
EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Incoming:
    """One event of a batch, checked: `reason` is None when it is well formed."""

    raw: Any
    reason: str | None = None
    event_id: str = ""
    seq: int = 0
    type: str = ""
    day: str = ""
    booking_id: str | None = None
    status: str | None = None  # the booking status it implies, if any
    stage: str | None = None
    body: str = ""
    sha256: str = ""


def events_of(doc: Any) -> list[Any]:
    """The events of a request body, or the CentralError refusing the whole batch."""
    if not isinstance(doc, dict):
        raise CentralError("body_invalid")
    if "events" not in doc:
        raise CentralError("field_missing", field="events")
    events = doc["events"]
    if not isinstance(events, list):
        raise CentralError("field_invalid", field="events", why="a list of events")
    if len(events) > syncwire.MAX_BATCH:
        raise CentralError("batch_too_large", most=syncwire.MAX_BATCH, count=len(events))
    return events


def _why_malformed(raw: Any) -> str | None:
    if not isinstance(raw, dict):
        return "not an object"
    event_id = raw.get("id")
    if not isinstance(event_id, str) or not event_id:
        return "no id"
    if len(event_id) > MAX_EVENT_ID or not event_id.isprintable():
        return f"id: at most {MAX_EVENT_ID} printable characters"
    seq = raw.get("seq")
    if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= MAX_SEQ:
        return "bad seq: a whole number from 1"
    at = raw.get("at")
    if not isinstance(at, str) or not _DAY_PREFIX.match(at):
        return "at is not a time"
    try:
        if datetime.fromisoformat(at).tzinfo is None:
            return "at has no UTC offset"
    except ValueError:
        return "at is not a time"
    kind = raw.get("type")
    if not isinstance(kind, str) or not 1 <= len(kind) <= 40:
        return "no type"
    ticket = raw.get("ticket")
    if not isinstance(ticket, dict):
        return "ticket missing"
    booking = ticket.get("booking_id")
    if booking is not None and (not isinstance(booking, str) or not 1 <= len(booking) <= 20):
        return "ticket.booking_id: a text of 1-20 characters or null"
    for key in ("status", "stage"):
        value = ticket.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > 20):
            return f"ticket.{key}: a text of at most 20 characters"
    return None


def check_event(raw: Any) -> Incoming:
    """One event as sent, checked; its canonical bytes and hash when it is well formed."""
    reason = _why_malformed(raw)
    if reason is not None:
        return Incoming(raw, reason, event_id=_loose_id(raw), seq=_loose_seq(raw))
    ticket = raw["ticket"]
    try:
        body = syncwire.canonical(raw)
    except UnicodeEncodeError:  # a lone surrogate ("\ud800") is JSON but not UTF-8
        return Incoming(raw, "not valid UTF-8 text", event_id=_loose_id(raw), seq=raw["seq"])
    status = BOOKING_STATUS.get(ticket.get("status") or "")
    return Incoming(
        raw, None, event_id=raw["id"], seq=raw["seq"], type=raw["type"],
        day=syncwire.day_of(raw), booking_id=ticket.get("booking_id"),
        status=status if raw["type"] in KNOWN_TYPES else None, stage=ticket.get("stage"),
        body=body.decode("utf-8"), sha256=syncwire.event_sha256(raw))


def _loose_id(raw: Any) -> str:
    value = raw.get("id") if isinstance(raw, dict) else None
    return value[:MAX_EVENT_ID] if isinstance(value, str) else ""


def _loose_seq(raw: Any) -> int:
    value = raw.get("seq") if isinstance(raw, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def result(event: Incoming, outcome: str, reason: str | None = None) -> dict[str, Any]:
    """One entry of the answer's `results`."""
    answer: dict[str, Any] = {"id": event.event_id or None, "seq": event.seq or None,
                              "result": outcome}
    if reason:
        answer["reason"] = reason
    return answer


KNOWN_TYPES = frozenset({
    "ticket.issued", "ticket.called", "ticket.recalled", "ticket.requeued", "ticket.started",
    "ticket.completed", "ticket.no_show", "ticket.transferred", "ticket.cancelled",
    "ticket.restored", "ticket.advanced", "screening.recorded", "screening.cleared",
    "vaccination.deferred", "vaccination.recorded", "observation.started",
    "observation.reaction", "observation.left_early", "observation.released",
})


# --- heartbeat ------------------------------------------------------------------------------

def heartbeat(doc: Any) -> tuple[str, list[dict[str, Any]]]:
    """`{"at", "services": [{"service", "name", "waiting", "estimated_wait_minutes"}]}` as
    (at, services), or the CentralError that refuses it."""
    if not isinstance(doc, dict):
        raise CentralError("body_invalid")
    at = doc.get("at")
    if at is None:
        raise CentralError("field_missing", field="at")
    try:
        if not isinstance(at, str) or datetime.fromisoformat(at).tzinfo is None:
            raise ValueError(at)
    except ValueError:
        raise CentralError("field_invalid", field="at",
                           why="a time with its UTC offset") from None
    services = doc.get("services")
    if not isinstance(services, list) or len(services) > MAX_SERVICES:
        raise CentralError("field_invalid", field="services",
                           why=f"a list of at most {MAX_SERVICES} services")
    return at, [_service(i, s) for i, s in enumerate(services)]


def _service(i: int, doc: Any) -> dict[str, Any]:
    where = f"services.{i}"
    if not isinstance(doc, dict):
        raise CentralError("field_invalid", field=where, why="an object")
    code, name = doc.get("service"), doc.get("name", "")
    if not isinstance(code, str) or not 1 <= len(code) <= 8:
        raise CentralError("field_invalid", field=f"{where}.service", why="a service code")
    if not isinstance(name, str) or len(name) > 100:
        raise CentralError("field_invalid", field=f"{where}.name",
                           why="a text of at most 100 characters")
    waiting = doc.get("waiting")
    if isinstance(waiting, bool) or not isinstance(waiting, int) or not 0 <= waiting <= 100_000:
        raise CentralError("field_invalid", field=f"{where}.waiting", why="a number 0-100000")
    minutes = doc.get("estimated_wait_minutes")
    if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, int | float)
                                or not math.isfinite(minutes) or not 0 <= minutes <= 10_000):
        raise CentralError("field_invalid", field=f"{where}.estimated_wait_minutes",
                           why="a number 0-10000 or null")
    return {"service": code, "name": name, "waiting": waiting,
            "estimated_wait_minutes": minutes}


# --- nearby ---------------------------------------------------------------------------------

def _coordinate(args: dict[str, str], name: str, limit: float) -> float:
    text = args.get(name)
    if text in (None, ""):
        raise CentralError("field_missing", field=name)
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not -limit <= value <= limit:
        raise CentralError("field_invalid", field=name,
                           why=f"a number from -{limit:g} to {limit:g}")
    return value


def nearby_query(args: dict[str, str]) -> tuple[float, float, int]:
    """`?lat=&lon=&limit=` (limit 1-50, default 10) as (lat, lon, limit)."""
    lat, lon = _coordinate(args, "lat", 90), _coordinate(args, "lon", 180)
    text = args.get("limit") or "10"
    if not (text.isascii() and text.isdigit() and 1 <= int(text[:4]) <= 50):
        raise CentralError("field_invalid", field="limit", why="a number 1-50")
    return lat, lon, int(text)


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def day_query(args: dict[str, str]) -> str:
    """`?day=YYYY-MM-DD`, required."""
    day = args.get("day")
    if not day:
        raise CentralError("field_missing", field="day")
    try:
        datetime.strptime(day, "%Y-%m-%d")
    except ValueError:
        raise CentralError("field_invalid", field="day", why="use YYYY-MM-DD") from None
    if len(day) != 10:
        raise CentralError("field_invalid", field="day", why="use YYYY-MM-DD")
    return day
