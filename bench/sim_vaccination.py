"""Benchmark tooling: the vaccination service "V" in the simulated station day
(bench/simulate.py), its residents passing the real engine's pathway
(server/engine/vaccination.py) as at the station:

- check-in at the kiosk, which asks the health questions: a share answer every one "no" and
  go straight to the vaccination queue (`record_screening` on the waiting ticket); the others
  skip them and are asked at the screening desk;
- screening at a desk (S1 screens only; V1, V2 screen and vaccinate, as config.toml's desks):
  call, walk up, `start`, the questions (`record_screening`), `complete` (the ticket queues at
  the vaccination stage with its number). A "yes" flags the ticket: the doctor talks with
  the resident at the desk, then `clear`s (and the desk completes) or `defer`s it;
- vaccination at a V desk: call, walk up, `start`, the dose scanned (`vaccinate`, a fresh
  trace code of the booked product), which starts observation and frees the desk;
- observation is time, not a queue: `release_due` when it ends.

Each stage's time is lognormal with its own mean and shape (docs/estimates.md states them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from contracts.demo import DEMO_VACCINES
from server.engine import commands, vaccination
from server.engine.model import OBSERVATION, SCREENING, CounterRules, ServiceRules, Ticket
from server.engine.model import VACCINATION as DOSE

if TYPE_CHECKING:
    from simulate import _Loop

VACCINATION = "V"
QUESTIONS = ("fever", "allergy", "past_reaction", "recent_vaccine", "pregnancy", "immune",
             "illness")
CATALOG = {row["code"]: vaccination.Vaccine.from_dict(row) for row in DEMO_VACCINES}


@dataclass(frozen=True)
class Vaccination:
    """The vaccination service of a scenario: its desks, arrivals and stage times."""

    booked_per_slot: int = 10
    walkins_per_hour: float = 6
    screening_desks: int = 1  # S1..: screening only
    desks: int = 2  # V1..: screening and vaccination
    default_service_minutes: float = 4.0  # config.toml's "V"
    screening: tuple[float, float] = (2.5, 0.4)  # lognormal (mean minutes, sd of log)
    dose: tuple[float, float] = (3.0, 0.35)  # scan, checks, injection, record
    doctor: tuple[float, float] = (5.0, 0.5)  # a "yes" talked over at the desk
    kiosk_answered: float = 0.5  # every question "no" at the kiosk: no screening desk
    kiosk_minutes: float = 1.5  # the questions at the kiosk, after the ticket
    flagged: float = 0.06  # of those asked at the desk, a "yes"
    deferred: float = 0.25  # of the flagged, the doctor defers
    product: str = "Flu4"

    def rules(self) -> ServiceRules:
        return ServiceRules(VACCINATION, VACCINATION,
                            default_service_minutes=self.default_service_minutes,
                            stages=(SCREENING, DOSE, OBSERVATION))

    def counters(self) -> list[CounterRules]:
        return ([CounterRules(f"S{i}", (VACCINATION,), (SCREENING,))
                 for i in range(1, self.screening_desks + 1)]
                + [CounterRules(f"V{i}", (VACCINATION,), (SCREENING, DOSE))
                   for i in range(1, self.desks + 1)])


class Plan(NamedTuple):
    """One resident's answers, drawn at planning so the draws keep one order."""

    at_kiosk: bool  # answers every question "no" at the kiosk
    flagged: bool  # else: a "yes" at the desk
    deferred: bool


