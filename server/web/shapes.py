"""Web (layer 4): the JSON shapes the API answers, declared for the OpenAPI document.

The views answer plain dicts (presenter.TicketView and friends); these models only describe
them, and tests/test_openapi.py checks served answers against them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    code: str
    message: str
    message_zh: str
    field: str | None = Field(None, description="field_missing, field_invalid: the field, "
                                                "for a form to show the message next to it")


class Error(BaseModel):
    """Refused, with a stable code and a message in English and Chinese."""

    error: ErrorBody


class TicketVaccine(BaseModel):
    product: str = Field(description="catalog code (`GET /api/v1/vaccines`)")
    dose: int | None


class Ticket(BaseModel):
    """A ticket as staff, kiosks and the phone page see it (contracts.protocol.TicketView)."""

    id: str
    number: str
    service: str
    status: Literal["waiting", "called", "serving", "done", "no_show", "cancelled",
                    "transferred", "observing", "released", "deferred"]
    position: int | None
    eta_minutes: int | None
    counter: str | None
    booking_id: str | None
    issued_at: str = Field(json_schema_extra={"format": "date-time"})
    called_at: str | None
    kind: Literal["booked", "walkin"] = "walkin"
    priority: bool = False
    late: bool = False
    slot: str | None = None
    name_masked: str | None = None
    name: str | None = Field(None, description="the booking's full name; staff only (not "
                                              "kiosks, displays or phones)")
    recalls: int = 0
    code: str | None = Field(None, description="key of the phone status page; only for staff "
                                               "and kiosks")
    transferred_from: str | None = None
    transferred_to: str | None = None
    stage: Literal["screening", "vaccination", "observation"] | None = Field(
        None, description="where the ticket is on its service's pathway; null: one stage")
    flagged: bool = Field(False, description="a screening answer was yes: needs a doctor "
                                             "unless cleared")
    cleared: bool = False
    screening_yes: list[str] | None = Field(None, description="questions answered yes; "
                                                              "staff only")
    vaccine: TicketVaccine | None = None
    observation_ends_at: str | None = Field(None, json_schema_extra={"format": "date-time"})
    age: int | None = Field(None, description="the resident's age this year, from the "
                            "booking's birth year; staff and the issuing kiosk only")


class Notice(BaseModel):
    """Not a refusal: something the resident is told along with the ticket (`booking_late`:
    queued as a walk-in because the slot has passed)."""

    code: str
    message: str
    message_zh: str


class CheckinTicket(Ticket):
    """The ticket of a check-in, with a notice when there is something to tell."""

    notice: Notice | None = None


class FamilyTickets(BaseModel):
    tickets: list[Ticket]
    created: list[bool] = Field(description="per code: true when its ticket is new")


class Tickets(BaseModel):
    tickets: list[Ticket]


class Counter(BaseModel):
    id: str
    name: str
    name_en: str
    services: list[str]
    stages: list[str] = Field(description="the stages it serves; empty: every stage")
    ticket: Ticket | None = Field(description="the ticket called or served at it")
    can_undo: bool
    paused: bool = Field(description="on a break: it calls nobody and is left out of the "
                                     "wait estimate")


class CounterState(BaseModel):
    counter: Counter


class LoggedIn(BaseModel):
    user: str
    name: str
    role: str
    csrf_token: str


class Me(BaseModel):
    id: str
    kind: Literal["staff", "device"]
    role: str
    name: str
    csrf_token: str | None = Field(description="for staff: the token of unsafe requests")


class Ok(BaseModel):
    ok: bool


class BookingMatch(BaseModel):
    id: str
    name: str | None = Field(description="the full name, for the staff who search")
    name_masked: str | None
    service: str
    slot: str | None
    status: str = Field(description="as the booking list says (`booked`, `cancelled`, ...)")
    checked_in: bool
    ticket: str | None
    ticket_id: str | None


class BookingMatches(BaseModel):
    """At most 20 matches, by slot."""

    bookings: list[BookingMatch]


class Reprinted(BaseModel):
    kiosk: str
    kiosk_name: str
    ticket: Ticket


class HealthRecorded(BaseModel):
    ok: bool
    last_seen_at: str


class KioskStatus(BaseModel):
    id: str
    name: str
    online: bool
    last_seen_at: str | None
    scanner: str | None
    printer: str | None
    printer_detail: str | None
    held_scans: int
    last_scan_at: str | None


class KioskStatuses(BaseModel):
    kiosks: list[KioskStatus]


class PairingStarted(BaseModel):
    code: str = Field(description="shown to the admin, e.g. K7Q-4PX")
    poll: str = Field(description="the device's secret: GET /api/v1/pairing/<poll>")
    expires_at: str


class PairingCollected(BaseModel):
    token: str = Field(description="the device's own bearer token, given once")
    id: str
    kind: Literal["kiosk", "display"]
    name: str


class DeviceBrief(BaseModel):
    id: str
    kind: Literal["kiosk", "display"]
    name: str
    status: Literal["approved", "paired", "revoked"]
    dropped: int | None = Field(None, description="revoke: the connections closed")


class DeviceState(BaseModel):
    device: DeviceBrief


class Device(BaseModel):
    """A paired device; `online`: a health report within `online_seconds`."""

    id: str
    kind: Literal["kiosk", "display"]
    name: str
    paired_at: str
    revoked: bool
    last_seen_at: str | None
    online: bool
    health: dict[str, object] | None = Field(description="the last DeviceHealth report")


class Devices(BaseModel):
    devices: list[Device]
    online_seconds: int
    now: str = Field(description="the station's time, to say how long ago from")


class ScreeningQuestion(BaseModel):
    id: str
    zh: str
    en: str


class ScreeningQuestions(BaseModel):
    """The station's pre-vaccination health questions, in the order they are asked."""

    questions: list[ScreeningQuestion]


