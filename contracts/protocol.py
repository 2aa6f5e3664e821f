"""Contracts (shared): the messages the station server, kiosk agent, pages and platform exchange.

Plain data classes with no framework imports. Field names are the public JSON names
(DESIGN.md, "Public API"); event types are the engine's (server/engine/events.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

TICKET_ACTIONS = ("recall", "start", "complete", "no-show", "requeue", "cancel", "transfer",
                  "observe", "release", "restore")


def _shallow(obj: Any) -> dict[str, Any]:
    """Fields as a dict without asdict's deep copy: values are already plain JSON data."""
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


_Message = TypeVar("_Message", bound="DataclassInstance")


def _from(cls: type[_Message], data: dict[str, Any]) -> _Message:
    """An instance of `cls` from the fields of `data` it knows; the rest is ignored."""
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class TicketView:
    id: str
    number: str
    service: str
    status: str
    position: int | None
    eta_minutes: int | None
    counter: str | None
    booking_id: str | None
    issued_at: str
    called_at: str | None
    kind: str = "walkin"
    priority: bool = False
    late: bool = False
    slot: str | None = None
    name_masked: str | None = None
    name: str | None = None  # the full name: staff at the console only, never a public screen
    recalls: int = 0
    code: str | None = None  # the phone status page's key; only sent to staff and the kiosk
    transferred_from: str | None = None
    transferred_to: str | None = None
    stage: str | None = None  # `screening`, `vaccination`, `observation`; None: one stage
    flagged: bool = False  # a screening "yes": needs a doctor (until `cleared`)
    cleared: bool = False
    screening_yes: list[str] | None = None  # the questions answered "yes"; staff only
    vaccine: dict[str, Any] | None = None  # {"product", "dose"}: booked, then given
    observation_ends_at: str | None = None  # ISO with offset, while observing
    # the resident's age in the ticket's year, from the booking's birth year; staff only
    age: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return _shallow(self)


@dataclass(frozen=True)
class Announcement:
    """What the waiting room hears for an event: `text` as written in `lang`; `audio_url`
    serves it (with a chime first) as audio made on the station, or is None when the display
    speaks with its browser's voice, reading `speech` (each language's words as spoken)."""

    text: str
    lang: str
    audio_url: str | None = None
    speech: list[dict[str, str]] | None = None  # [{"text", "lang"}], in the order spoken


@dataclass(frozen=True)
class QueueSummary:
    service: str
    waiting: int
    eta_minutes: int  # for a resident who takes a number now
    minutes_per_position: float
    order: list[str] = field(default_factory=list)  # the first waiting ticket ids, next first

    def to_dict(self) -> dict[str, Any]:
        return _shallow(self)


@dataclass(frozen=True)
class EventMessage:
    """The Socket.IO `event` payload: one change, numbered without gaps."""

    seq: int
    type: str
    ticket: dict[str, Any]
    counter: str | None
    at: str
    reason: str | None = None
    queues: dict[str, dict[str, Any]] = field(default_factory=dict)
    announcement: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return _shallow(self)


@dataclass(frozen=True)
class ApiError:
    code: str
    message: str
    message_zh: str

    def to_dict(self) -> dict[str, Any]:
        return {"error": asdict(self)}


# The kiosk agent tags its HTTP requests with this header, and its Socket.IO connection with
# `auth={"token": ..., "source": "agent"}`, so the station can tell it from the kiosk screen,
# which uses the same device token.
SOURCE_HEADER = "X-Clinicq-Source"
AGENT = "agent"
SCREEN = "screen"


@dataclass(frozen=True)
class KioskResult:
    """The Socket.IO `kiosk.result` payload for one kiosk's screen: shaped like the screen's own
    fetch result (`status`, `ok`, `data`), plus a `notice` such as a printer failure."""

    status: int
    ok: bool
    data: dict[str, Any]
    notice: dict[str, Any] | None = None  # {"code", "message", "message_zh"}
    # who asked at this kiosk: the agent (its scanner; it has printed already) or the screen
    # (a walk-in button or a typed code; the agent prints it)
    source: str = SCREEN

    def to_dict(self) -> dict[str, Any]:
        return _shallow(self)  # `data` is an answer's JSON already


@dataclass(frozen=True)
class KioskPrint:
    """The Socket.IO `kiosk.print` payload: staff ask a kiosk agent to print a ticket again."""

    ticket: dict[str, Any]  # a TicketView dict, with `code` for the status page's QR
    reason: str = "reprint"
    by: str | None = None  # the staff member who asked, for the agent's log

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KioskPrint:
        return _from(cls, data)


KIOSK_NOTICES = ("print_failed", "not_a_booking")


@dataclass(frozen=True)
class KioskNotice:
    """`POST /api/v1/kiosk/notices`: the kiosk agent asks the server to tell its screen a thing."""

    code: str  # one of KIOSK_NOTICES
    ticket_id: str | None = None  # print_failed: the ticket whose number the screen shows again
    detail: str | None = None  # for the log and the console, never shown to residents

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DeviceHealth:
    """`POST /api/v1/devices/health`: what a kiosk agent reports about itself."""

    version: str
    scanner: dict[str, Any]  # {"state": ok|lost|connecting|ended|closed, "source", "last_error"}
    printer: dict[str, Any]  # {"state": ready|paper_near_end|paper_out|cover_open|offline|unknown,
    #                           "detail"}
    last_scan_at: str | None = None
    last_checkin_at: str | None = None
    held_scans: int = 0  # scans kept while the station was unreachable
    print_failures: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeviceHealth:
        return _from(cls, data)
