"""Queue engine (layer 1): the vaccination pathway — screening, the dose with its trace code
checked, observation and its release. Pure functions, like server/engine/commands.py."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from . import events as ev
from .change import _bump, _Change
from .commands import Result, _record_duration, _set_counter, _start, advance
from .errors import DomainError
from .index import index_of
from .model import OBSERVATION, SCREENING, VACCINATION, State, Ticket
from .transitions import check

TRACE_CODE = re.compile(r"[0-9]{20}")  # ASCII digits only: a full-width digit is no scan
PREFIX_DIGITS = 7


@dataclass(frozen=True)
class Lot:
    lot: str
    expires: date
    first: str  # the 13 serial digits of the lot's first and last box
    last: str

    def holds(self, serial: str) -> bool:
        return self.first <= serial <= self.last  # equal lengths: text order is number order


@dataclass(frozen=True)
class Vaccine:
    """One product of the catalog (`GET /api/v1/vaccines`)."""

    code: str
    name: str
    maker: str
    doses: int
    interval_days: int
    trace_prefix: str
    observation_minutes: int | None = None
    name_en: str = ""
    lots: tuple[Lot, ...] = ()

    @staticmethod
    def from_dict(row: Mapping[str, Any]) -> Vaccine:
        """A product from the catalog's JSON shape (contracts/demo.py DEMO_VACCINES)."""
        lots = tuple(
            Lot(str(lot["lot"]), date.fromisoformat(str(lot["expires"])),
                str((lot.get("serials") or ["", "9" * 13])[0]),
                str((lot.get("serials") or ["", "9" * 13])[1]))
            for lot in row.get("lots") or ()
        )
        minutes = row.get("observation_minutes")
        return Vaccine(
            code=str(row["code"]), name=str(row["name"]), maker=str(row.get("maker") or ""),
            doses=int(row.get("doses") or 1), interval_days=int(row.get("interval_days") or 0),
            trace_prefix=str(row["trace_prefix"]),
            observation_minutes=int(minutes) if minutes is not None else None,
            name_en=str(row.get("name_en") or ""), lots=lots)

    def lot_of(self, trace_code: str) -> Lot | None:
        serial = trace_code[PREFIX_DIGITS:]
        return next((lot for lot in self.lots if lot.holds(serial)), None)


@dataclass(frozen=True)
class DoseScan:
    """What the nurse sends for one dose."""

    trace_code: str
    site: str
    route: str
    nurse: str
    by_doctor: bool = False  # the one recording is a doctor (may override dose_too_soon)
    checklist: Mapping[str, bool] | None = None
    override_reason: str | None = None
    dose: int | None = None  # for a walk-in, whose dose the booking does not say


def _open_for_screening(state: State, ticket: Ticket) -> None:
    rules = state.service(ticket.service)
    if SCREENING not in rules.stages or ticket.status not in ("waiting", "called", "serving") \
            or ticket.stage not in (SCREENING, VACCINATION):
        raise DomainError("screening_closed", ticket=ticket.number)


def record_screening(state: State, ticket_id: str, answers: Mapping[str, bool], *,
                     questions: Sequence[str], by: str, now: datetime) -> Result:
    """The health answers. Any "yes" flags the ticket for a doctor; every question answered
    "no" by a ticket waiting at screening sends it on to the vaccination queue."""
    change = _start(state, now)
    ticket = change.view().ticket(ticket_id)
    unknown = sorted(set(answers) - set(questions))
    if unknown:
        raise DomainError("screening_unknown_question", question=unknown[0])
    _open_for_screening(state, ticket)
    yes = tuple(q for q in questions if answers.get(q) is True)
    flagged = bool(yes) or (ticket.flagged and not ticket.cleared)
    recorded = change.put(
        _bump(ticket, flagged=flagged, cleared=ticket.cleared and not yes,
              screening_yes=yes or ticket.screening_yes if flagged else ()),
        ev.ScreeningRecorded,
        detail={"answers": {q: bool(answers[q]) for q in questions if q in answers},
                "yes": list(yes), "by": by})
    complete = all(q in answers for q in questions)
    if not flagged and complete:
        _past_screening(change, state, recorded)
    return change.result()


