"""Queue engine (layer 1): a counter's break — paused, it calls nobody and is left out of the
wait estimate (policy.open_counters), so its share of the queue is no longer promised.

A pause is the counter's, not a ticket's: it changes state, not tickets, and has no event
(events are steps of tickets, docs/sync.md). It is kept with the engine's state, so a restart
keeps it, and a new day starts with every counter open.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from .commands import Result, _start
from .errors import DomainError
from .model import State


def pause(state: State, counter: str, *, now: datetime) -> Result:
    """The counter goes on a break. Refused while it has a called resident waiting for it (they
    are on their way: serve or mark them first); a resident being served may be finished after."""
    state.counter(counter)
    change = _start(state, now)
    view = change.view()
    if counter in view.paused:
        return change.result()
    current_id = view.counter_ticket.get(counter)
    current = view.tickets.get(current_id) if current_id else None
    if current is not None and current.status == "called":
        raise DomainError("counter_busy", ticket=current.number, counter=counter)
    change.draft = replace(change.draft, paused=view.paused | {counter},
                           paused_at={**view.paused_at, counter: now})
    return change.result()


def resume(state: State, counter: str, *, now: datetime) -> Result:
    """The counter is back: it calls again and counts in the estimate."""
    state.counter(counter)
    change = _start(state, now)
    view = change.view()
    if counter in view.paused:
        change.draft = replace(change.draft, paused=view.paused - {counter})
    return change.result()
