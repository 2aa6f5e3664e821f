"""Queue engine (layer 1): a command's changes while it runs — tickets put, events numbered,
the state's other fields drafted — and the result they make."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import TypedDict, Unpack

from . import events as ev
from .index import TicketMap, tickets_of
from .model import State, Status, Ticket

Result = tuple[State, list[ev.Event]]


class _Change:
    """Collects ticket changes and numbered events while a command runs."""

    def __init__(self, state: State, now: datetime) -> None:
        self.state = state
        self.now = now
        self.base = tickets_of(state)
        self.changed: dict[str, Ticket] = {}  # what the command has put, by id
        self._tickets: TicketMap | None = self.base
        self.events: list[ev.Event] = []
        self.seq = state.seq
        # the state's other fields as changed so far (numbering, undo, recent calls, ...)
        self.draft = state
        self.told: State | None = None  # the state the last new ticket's wait was told from

    @property
    def tickets(self) -> TicketMap:
        """The tickets as changed so far: the state's, shared, with this command's puts."""
        if self._tickets is None:
            self._tickets = self.base.updated(self.changed)
        return self._tickets

    def restart(self, tickets: Mapping[str, Ticket]) -> None:
        """Start again from `tickets` (a new day keeps today's only)."""
        self.base, self.changed, self._tickets = TicketMap(tickets), {}, None

    def put(
        self, ticket: Ticket, event: type[ev.Event], *, counter: str | None = None,
        reason: str | None = None, detail: Mapping[str, object] | None = None,
    ) -> Ticket:
        self.changed[ticket.id] = ticket
        self._tickets = None
        self.seq += 1
        self.events.append(event(seq=self.seq, at=self.now, ticket=ticket, counter=counter,
                                 reason=reason, detail=detail))
        return ticket

    def view(self) -> State:
        """The state as changed so far (for policy questions asked mid-command)."""
        return replace(self.draft, tickets=self.tickets, seq=self.seq)

    def result(self) -> Result:
        return self.view(), self.events


class _TicketChanges(TypedDict, total=False):
    """What a command may change of a ticket besides its version."""

    status: Status
    called_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    counter: str | None
    recalls: int
    transferred_to: str | None
    stage: str | None
    flagged: bool
    cleared: bool
    screening_yes: tuple[str, ...]
    vaccine: str | None
    dose: int | None
    observation_ends_at: datetime | None


def _bump(ticket: Ticket, **changes: Unpack[_TicketChanges]) -> Ticket:
    return replace(ticket, version=ticket.version + 1, **changes)
