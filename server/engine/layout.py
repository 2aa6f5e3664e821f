"""Queue engine (layer 1): the station's layout changed by an administrator — services and
counters added, edited or removed while the day runs.

The new rules replace the old ones in the state; tickets keep their numbers. A change that
would strand a resident is refused: removing a service (or changing its pathway) while its
tickets are open, or removing a counter (or taking a service from it) while it has a ticket
in hand. Like a counter's break, a layout change is no step of a ticket and has no event here;
the station service records who changed what in its own ledger of changes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from .commands import Result, _start
from .errors import DomainError
from .model import State, StationRules


def reconfigure(state: State, rules: StationRules, *, now: datetime) -> Result:
    """The state under `rules`, or a DomainError naming the service or counter in the way."""
    change = _start(state, now)
    view = change.view()
    old = view.rules
    open_by_service: dict[str, int] = {}
    for ticket in view.tickets.values():
        if ticket.is_open:
            open_by_service[ticket.service] = open_by_service.get(ticket.service, 0) + 1
    for code, before in old.services.items():
        waiting = open_by_service.get(code, 0)
        after = rules.services.get(code)
        if waiting and (after is None or after.stages != before.stages):
            raise DomainError("service_has_tickets", service=code, count=waiting)
    for counter_id, held in view.counter_ticket.items():
        held_ticket = view.tickets.get(held) if held else None
        if held_ticket is None or not held_ticket.is_open:
            continue
        after_counter = rules.counters.get(counter_id)
        if after_counter is None or held_ticket.service not in after_counter.services:
            raise DomainError("counter_has_ticket", counter=counter_id, ticket=held_ticket.number)
    change.draft = replace(
        change.draft, rules=rules,
        counter_ticket={c: t for c, t in view.counter_ticket.items() if c in rules.counters},
        paused=frozenset(c for c in view.paused if c in rules.counters))
    return change.result()