def clear(state: State, ticket_id: str, *, by: str, reason: str, now: datetime) -> Result:
    """A doctor clears a flagged ticket for vaccination; one waiting at screening moves on."""
    change = _start(state, now)
    ticket = change.view().ticket(ticket_id)
    if not ticket.flagged or ticket.cleared:
        raise DomainError("not_flagged", ticket=ticket.number)
    _open_for_screening(state, ticket)
    cleared = change.put(_bump(ticket, cleared=True), ev.ScreeningCleared,
                         detail={"by": by, "reason": reason})
    _past_screening(change, state, cleared)
    return change.result()


def _past_screening(change: _Change, state: State, ticket: Ticket) -> None:
    """A ticket still waiting at screening with nothing left to ask moves to the next stage."""
    if ticket.status == "waiting" and ticket.stage == SCREENING:
        following = state.service(ticket.service).stage_after(SCREENING)
        if following is not None:
            advance(change, ticket, following)


def defer(state: State, ticket_id: str, *, by: str, reason: str, now: datetime) -> Result:
    """A doctor defers the vaccination: the ticket is closed, a desk holding it is free."""
    change = _start(state, now)
    ticket = change.view().ticket(ticket_id)
    target = check(ticket, "defer")
    change.put(_bump(ticket, status=target, finished_at=now, counter=None),
               ev.VaccinationDeferred, counter=ticket.counter,
               detail={"by": by, "reason": reason})
    if ticket.counter is not None and change.view().counter_ticket.get(ticket.counter) == \
            ticket.id:
        _set_counter(change, ticket.counter, None)
    return change.result()


def product_for(trace_code: str, ticket: Ticket,
                catalog: Mapping[str, Vaccine]) -> Vaccine:
    """The product a scanned code must be: the booked one, or for a walk-in the one whose
    prefix the code carries. Refusals: `trace_code_invalid`, `vaccine_mismatch`,
    `vaccine_unknown`."""
    if not TRACE_CODE.fullmatch(trace_code):
        raise DomainError("trace_code_invalid", length=len(trace_code))
    prefix = trace_code[:PREFIX_DIGITS]
    if ticket.vaccine is not None:
        booked = catalog.get(ticket.vaccine)
        if booked is None:
            raise DomainError("vaccine_unknown", product=ticket.vaccine)
        if booked.trace_prefix != prefix:
            scanned = next((v for v in catalog.values() if v.trace_prefix == prefix), None)
            raise DomainError("vaccine_mismatch", booked=booked.name,
                              scanned=scanned.name if scanned else prefix)
        return booked
    found = next((v for v in catalog.values() if v.trace_prefix == prefix), None)
    if found is None:
        raise DomainError("vaccine_unknown", product=prefix)
    return found


def check_ready(state: State, ticket: Ticket) -> None:
    """The ticket can get its dose now: at the vaccination stage, at a desk, not flagged
    unless a doctor cleared it."""
    rules = state.service(ticket.service)
    if VACCINATION not in rules.stages or ticket.stage != VACCINATION or \
            ticket.status not in ("called", "serving"):
        raise DomainError("not_at_vaccination_stage", ticket=ticket.number)
    if ticket.flagged and not ticket.cleared:
        raise DomainError("screening_not_cleared", ticket=ticket.number)