class VaccinationDesk:
    """The vaccination residents' steps, run by the day's loop on its clock and state."""

    def __init__(self, loop: _Loop, spec: Vaccination) -> None:
        self.loop = loop
        self.spec = spec
        self.serials = iter(range(10 ** 6))
        self.plans: dict[str, Plan] = {}
        self.prefix = CATALOG[spec.product].trace_prefix + "2026080"  # Flu4's lot 202608F

    def plan(self) -> Plan:
        rng = self.loop.rng
        return Plan(rng.random() < self.spec.kiosk_answered, rng.random() < self.spec.flagged,
                    rng.random() < self.spec.deferred)

    def arrived(self, now: datetime, ticket_id: str, plan: object) -> None:
        assert isinstance(plan, Plan)
        self.plans[ticket_id] = plan
        if plan.at_kiosk:
            self.loop.at(now + timedelta(minutes=self.spec.kiosk_minutes),
                         lambda t: self._kiosk(t, ticket_id))

    def _kiosk(self, now: datetime, ticket_id: str) -> None:
        ticket = self.loop.state.tickets[ticket_id]
        if ticket.status != "waiting" or ticket.stage != SCREENING:
            return  # a free desk called the resident first: the desk asks
        self._answer(now, ticket_id, yes=False, by="kiosk-1")

    def _answer(self, now: datetime, ticket_id: str, *, yes: bool, by: str) -> None:
        answers = {q: yes and q == "fever" for q in QUESTIONS}
        self.loop.state, _ = vaccination.record_screening(
            self.loop.state, ticket_id, answers, questions=QUESTIONS, by=by, now=now)
        self.loop._wake(now)  # the ticket may now be at the vaccination stage

    def called(self, arrives: datetime, counter: str, ticket: Ticket) -> None:
        """The resident called to `counter` walks up (at `arrives`) and is served there."""
        loop = self.loop
        loop.at(arrives, lambda t: loop.start_service(t, ticket.id))
        if ticket.stage == SCREENING:
            plan = self.plans[ticket.id]
            asked = arrives + timedelta(minutes=loop.lognormal(*self.spec.screening))
            loop.at(asked, lambda t: self._screened(t, counter, ticket.id, plan))
        else:
            dosed = arrives + timedelta(minutes=loop.lognormal(*self.spec.dose))
            loop.at(dosed, lambda t: self._dose(t, counter, ticket.id))

    def _screened(self, now: datetime, counter: str, ticket_id: str, plan: Plan) -> None:
        loop = self.loop
        loop.state, _ = vaccination.record_screening(
            loop.state, ticket_id, {q: plan.flagged and q == "fever" for q in QUESTIONS},
            questions=QUESTIONS, by=counter, now=now)
        if not plan.flagged:
            self._complete(now, counter, ticket_id)
            return
        talked = now + timedelta(minutes=loop.lognormal(*self.spec.doctor))
        loop.at(talked, lambda t: self._doctor(t, counter, ticket_id, plan.deferred))

    def _doctor(self, now: datetime, counter: str, ticket_id: str, deferred: bool) -> None:
        loop = self.loop
        if deferred:
            loop.state, _ = vaccination.defer(loop.state, ticket_id, by="doctor",
                                              reason="fever", now=now)
            loop.free(now, counter)
            return
        loop.state, _ = vaccination.clear(loop.state, ticket_id, by="doctor",
                                          reason="mild, cleared", now=now)
        self._complete(now, counter, ticket_id)

    def _complete(self, now: datetime, counter: str, ticket_id: str) -> None:
        self.loop.state, _ = commands.act(self.loop.state, ticket_id, "complete", now=now)
        self.loop.free(now, counter)

    def _dose(self, now: datetime, counter: str, ticket_id: str) -> None:
        loop = self.loop
        scan = vaccination.DoseScan(f"{self.prefix}{next(self.serials):06d}", "left_arm", "im",
                                    nurse=counter)
        loop.state, events = vaccination.vaccinate(loop.state, ticket_id, scan,
                                                   catalog=CATALOG, used_before=False, now=now)
        ends = events[-1].ticket.observation_ends_at
        assert ends is not None
        loop.at(ends, self._release)
        loop.free(now, counter)

    def _release(self, now: datetime) -> None:
        self.loop.state, _ = vaccination.release_due(self.loop.state, now)
