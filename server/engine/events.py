"""Queue engine (layer 1): one frozen dataclass per event type; the contract between layers."""

from __future__ import annotations

from collections.abc import Mapping
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
    # what the event records beyond the ticket, JSON-ready (each type documents its keys)
    detail: Mapping[str, object] | None = None


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


@dataclass(frozen=True)
class TicketAdvanced(Event):
    """A stage of the pathway is done: the ticket waits, same number, at `reason`, the next
    stage."""

    type: ClassVar[str] = "ticket.advanced"


@dataclass(frozen=True)
class ScreeningRecorded(Event):
    """The health questions answered: detail `{"answers": {id: bool}, "yes": [ids], "by"}`."""

    type: ClassVar[str] = "screening.recorded"


@dataclass(frozen=True)
class ScreeningCleared(Event):
    """A doctor saw a flagged ticket and cleared it; detail `{"by", "reason"}`."""

    type: ClassVar[str] = "screening.cleared"


@dataclass(frozen=True)
class VaccinationDeferred(Event):
    """A doctor deferred the vaccination; the ticket is closed. Detail `{"by", "reason"}`."""

    type: ClassVar[str] = "vaccination.deferred"


@dataclass(frozen=True)
class VaccinationRecorded(Event):
    """The dose given, the record the platform keeps: detail `{"trace_code", "product",
    "name", "maker", "lot", "expires", "dose", "site", "route", "nurse", "at", "checklist",
    "override_reason", "observation_ends_at"}`."""

    type: ClassVar[str] = "vaccination.recorded"


@dataclass(frozen=True)
class ObservationReaction(Event):
    """An adverse reaction during observation; detail `{"symptoms", "note", "severity",
    "action", "by", "observation_ends_at"}`. Observation is extended."""

    type: ClassVar[str] = "observation.reaction"


@dataclass(frozen=True)
class ObservationLeftEarly(Event):
    """The resident left before observation ended; detail `{"by", "reason"}`."""

    type: ClassVar[str] = "observation.left_early"


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        TicketIssued, TicketCalled, TicketRecalled, TicketRequeued, TicketStarted,
        TicketCompleted, TicketNoShow, TicketTransferred, TicketCancelled, TicketRestored,
        ObservationStarted, ObservationReleased, TicketAdvanced, ScreeningRecorded,
        ScreeningCleared, VaccinationDeferred, VaccinationRecorded, ObservationReaction,
        ObservationLeftEarly,
    )
}
