"""Helpers for engine tests: a small station and shorthand commands."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from server.engine import commands as c
from server.engine.model import CounterRules, ServiceRules, State, StationRules

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 27, 9, 0, tzinfo=TZ)
_codes = itertools.count()


def rules(**service_overrides: object) -> StationRules:
    v = ServiceRules("V", "V", **service_overrides)  # type: ignore[arg-type]
    a = ServiceRules("A", "A", **service_overrides)  # type: ignore[arg-type]
    return StationRules.build(
        [v, a], [CounterRules("V1", ("V",)), CounterRules("V2", ("V",)),
                 CounterRules("A1", ("A",)), CounterRules("X1", ("A", "V"))])


def station(**service_overrides: object) -> State:
    return State(rules=rules(**service_overrides))


def code() -> str:
    return f"code{next(_codes)}"


def walkin(state: State, service: str = "V", at: datetime = T0, priority: bool = False
           ) -> tuple[State, str]:
    state, events = c.issue_walkin(state, service, code=code(), now=at, priority=priority)
    return state, events[-1].ticket.id


def booking(state: State, booking_id: str, slot: str = "09:00", service: str = "V",
            at: datetime = T0, priority: bool = False, minutes: int = 30) -> tuple[State, str]:
    h, m = map(int, slot.split(":"))
    start = at.replace(hour=h, minute=m, second=0, microsecond=0)
    info = c.BookingInfo(booking_id, service, at.date(), start, start + timedelta(minutes=minutes),
                         priority)
    state, events = c.check_in(state, info, code=code(), now=at)
    return state, events[-1].ticket.id


def numbers(state: State, ids: list[str]) -> list[str]:
    return [state.tickets[i].number for i in ids]
