"""The ticket state machine: every action from every status, against the table."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from contracts.protocol import TICKET_ACTIONS
from server.engine import commands
from server.engine.errors import DomainError
from server.engine.model import Ticket
from server.engine.transitions import TRANSITIONS, check

STATUSES = ["waiting", "called", "serving", "done", "no_show", "cancelled", "transferred",
            "observing", "released", "deferred"]
ALLOWED = {
    ("waiting", "call"): "called",
    ("waiting", "cancel"): "cancelled",
    ("called", "recall"): "called",
    ("called", "requeue"): "waiting",
    ("called", "no-show"): "no_show",
    ("called", "start"): "serving",
    ("serving", "complete"): "done",
    ("serving", "transfer"): "transferred",
    ("serving", "observe"): "observing",
    ("observing", "release"): "released",
    ("no_show", "restore"): "waiting",  # the missed resident came back to the desk
    # the vaccination pathway (server/engine/vaccination.py)
    ("serving", "advance"): "waiting",
    ("waiting", "advance"): "waiting",
    ("called", "vaccinate"): "observing",
    ("serving", "vaccinate"): "observing",
    ("waiting", "defer"): "deferred",
    ("called", "defer"): "deferred",
    ("serving", "defer"): "deferred",
    ("observing", "leave-early"): "released",
}
# actions with a command of their own, not a nurse's button of `act`
OWN_COMMANDS = {"advance", "vaccinate", "defer", "leave-early"}


def ticket(status: str) -> Ticket:
    return Ticket(id="t", day=date(2026, 11, 27), service="V", number="V001", seq_no=1,
                  kind="walkin", status=status,  # type: ignore[arg-type]
                  issued_at=datetime(2026, 11, 27, 9, tzinfo=ZoneInfo("Asia/Shanghai")), code="c")


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", sorted(TRANSITIONS))
def test_every_action_from_every_status(status: str, action: str) -> None:
    expected = ALLOWED.get((status, action))
    if expected is None:
        with pytest.raises(DomainError) as err:
            check(ticket(status), action)
        assert err.value.code == "transition_forbidden"
        assert err.value.params == {"ticket": "V001", "action": action, "status": status}
    else:
        assert check(ticket(status), action) == expected


def test_table_has_exactly_the_designed_transitions() -> None:
    pairs = {(s, a) for a, (sources, _) in TRANSITIONS.items() for s in sources}
    assert pairs == set(ALLOWED)


def test_every_action_of_the_table_has_a_handler_and_no_handler_is_off_the_table() -> None:
    # "call" is the one action no nurse names for a ticket: call_next picks the ticket
    assert set(TRANSITIONS) == commands.ACTIONS | {"call"} | OWN_COMMANDS
    assert "call" not in commands.ACTIONS
    assert set(TICKET_ACTIONS) == commands.ACTIONS  # what the public API documents


def test_unknown_action() -> None:
    with pytest.raises(DomainError) as err:
        check(ticket("waiting"), "teleport")
    assert err.value.code == "action_unknown"


@pytest.mark.parametrize("terminal", ["done", "cancelled", "transferred", "released",
                                      "deferred"])
def test_terminal_states_have_no_way_out(terminal: str) -> None:
    assert all(terminal not in sources for sources, _ in TRANSITIONS.values())
