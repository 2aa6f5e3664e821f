"""Protocol (shared): the messages the station server, kiosk agent and pages exchange.

Plain data classes with no framework imports; the only module of server/ the kiosk agent
may import. Field names are the public JSON names (DESIGN.md, "Public API").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

EVENT_TYPES = (
    "ticket.issued", "ticket.called", "ticket.recalled", "ticket.requeued", "ticket.started",
    "ticket.completed", "ticket.no_show", "ticket.transferred", "ticket.cancelled",
    "ticket.restored", "observation.started", "observation.released",
)
TICKET_ACTIONS = ("recall", "start", "complete", "no-show", "requeue", "cancel", "transfer")


def _from(cls: type, data: dict[str, Any]) -> Any:
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
    recalls: int = 0
    code: str | None = None  # the phone status page's key; only sent to staff and the kiosk
    transferred_from: str | None = None
    transferred_to: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TicketView:
        return _from(cls, data)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Announcement:
    text: str
    lang: str
    audio_url: str | None = None


@dataclass(frozen=True)
class QueueSummary:
    service: str
    waiting: int
    eta_minutes: int  # for a resident who takes a number now
    minutes_per_position: float
    order: list[str] = field(default_factory=list)  # waiting ticket ids, next first


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
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EventMessage:
        return _from(cls, data)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class CheckinRequest:
    code: str


@dataclass(frozen=True)
class WalkinRequest:
    service: str
    priority: bool = False


@dataclass(frozen=True)
class ApiError:
    code: str
    message: str
    message_zh: str

    def to_dict(self) -> dict[str, Any]:
        return {"error": asdict(self)}