def vaccinate(state: State, ticket_id: str, scan: DoseScan, *, catalog: Mapping[str, Vaccine],
              used_before: bool, now: datetime) -> Result:
    """Record the dose and start observation. Checks, in this order, each its own code: the
    ticket (`not_at_vaccination_stage`, `screening_not_cleared`), then the trace code
    (`trace_code_invalid`, `vaccine_mismatch`, `trace_code_used`, `vaccine_expired`,
    `dose_too_soon` unless a doctor overrides it with a reason)."""
    change = _start(state, now)
    ticket = change.view().ticket(ticket_id)
    check_ready(state, ticket)
    vaccine = product_for(scan.trace_code, ticket, catalog)
    if used_before:
        raise DomainError("trace_code_used")
    lot = vaccine.lot_of(scan.trace_code)
    if lot is not None and lot.expires < now.date():
        raise DomainError("vaccine_expired", lot=lot.lot, expires=lot.expires.isoformat())
    override = None
    if ticket.previous_dose_on is not None and vaccine.interval_days > 0:
        earliest = ticket.previous_dose_on + timedelta(days=vaccine.interval_days)
        if now.date() < earliest:
            if not scan.override_reason:
                raise DomainError("dose_too_soon", earliest=earliest.isoformat(),
                                  days=vaccine.interval_days)
            if not scan.by_doctor:
                raise DomainError("override_needs_doctor")
            override = scan.override_reason
    target = check(ticket, "vaccinate")
    rules = state.service(ticket.service)
    minutes = vaccine.observation_minutes or rules.observation_minutes
    ends = now + timedelta(minutes=minutes)
    dose = ticket.dose or scan.dose or 1
    counter = ticket.counter
    given = _bump(ticket, status=target, stage=OBSERVATION, vaccine=vaccine.code, dose=dose,
                  observation_ends_at=ends)
    change.put(given, ev.VaccinationRecorded, counter=counter, detail={
        "trace_code": scan.trace_code, "product": vaccine.code, "name": vaccine.name,
        "maker": vaccine.maker, "lot": lot.lot if lot else None,
        "expires": lot.expires.isoformat() if lot else None, "dose": dose, "site": scan.site,
        "route": scan.route, "nurse": scan.nurse, "at": now.isoformat(timespec="seconds"),
        "checklist": dict(scan.checklist or {}), "override_reason": override,
        "observation_ends_at": ends.isoformat(timespec="seconds"),
    })
    change.put(given, ev.ObservationStarted, counter=counter,
               detail={"observation_ends_at": ends.isoformat(timespec="seconds")})
    _record_duration(change, ticket)
    if counter is not None and change.view().counter_ticket.get(counter) == ticket.id:
        _set_counter(change, counter, None)
    return change.result()


def _observing(state: State, ticket_id: str) -> Ticket:
    ticket = state.ticket(ticket_id)
    if ticket.status != "observing":
        raise DomainError("not_in_observation", ticket=ticket.number)
    return ticket


def reaction(state: State, ticket_id: str, *, symptoms: Sequence[str], note: str,
             severity: str, action: str, by: str, now: datetime) -> Result:
    """An adverse reaction: recorded, and observation extended from now."""
    change = _start(state, now)
    ticket = _observing(change.view(), ticket_id)
    extend = timedelta(minutes=state.service(ticket.service).reaction_extend_minutes)
    ends = max(ticket.observation_ends_at or now, now + extend)
    change.put(_bump(ticket, observation_ends_at=ends), ev.ObservationReaction, detail={
        "symptoms": list(symptoms), "note": note, "severity": severity, "action": action,
        "by": by, "observation_ends_at": ends.isoformat(timespec="seconds")})
    return change.result()


def leave_early(state: State, ticket_id: str, *, by: str, reason: str, now: datetime) -> Result:
    change = _start(state, now)
    ticket = _observing(change.view(), ticket_id)
    target = check(ticket, "leave-early")
    change.put(_bump(ticket, status=target, finished_at=now), ev.ObservationLeftEarly,
               reason="left_early", detail={"by": by, "reason": reason})
    return change.result()


def release_due(state: State, now: datetime) -> Result:
    """Every ticket whose observation has ended by `now` is free to leave, earliest first."""
    due = sorted((t for t in index_of(state).busy.values() if t.status == "observing"
                  and t.observation_ends_at is not None and t.observation_ends_at <= now),
                 key=lambda t: (t.observation_ends_at or now, t.seq_no))
    if not due:
        return state, []
    change = _start(state, now)
    for ticket in due:
        current = change.view().tickets.get(ticket.id)
        if current is None or current.status != "observing":
            continue  # closed by the day's rollover
        change.put(_bump(current, status=check(current, "release"), finished_at=now),
                   ev.ObservationReleased, reason="observation_ended")
    return change.result()
