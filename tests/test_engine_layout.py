"""The engine under a new layout: rules replaced while the day runs, numbers kept, and no
resident stranded; walk-in hours and the daily capacity."""

from __future__ import annotations

from dataclasses import replace
from datetime import time, timedelta

import pytest
from engine_support import T0, rules, station, walkin

from server.engine import commands as c
from server.engine import counters
from server.engine.errors import DomainError
from server.engine.layout import reconfigure
from server.engine.model import CounterRules, ServiceRules, StationRules


def layout(services: list[ServiceRules], counter_list: list[CounterRules]) -> StationRules:
    return StationRules.build(services, counter_list)


def test_new_rules_apply_and_numbers_go_on() -> None:
    state, first = walkin(station(), "A")
    new = layout([ServiceRules("V", "V"), ServiceRules("A", "M")],
                 [CounterRules("A1", ("A",)), CounterRules("A2", ("A",))])
    state, events = reconfigure(state, new, now=T0)
    assert events == []
    state, second = walkin(state, "A")
    assert [state.tickets[first].number, state.tickets[second].number] == ["A001", "M002"]
    state, events = c.call_next(state, "A2", now=T0 + timedelta(minutes=1))
    assert events[-1].ticket.id == first


def test_a_service_with_open_tickets_keeps_its_pathway() -> None:
    state, _ = walkin(station(), "A")
    gone = layout([ServiceRules("V", "V")], [CounterRules("V1", ("V",))])
    with pytest.raises(DomainError) as err:
        reconfigure(state, gone, now=T0)
    assert (err.value.code, err.value.params) == ("service_has_tickets",
                                                  {"service": "A", "count": 1})
    staged = layout([ServiceRules("V", "V"), ServiceRules("A", "A", stages=("screening",))],
                    [CounterRules("A1", ("A",))])
    with pytest.raises(DomainError):
        reconfigure(state, staged, now=T0)


def test_a_counter_keeps_the_service_of_the_ticket_it_holds() -> None:
    state, _ = walkin(station(), "A")
    state, _ = c.call_next(state, "A1", now=T0)
    elsewhere = layout([ServiceRules("V", "V"), ServiceRules("A", "A")],
                       [CounterRules("A1", ("V",)), CounterRules("A2", ("A",))])
    with pytest.raises(DomainError) as err:
        reconfigure(state, elsewhere, now=T0)
    assert err.value.code == "counter_has_ticket"
    assert err.value.params["counter"] == "A1"


def test_a_removed_counter_leaves_the_breaks_and_the_desks() -> None:
    state, _ = counters.pause(station(), "X1", now=T0)
    smaller = replace(rules(), counters={k: v for k, v in rules().counters.items()
                                         if k != "X1"})
    state, _ = reconfigure(state, smaller, now=T0)
    assert "X1" not in state.paused and "X1" not in state.counter_ticket


def test_walkins_outside_the_hours_and_over_the_capacity_are_refused() -> None:
    state = station(opens=time(8, 0), closes=time(9, 0), walkin_capacity=2)
    with pytest.raises(DomainError) as err:
        walkin(state, "A", at=T0)  # 09:00: closed
    assert err.value.code == "outside_hours"
    assert err.value.params == {"service": "A", "opens": "08:00", "closes": "09:00"}
    early = T0 - timedelta(minutes=30)
    state, _ = walkin(state, "A", at=early)
    state, _ = walkin(state, "A", at=early)
    with pytest.raises(DomainError) as err:
        walkin(state, "A", at=early)
    assert (err.value.code, err.value.params["capacity"]) == ("walkins_full", 2)
    state, _ = walkin(state, "V", at=early)  # each service its own count