class VaccineLot(BaseModel):
    lot: str
    expires: str = Field(json_schema_extra={"format": "date"})
    serials: list[str] = Field(description="the first and last 13 serial digits of the lot's "
                                           "trace codes")


class Vaccine(BaseModel):
    code: str
    name: str
    name_en: str | None
    maker: str | None
    doses: int | None
    interval_days: int | None
    trace_prefix: str = Field(description="the product's 7 digits that start its trace codes")
    observation_minutes: int | None
    lots: list[VaccineLot]


class Vaccines(BaseModel):
    """The platform's vaccine catalog as the station knows it."""

    vaccines: list[Vaccine]


class CommunityNotice(BaseModel):
    id: str
    text: str
    text_en: str
    posted_at: str = Field(json_schema_extra={"format": "date-time"})
    until: str | None = Field(json_schema_extra={"format": "date-time"})


class CommunityNotices(BaseModel):
    """The notices shown now on the display's and the kiosk's ticker, oldest first."""

    notices: list[CommunityNotice]


class SyncProblem(BaseModel):
    seq: int
    event_id: str
    result: str = Field(description="`conflict` or `rejected`")
    reason: str | None
    answered_at: str


class SyncStatus(BaseModel):
    """The station's link with the platform: pull, push, heartbeat (docs/sync.md)."""

    state: str = Field(description="`ok`, `error` or `not_configured`")
    last_pull_at: str | None
    last_push_at: str | None
    last_heartbeat_at: str | None
    last_error: str | None = Field(description="the pull's last error, if the last try failed")
    last_push_error: str | None
    pending: int = Field(description="events the platform has not acknowledged yet")
    conflicts: int
    rejected: int
    next_retry_seconds: float | None
    backed_up_seq: int | None = Field(
        None, description="the last event the backup holds; none after it is sent yet, so "
                          "the platform never has one a restored station lacks (null: no "
                          "backup)")
    problems: list[SyncProblem] = Field(description="the latest conflicting or rejected events")


class ReconciliationItem(BaseModel):
    seq: int
    id: str
    sha256: str


class Reconciliation(BaseModel):
    """A day's events counted and digested as docs/sync.md says, to compare with the
    platform's answer."""

    day: str
    events: int
    digest: str
    items: list[ReconciliationItem] | None = None
