"""Queue engine (layer 1): immutable station state — services, counters, tickets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from types import MappingProxyType
from typing import Literal

from .errors import DomainError

Status = Literal[
    "waiting", "called", "serving", "done", "no_show", "cancelled", "transferred",
    "observing", "released", "deferred",
]
Kind = Literal["booked", "walkin"]

OPEN_STATUSES: frozenset[str] = frozenset({"waiting", "called", "serving", "observing"})


@dataclass(frozen=True)
class ServiceRules:
    """How one service numbers and orders its tickets (from config.toml)."""

    code: str
    prefix: str
    walkins: bool = True
    # one walk-in after every N booked calls; 0 = walk-ins only when no booked ticket waits
    booked_per_walkin: int = 2
    grace_minutes: int = 15  # an arrival this long after its slot ends is served as a walk-in
    early_minutes: int = 60  # how early before its slot a booking may check in
    # Outside that window: "refuse" the check-in, or "wait" (accept; it waits for its slot).
    early_policy: str = "refuse"
    # Past the grace period: "walkin" (accept, queued as a walk-in) or "refuse".
    late_policy: str = "walkin"
    recall_limit: int = 2  # recalls allowed; one more recall marks the ticket no-show
    default_service_minutes: float = 5.0  # used for the wait estimate until real times exist
    number_width: int = 3
    # The pathway: stages a ticket passes in order, keeping its number (vaccination:
    # screening, vaccination, observation). Empty: one stage, as a doctor visit.
    stages: tuple[str, ...] = ()
    observation_minutes: int = 30  # when the vaccine given does not say
    reaction_extend_minutes: int = 30  # a recorded reaction keeps the resident this much longer
    # Walk-in numbers are given from `opens` until `closes` (None: from the day's start, to its
    # end), and at most `walkin_capacity` a day (0: no limit). Bookings keep their slots.
    opens: time | None = None
    closes: time | None = None
    walkin_capacity: int = 0

    @property
    def queue_stages(self) -> tuple[str | None, ...]:
        """The stages with a queue that counters call from (observation is a room, entered by
        recording the dose); `(None,)` for a service of one stage."""
        queued = tuple(s for s in self.stages if s != OBSERVATION)
        return queued or (None,)

    def stage_after(self, stage: str | None) -> str | None:
        """The queue stage that follows `stage`, or None when `stage` is the last one."""
        queued = self.queue_stages
        if stage not in queued:
            return None
        i = queued.index(stage)
        return queued[i + 1] if i + 1 < len(queued) else None


# The stage names the engine itself acts on (config.toml names the pathway with them).
SCREENING = "screening"
VACCINATION = "vaccination"
OBSERVATION = "observation"


@dataclass(frozen=True)
class CounterRules:
    """What the engine knows of a desk or room: the services whose tickets it calls, and of
    those the stages it serves (empty: every stage)."""

    id: str
    services: tuple[str, ...]
    stages: tuple[str, ...] = ()

    def serves(self, rules: ServiceRules) -> tuple[str | None, ...]:
        """The queue stages of `rules`' service this counter calls from."""
        queued = rules.queue_stages
        if not self.stages or queued == (None,):
            return queued
        return tuple(s for s in queued if s in self.stages)


@dataclass(frozen=True)
class StationRules:
    services: Mapping[str, ServiceRules]
    counters: Mapping[str, CounterRules]
    recent_calls_kept: int = 10  # how many calls State.recent_calls keeps for the display
    service_time_window: int = 10  # how many recent service durations feed the estimate

    @staticmethod
    def build(
        services: list[ServiceRules], counters: list[CounterRules], **kw: int
    ) -> StationRules:
        return StationRules(
            services=MappingProxyType({s.code: s for s in services}),
            counters=MappingProxyType({c.id: c for c in counters}),
            **kw,
        )


@dataclass(frozen=True)
class Ticket:
    id: str
    day: date
    service: str
    number: str
    seq_no: int
    kind: Kind
    status: Status
    issued_at: datetime
    code: str  # unguessable id for the resident's phone page
    priority: bool = False
    booking_id: str | None = None
    slot_start: datetime | None = None
    slot_end: datetime | None = None
    late: bool = False
    name_masked: str | None = None
    # the booking's full name: for staff at the console, never on a public screen or ticket
    name: str | None = None
    called_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    counter: str | None = None
    recalls: int = 0
    version: int = 1
    transferred_from: str | None = None
    transferred_to: str | None = None
    stage: str | None = None  # where it is on its service's pathway; None: a one-stage service
    flagged: bool = False  # a screening answer was "yes": it needs a doctor
    cleared: bool = False  # a doctor has seen the flag and cleared the vaccination
    screening_yes: tuple[str, ...] = ()  # the questions answered "yes"
    vaccine: str | None = None  # the product booked, or given (catalog code)
    dose: int | None = None  # which dose of the product
    previous_dose_on: date | None = None  # the platform's record of the last dose, if known
    observation_ends_at: datetime | None = None
    birth_year: int | None = None  # the booking's resident's, for the desk's age check
    # the wait told to the resident when the ticket was issued (kiosk, printed ticket), in
    # minutes; kept so that reports can set it against the wait that happened
    issued_eta_minutes: int | None = None
    # the kiosk (device id) whose screen or agent asked for it; None: staff or a console. A
    # kiosk is shown its own tickets only (presenter), with their phone-page codes
    issued_by: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True)
class UndoRecord:
    """What a counter's last action replaced, so that it can be put back."""

    action: str
    before: tuple[Ticket, ...]
    after_versions: tuple[tuple[str, int], ...]
    created: tuple[str, ...]  # tickets the action made (a transfer's continuation)
    counter_ticket: str | None
    streak: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Call:
    ticket_id: str
    number: str
    counter: str
    at: datetime


@dataclass(frozen=True)
class State:
    """Everything the engine knows. Replace, never mutate: the old state stays valid.

    The commands keep `tickets` as an index.TicketMap, which shares what did not change with
    the state before and carries the index policy reads (index.index_of)."""

    rules: StationRules
    day: date | None = None
    seq: int = 0
    tickets: Mapping[str, Ticket] = field(default_factory=dict)
    counter_ticket: Mapping[str, str | None] = field(default_factory=dict)
    numbering: Mapping[str, int] = field(default_factory=dict)  # service -> last number today
    streak: Mapping[str, int] = field(default_factory=dict)  # service -> booked calls since walk-in
    undo: Mapping[str, UndoRecord] = field(default_factory=dict)
    durations: Mapping[str, tuple[float, ...]] = field(default_factory=dict)  # service -> seconds
    recent_calls: tuple[Call, ...] = ()
    paused: frozenset[str] = frozenset()  # counters on a break: no calls, left out of the estimate
    # when each counter's latest break began (read only while it is in `paused`): the estimate
    # expects it back after a usual break (policy.EXPECTED_BREAK_MINUTES)
    paused_at: Mapping[str, datetime] = field(default_factory=dict)

    def ticket(self, ticket_id: str) -> Ticket:
        try:
            return self.tickets[ticket_id]
        except KeyError:
            raise DomainError("ticket_not_found", ticket=ticket_id) from None

    def service(self, code: str) -> ServiceRules:
        try:
            return self.rules.services[code]
        except KeyError:
            raise DomainError("service_unknown", service=code) from None

    def counter(self, counter_id: str) -> CounterRules:
        try:
            return self.rules.counters[counter_id]
        except KeyError:
            raise DomainError("counter_unknown", counter=counter_id) from None
