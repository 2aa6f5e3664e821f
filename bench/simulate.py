"""Benchmark tooling: a seeded discrete-event simulation of one station day driving the real
queue engine (server/engine) on a simulated clock, recording each ticket's estimate at issue
and the wait that happened (issue 13 item 5).

The event loop is simpy's: each planned action is a timeout on its Environment (minutes since
the day's start) whose callback runs the action at its simulated now and may plan more.
Everything random comes from one `random.Random(seed)`, and simpy breaks ties in time by the
order of scheduling, so a seed gives the same day every time.

The day: booked residents arrive around their 30-minute slot (some early, some late, a few
not at all), walk-ins arrive as a Poisson process, each call takes the resident a moment to
reach the desk, some called residents are gone (the counter marks them no-show after a
wait), service times are lognormal, and in `counter_break` one counter pauses for 30 minutes.
Every counter calls the next ticket as soon as it is free, until the queue is empty and no
one else will come.

A scenario may also run the vaccination service "V" (bench/sim_vaccination.py): its residents
pass the engine's pathway — screening (at the kiosk or a desk, a doctor for a "yes"), the dose
with its trace code, observation released when due — each stage with its own service times.

The wait that happened is the one the station's reports measure (server/store/codec.py
report_cells): from check-in to the ticket's last call, i.e. for a vaccination ticket the call
to the vaccination desk. The wait shown at check-in means the same: ticket_eta counts the
stages still ahead of the first (policy.stage_waits), and it is the figure the engine keeps
on the ticket (`issued_eta_minutes`, commands._told_wait) and the kiosk shows.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import simpy
from sim_vaccination import VACCINATION, Vaccination, VaccinationDesk

from server.engine import commands, counters, policy
from server.engine.errors import DomainError
from server.engine.model import CounterRules, ServiceRules, State, StationRules, Ticket

TZ = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 11, 27, tzinfo=TZ)
SERVICE = "A"

# An estimator: (state just after the ticket was issued, the ticket, now) -> minutes shown.
Estimator = Callable[[State, Ticket, datetime], float | None]


@dataclass(frozen=True)
class Scenario:
    name: str
    counters: int
    opens: str  # "08:00": first slot, first walk-ins
    closes: str  # last slot ends, walk-ins stop
    booked_per_slot: int  # bookings per 30-minute slot
    walkins_per_hour: float
    service_mean_minutes: float = 4.5  # the lognormal's mean
    service_sigma: float = 0.5  # the lognormal's shape (sd of log)
    default_service_minutes: float = 5.0  # what the station's config says
    booked_absent: float = 0.08  # a booking whose resident never comes
    no_show: float = 0.05  # a checked-in resident gone when called
    arrive_mean: float = -8.0  # minutes before (-) or after the slot start a booking arrives
    arrive_sd: float = 10.0
    walk_minutes: float = 0.7  # from the call to the desk
    no_show_wait: float = 2.0  # how long the counter waits before marking a no-show
    pause: tuple[str, str, int] | None = None  # (counter, "09:30", minutes)
    vaccination: Vaccination | None = None  # the vaccination service "V" too


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("busy_morning", counters=3, opens="08:00", closes="11:00",
             booked_per_slot=12, walkins_per_hour=17,
             vaccination=Vaccination(booked_per_slot=10, walkins_per_hour=6)),
    Scenario("quiet_afternoon", counters=2, opens="14:00", closes="17:00",
             booked_per_slot=4, walkins_per_hour=6),
    Scenario("counter_break", counters=3, opens="08:00", closes="11:00",
             booked_per_slot=10, walkins_per_hour=14, pause=("A2", "09:30", 30)),
)}


@dataclass
class Record:
    """One ticket: when it was issued and called, and what each estimator said at issue."""

    ticket_id: str
    kind: str
    issued_at: datetime
    estimates: dict[str, float | None]
    called_at: datetime | None = None  # its last call (for a pathway: the last stage's)
    first_called_at: datetime | None = None
    service: str = SERVICE
    told: int | None = None  # the engine's issued_eta_minutes

    @property
    def wait_minutes(self) -> float | None:
        if self.called_at is None:
            return None
        return (self.called_at - self.issued_at).total_seconds() / 60


@dataclass
class Day:
    scenario: Scenario
    seed: int
    records: dict[str, Record] = field(default_factory=dict)
    state: State | None = None

    def errors(self, estimator: str, service: str | None = None) -> list[float]:
        """|estimate − real wait| in minutes of every called ticket (of `service`, or of all)
        the estimator had a figure for."""
        out = []
        for r in self.records.values():
            if service is not None and r.service != service:
                continue
            est, wait = r.estimates.get(estimator), r.wait_minutes
            if est is not None and wait is not None:
                out.append(abs(est - wait))
        return out


def _at(clock: str) -> datetime:
    h, m = map(int, clock.split(":"))
    return DAY.replace(hour=h, minute=m)


def shown_estimate(state: State, ticket: Ticket, now: datetime) -> float | None:
    """What the station shows the resident: the estimate server/presenter.py puts on a ticket."""
    eta = policy.ticket_eta(state, ticket, now)
    return None if eta is None else float(eta)


def legacy_estimate(state: State, ticket: Ticket, now: datetime) -> float | None:
    """The estimator as it was before issue 13 (kept here to measure against): position ×
    prior-weighted mean service time ÷ unpaused counters, rounded up."""
    pos = policy.position(state, ticket, now)
    if not pos:
        return None
    default = state.service(ticket.service).default_service_minutes
    recent = [min(max(s / 60.0, default / 4), default * 4)
              for s in state.durations.get(ticket.service, ())]
    mean = (3 * default + sum(recent)) / (3 + len(recent))
    open_ = sum(1 for cid, c in state.rules.counters.items()
                if ticket.service in c.services and cid not in state.paused)
    return float(math.ceil(pos * mean / max(open_, 1)))


def naive_estimate(state: State, ticket: Ticket, now: datetime) -> float | None:
    """The baseline the issue names: people ahead × mean service time (the recent mean the
    engine knows; no counters, no rounding)."""
    pos = policy.position(state, ticket, now)
    if not pos:
        return None
    return (pos - 1) * policy.mean_service_minutes(state, ticket.service)


ESTIMATORS: dict[str, Estimator] = {
    "current": shown_estimate, "legacy": legacy_estimate, "naive": naive_estimate,
}


def station(scenario: Scenario) -> State:
    services = [ServiceRules(SERVICE, SERVICE,
                             default_service_minutes=scenario.default_service_minutes)]
    desks = [CounterRules(f"A{i}", (SERVICE,)) for i in range(1, scenario.counters + 1)]
    if scenario.vaccination is not None:
        services.append(scenario.vaccination.rules())
        desks += scenario.vaccination.counters()
    return State(rules=StationRules.build(services, desks))


class _Loop:
    """The simulated day (a simpy Environment) and the station: actions run in time order
    against the engine."""

    def __init__(self, scenario: Scenario, seed: int, estimators: dict[str, Estimator]) -> None:
        self.sc = scenario
        self.rng = random.Random(seed)
        self.env = simpy.Environment()
        self.start = _at("00:00")
        self.codes = itertools.count()
        self.state = station(scenario)
        self.day = Day(scenario, seed)
        self.estimators = estimators
        self.counters = sorted(self.state.rules.counters)
        self.busy: set[str] = set()  # counters with a resident called or in service
        self.break_due: set[str] = set()  # a break starts once the counter is free
        self.gone: dict[str, bool] = {}  # ticket -> the resident will not answer the call
        self.break_minutes = 0
        self.vaccination = (VaccinationDesk(self, scenario.vaccination)
                            if scenario.vaccination is not None else None)

    def at(self, when: datetime, action: Callable[[datetime], None]) -> None:
        delay = max(0.0, (when - self.start).total_seconds() / 60 - self.env.now)
        self.env.timeout(delay).callbacks.append(lambda _event: action(when))

    def run(self) -> Day:
        self._plan_arrivals(SERVICE, self.sc.booked_per_slot, self.sc.walkins_per_hour)
        if self.vaccination is not None:
            v = self.vaccination.spec
            self._plan_arrivals(VACCINATION, v.booked_per_slot, v.walkins_per_hour)
        if self.sc.pause is not None:
            counter, clock, minutes = self.sc.pause
            self.at(_at(clock), lambda now: self._break(now, counter, minutes))
        self.env.run()
        self.day.state = self.state
        return self.day

    # arrivals -----------------------------------------------------------------------------

    def _plan_arrivals(self, service: str, per_slot: int, per_hour: float) -> None:
        sc, rng = self.sc, self.rng
        opens, closes = _at(sc.opens), _at(sc.closes)
        slot, n = opens, 0
        while slot < closes:
            for _ in range(per_slot):
                n += 1
                if rng.random() < sc.booked_absent:
                    continue
                offset = min(max(rng.gauss(sc.arrive_mean, sc.arrive_sd), -55.0), 45.0)
                info = commands.BookingInfo(
                    f"{service.lower()}{n}" if service != SERVICE else f"b{n}", service,
                    DAY.date(), slot, slot + timedelta(minutes=30),
                    vaccine=self.vaccination.spec.product if service == VACCINATION
                    and self.vaccination else None,
                    dose=1 if service == VACCINATION else None)
                self._arrival(slot + timedelta(minutes=offset), service, info)
            slot += timedelta(minutes=30)
        when = opens
        while True:
            when += timedelta(minutes=rng.expovariate(per_hour / 60))
            if when >= closes:
                break
            self._arrival(when, service, None)

    def _arrival(self, when: datetime, service: str,
                 booking: commands.BookingInfo | None) -> None:
        gone = self.rng.random() < self.sc.no_show  # drawn now: the draws stay in one order
        plan = self.vaccination.plan() if service == VACCINATION and self.vaccination else None
        self.at(when, lambda now: self._arrive(now, service, booking, gone, plan))

    def _arrive(self, now: datetime, service: str, booking: commands.BookingInfo | None,
                gone: bool, plan: object) -> None:
        code = f"c{next(self.codes)}"
        if booking is None:
            self.state, events = commands.issue_walkin(self.state, service, code=code, now=now)
        else:
            self.state, events = commands.check_in(self.state, booking, code=code, now=now)
        ticket = events[-1].ticket
        self.day.records[ticket.id] = Record(
            ticket.id, "booked" if booking else "walkin", now,
            {name: est(self.state, ticket, now) for name, est in self.estimators.items()},
            service=service, told=ticket.issued_eta_minutes)
        self.gone[ticket.id] = gone
        if self.vaccination is not None and service == VACCINATION:
            self.vaccination.arrived(now, ticket.id, plan)
        self._wake(now)

    # counters -----------------------------------------------------------------------------

    def _wake(self, now: datetime) -> None:
        """Every free, open counter calls the next ticket the engine picks (an idle counter
        takes an early booking too, as the engine allows)."""
        for counter in self.counters:
            if counter in self.busy or counter in self.state.paused:
                continue
            ticket = policy.next_for_counter(self.state, counter, now)
            if ticket is None:
                continue
            self._call(now, counter)

    def _call(self, now: datetime, counter: str) -> None:
        self.state, events = commands.call_next(self.state, counter, now=now)
        ticket = events[-1].ticket
        record = self.day.records[ticket.id]
        record.called_at = now
        if record.first_called_at is None:
            record.first_called_at = now
        self.busy.add(counter)
        first = ticket.stage == self.state.service(ticket.service).queue_stages[0]
        if self.gone[ticket.id] and first:
            self.at(now + timedelta(minutes=self.sc.no_show_wait),
                    lambda t: self._finish(t, counter, ticket.id, "no-show"))
            return
        walk = self.rng.expovariate(1 / self.sc.walk_minutes)
        if self.vaccination is not None and ticket.service == VACCINATION:
            self.vaccination.called(now + timedelta(minutes=walk), counter, ticket)
            return
        service = self.lognormal(self.sc.service_mean_minutes, self.sc.service_sigma)
        self.at(now + timedelta(minutes=walk), lambda t: self.start_service(t, ticket.id))
        self.at(now + timedelta(minutes=walk + service),
                lambda t: self._finish(t, counter, ticket.id, "complete"))

    def lognormal(self, mean: float, sigma: float) -> float:
        """A lognormal draw with this mean and shape."""
        mu = math.log(mean) - sigma * sigma / 2
        return self.rng.lognormvariate(mu, sigma)

    def start_service(self, now: datetime, ticket_id: str) -> None:
        self.state, _ = commands.act(self.state, ticket_id, "start", now=now)

    def _finish(self, now: datetime, counter: str, ticket_id: str, action: str) -> None:
        self.state, _ = commands.act(self.state, ticket_id, action, now=now)
        self.free(now, counter)

    def free(self, now: datetime, counter: str) -> None:
        """The counter is done with its resident: its break, if one is due, else the next."""
        self.busy.discard(counter)
        if counter in self.break_due:
            self.break_due.discard(counter)
            self._pause(now, counter)
        self._wake(now)

    def _break(self, now: datetime, counter: str, minutes: int) -> None:
        self.break_minutes = minutes
        if counter in self.busy:
            self.break_due.add(counter)
        else:
            self._pause(now, counter)

    def _pause(self, now: datetime, counter: str) -> None:
        self.state, _ = counters.pause(self.state, counter, now=now)
        self.at(now + timedelta(minutes=self.break_minutes), lambda t: self._resume(t, counter))

    def _resume(self, now: datetime, counter: str) -> None:
        self.state, _ = counters.resume(self.state, counter, now=now)
        self._wake(now)


def simulate(scenario: Scenario | str, seed: int = 13,
             estimators: dict[str, Estimator] | None = None) -> Day:
    """One day of `scenario` with `seed`: every ticket's estimates at issue and real wait."""
    if isinstance(scenario, str):
        scenario = SCENARIOS[scenario]
    try:
        return _Loop(scenario, seed, estimators or ESTIMATORS).run()
    except DomainError as err:  # pragma: no cover - a bug in the simulation, said plainly
        raise RuntimeError(f"{scenario.name}: the engine refused {err.code} {err.params}") from err
