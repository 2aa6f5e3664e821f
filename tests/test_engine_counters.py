"""A counter's break: paused, it is left out of the estimate; calling ends the break."""

from __future__ import annotations

from datetime import timedelta

import pytest
from engine_support import T0, station, walkin

from server.engine import commands as c
from server.engine import counters as breaks
from server.engine import policy
from server.engine.errors import DomainError


def test_pause_leaves_the_counter_out_of_the_estimate_and_resume_brings_it_back() -> None:
    s = station()
    for _ in range(6):
        s, _ = walkin(s, "V")
    both = policy.eta_minutes(s, "V", 6)  # V1, V2 and X1 serve V
    s, events = breaks.pause(s, "V1", now=T0)
    assert events == [] and s.paused == {"V1"}
    s, _ = breaks.pause(s, "V2", now=T0)
    assert policy.open_counters(s, "V") == 1
    assert policy.eta_minutes(s, "V", 6) > both
    s, _ = breaks.resume(s, "V1", now=T0)
    s, _ = breaks.resume(s, "V2", now=T0)
    assert s.paused == frozenset() and policy.eta_minutes(s, "V", 6) == both


def test_pause_and_resume_are_idempotent() -> None:
    s = station()
    s1, _ = breaks.pause(s, "A1", now=T0)
    s2, events = breaks.pause(s1, "A1", now=T0)
    assert s2.paused == {"A1"} and events == []
    s3, _ = breaks.resume(s, "A1", now=T0)
    assert s3.paused == frozenset()


def test_a_counter_with_a_called_resident_cannot_pause() -> None:
    s, _ = walkin(station(), "A")
    s, _ = c.call_next(s, "A1", now=T0)
    with pytest.raises(DomainError) as err:
        breaks.pause(s, "A1", now=T0)
    assert err.value.code == "counter_busy"
    tid = s.counter_ticket["A1"]
    s, _ = c.act(s, tid, "start", now=T0, counter="A1")
    s, _ = breaks.pause(s, "A1", now=T0)  # serving: the nurse finishes, then the break
    assert "A1" in s.paused


def test_calling_next_ends_the_break() -> None:
    s, _ = walkin(station(), "A")
    s, _ = breaks.pause(s, "A1", now=T0)
    s, events = c.call_next(s, "A1", now=T0 + timedelta(minutes=15))
    assert [e.type for e in events] == ["ticket.called"]
    assert s.paused == frozenset()


def test_a_new_day_opens_every_counter() -> None:
    s, _ = breaks.pause(station(), "V1", now=T0)
    s, _ = c.open_day(s, T0 + timedelta(days=1))
    assert s.paused == frozenset()


def test_unknown_counter() -> None:
    with pytest.raises(DomainError) as err:
        breaks.pause(station(), "Z9", now=T0)
    assert err.value.code == "counter_unknown"
