"""Queue engine (layer 1): one frozen dataclass per event type; the contract between layers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from .model import Ticket


@dataclass(frozen=True)
class Event:
    """Something that happened to one ticket; `seq` numbers the station's events without gaps."""

    type: ClassVar[str] = "event"
    speak: ClassVar[bool] = False  # whether the waiting room should hear it

    seq: int
    at: datetime
    ticket: Ticket  # the ticket as it is after the event
    counter: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class TicketIssued(Event):
    type: ClassVar[str] = "ticket.issued"


@dataclass(frozen=True)
class TicketCalled(Event):
    type: ClassVar[str] = "ticket.called"
    speak: ClassVar[bool] = True


@dataclass(frozen=True)
class TicketRecalled(Event):
    type: ClassVar[str] = "ticket.recalled"
    speak: ClassVar[bool] = True


@dataclass(frozen=True)
class TicketRequeued(Event):
    """A called resident did not come within the recall window and was sent back to wait."""

    type: ClassVar[str] = "ticket.requeued"


@dataclass(frozen=True)
class TicketStarted(Event):
    type: ClassVar[str] = "ticket.started"


@dataclass(frozen=True)
class TicketCompleted(Event):
    type: ClassVar[str] = "ticket.completed"


@dataclass(frozen=True)
class TicketNoShow(Event):
    type: ClassVar[str] = "ticket.no_show"


@dataclass(frozen=True)
class TicketTransferred(Event):
    """The old ticket; a TicketIssued for its continuation in the next service follows it."""

    type: ClassVar[str] = "ticket.transferred"


@dataclass(frozen=True)
class TicketCancelled(Event):
    type: ClassVar[str] = "ticket.cancelled"


@dataclass(frozen=True)
class TicketRestored(Event):
    """A counter's last action was undone; the ticket is back as it was before it."""

    type: ClassVar[str] = "ticket.restored"


@dataclass(frozen=True)
class ObservationStarted(Event):
    type: ClassVar[str] = "observation.started"


@dataclass(frozen=True)
class ObservationReleased(Event):
    type: ClassVar[str] = "observation.released"
    speak: ClassVar[bool] = True


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        TicketIssued, TicketCalled, TicketRecalled, TicketRequeued, TicketStarted,
        TicketCompleted, TicketNoShow, TicketTransferred, TicketCancelled, TicketRestored,
        ObservationStarted, ObservationReleased,
    )
}
