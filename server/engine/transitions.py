"""Queue engine (layer 1): the ticket state machine as one table, checked in one function."""

from __future__ import annotations

from .errors import DomainError
from .model import Status, Ticket

# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[Status], Status]] = {
    "call": (frozenset({"waiting"}), "called"),
    "recall": (frozenset({"called"}), "called"),
    "requeue": (frozenset({"called"}), "waiting"),
    "no-show": (frozenset({"called"}), "no_show"),
    "start": (frozenset({"called"}), "serving"),
    "complete": (frozenset({"serving"}), "done"),
    "transfer": (frozenset({"serving"}), "transferred"),
    "cancel": (frozenset({"waiting"}), "cancelled"),
    "restore": (frozenset({"no_show"}), "waiting"),  # the missed resident came back
    "observe": (frozenset({"serving"}), "observing"),
    "release": (frozenset({"observing"}), "released"),
    # the pathway (server/engine/vaccination.py): a finished stage queues for the next one
    "advance": (frozenset({"serving", "waiting"}), "waiting"),
    "vaccinate": (frozenset({"called", "serving"}), "observing"),
    "defer": (frozenset({"waiting", "called", "serving"}), "deferred"),
    "leave-early": (frozenset({"observing"}), "released"),
}


def check(ticket: Ticket, action: str) -> Status:
    """The status `action` leads to from `ticket`'s status, or a DomainError naming both."""
    try:
        sources, target = TRANSITIONS[action]
    except KeyError:
        raise DomainError("action_unknown", action=action) from None
    if ticket.status not in sources:
        raise DomainError(
            "transition_forbidden", ticket=ticket.number, action=action, status=ticket.status
        )
    return target
