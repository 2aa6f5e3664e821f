"""Station service (layer 2): the one place that changes state.

Each command runs through the engine under one lock; the new state and its events are
committed in one SQLite transaction; only then are listeners told, in `seq` order.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from . import audit, layout
from .bookings import BookingDirectory
from .config import Settings
from .engine import commands, counters, vaccination
from .engine import layout as engine_layout
from .engine.commands import BookingInfo
from .engine.errors import DomainError
from .engine.events import Event
from .engine.model import CounterRules, State, StationRules, Ticket
from .engine.vaccination import DoseScan, Vaccine
from .store import StorageFull, Store, StoreError, TraceCodeUsed
from .sync import KeyRing

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
ANSWER_SAME_AS_PUSH = timedelta(seconds=1)
Listener = Callable[["Published"], None]


@dataclass(frozen=True)
class Published:
    """What listeners receive after a commit: the events and the state they led to."""

    events: list[Event]
    state: State
    now: datetime


@dataclass(frozen=True)
class CheckinResult:
    ticket: Ticket
    created: bool  # False: the booking was checked in before; this is the same ticket


class StationService:
    def __init__(self, settings: Settings, store: Store, clock: Clock | None = None,
                 new_code: Callable[[], str] | None = None) -> None:
        self.settings = settings
        self.store = store
        self.clock: Clock = clock or (lambda: datetime.now(settings.timezone))
        self._new_code = new_code or (lambda: secrets.token_urlsafe(12))
        self._lock = threading.RLock()
        self._listeners: list[Listener] = []
        self._layout_listeners: list[Callable[[], None]] = []
        self.keyring = KeyRing(store)
        self.bookings = BookingDirectory(
            settings, store, self.keyring,
            acted_on=lambda booking_id: commands.ticket_for_booking(self.state, booking_id)
            is not None)
        self.state: State = store.load(State(rules=settings.engine_rules()))
        self._timer_stop = threading.Event()
        self._timer: threading.Thread | None = None
        self._catalog: tuple[int, dict[str, Vaccine]] | None = None
        self._committed: tuple[State, datetime] | None = None  # the last commit and its time

    # plumbing -------------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def on_layout(self, listener: Callable[[], None]) -> None:
        """`listener()` after the services or counters were changed (pages reload theirs)."""
        self._layout_listeners.append(listener)

    @property
    def lock(self) -> threading.RLock:
        """Held while a command commits and publishes; hold it to read a snapshot and join a
        room without a delta slipping in between."""
        return self._lock

    def _run(self, command: Callable[..., commands.Result], *args: Any, **kw: Any) -> list[Event]:
        with self._lock:
            now = self.clock()
            old = self.state
            new, events = command(old, *args, now=now, **kw)
            if new is old:
                return events
            # who did it, when staff did, in the same transaction (server/audit.py)
            entry = audit.command_entry(command.__name__, args, kw, events, now)
            try:
                self.store.save(old, new, events, [entry] if entry else [])
            except TraceCodeUsed as err:  # the same box scanned at two desks at once
                raise DomainError("trace_code_used") from err
            except StorageFull as err:  # undone whole; the screens keep the state before it
                log.error("the disk is full: a command was refused: %s", err)
                raise DomainError("storage_full") from err
            except StoreError as err:
                log.error("store refused a command's result: %s", err)
                raise DomainError("conflict") from err
            self.state = new
            self._committed = (new, now)
            published = Published(events, new, now)
            for listener in self._listeners:
                try:
                    listener(published)
                except Exception:  # a broken listener must not undo a committed change
                    log.exception("listener %r failed", listener)
            return events

    def current(self) -> tuple[State, datetime]:
        """The state as of now, opening a new day first if the date has changed."""
        now = self.clock()
        if self.state.day != now.date():
            self._run(commands.open_day)
            now = self.clock()
        return self.state, now

    # commands -------------------------------------------------------------------------------

    def walk_in(self, service: str, *, priority: bool = False,
                issued_by: str | None = None) -> Ticket:
        """`issued_by`: the kiosk asking, if one is (it is shown its own tickets only)."""
        events = self._run(commands.issue_walkin, service, code=self._new_code(),
                           priority=priority, issued_by=issued_by)
        return events[-1].ticket

    def check_in(self, scanned: str, *, issued_by: str | None = None) -> CheckinResult:
        """Check in by a scanned or typed code (`issued_by`: the kiosk, as for walk_in)."""
        now = self.clock()
        return self._check_in(self.bookings.lookup(scanned, today=now.date(), now=now),
                              issued_by)

    def check_in_booking(self, booking_id: str) -> CheckinResult:
        """Staff-assisted check-in of a booking of the local list, without its code."""
        return self._check_in(self.bookings.by_id(booking_id))

    def _check_in(self, booking: BookingInfo, issued_by: str | None = None) -> CheckinResult:
        with self._lock:
            existing = commands.ticket_for_booking(self.state, booking.id)
            if existing is not None:
                return CheckinResult(existing, created=False)
            events = self._run(commands.check_in, booking, code=self._new_code(),
                               issued_by=issued_by)
        return CheckinResult(events[-1].ticket, created=True)

    def check_in_family(self, scanned: list[str], *,
                        issued_by: str | None = None) -> list[CheckinResult]:
        """Several codes at once (a parent and children): every code is checked first, then
        all new tickets are issued in one command, so their numbers are consecutive; one
        refused code refuses them all."""
        now = self.clock()
        return self._check_in_together(
            [self.bookings.lookup(code, today=now.date(), now=now) for code in scanned],
            issued_by)

    def check_in_family_bookings(self, booking_ids: list[str]) -> list[CheckinResult]:
        """The same for staff at the console, by booking id (no codes to scan)."""
        return self._check_in_together([self.bookings.by_id(b) for b in booking_ids])

    def _check_in_together(self, bookings: list[BookingInfo],
                           issued_by: str | None = None) -> list[CheckinResult]:
        with self._lock:
            before = {b.id: commands.ticket_for_booking(self.state, b.id) for b in bookings}
            self._run(commands.check_in_family, bookings,
                      codes=[self._new_code() for _ in bookings], issued_by=issued_by)
            state = self.state
        results = []
        for b in bookings:
            ticket = commands.ticket_for_booking(state, b.id)
            assert ticket is not None
            results.append(CheckinResult(ticket, created=before[b.id] is None))
        return results

    def call_next(self, counter: str) -> Ticket:
        return self._run(commands.call_next, counter)[-1].ticket

    def act(self, ticket_id: str, action: str, *, counter: str | None = None,
            service: str | None = None) -> Ticket:
        events = self._run(commands.act, ticket_id, action, counter=counter, service=service)
        return next(e.ticket for e in reversed(events) if e.ticket.id == ticket_id)

    def pause(self, counter: str) -> bool:
        """The counter goes on a break (docs: server/engine/counters.py); True: it is paused."""
        self._run(counters.pause, counter)
        return counter in self.state.paused

    def resume(self, counter: str) -> bool:
        self._run(counters.resume, counter)
        return counter in self.state.paused

    def undo(self, counter: str) -> list[Ticket]:
        events = self._run(commands.undo, counter)
        return [e.ticket for e in events]

    def configure(self, doc: dict[str, Any], *, by: str, action: str, subject: str,
                  detail: dict[str, Any] | None = None) -> None:
        """Replace the services and counters with `doc`'s (server/layout.py), live: refused
        whole (LayoutInvalid, or a DomainError when a resident would be stranded) or made
        whole — the engine's rules, the saved layout and its ledger row in one transaction."""
        services, counters_ = layout.validate(doc)
        with self._lock:
            self.current()  # a new day opens first, with its own events
            now = self.clock()
            old = self.state.rules
            rules = StationRules.build(
                [s.rules for s in services.values()],
                [CounterRules(c.id, c.services, c.stages) for c in counters_.values()],
                recent_calls_kept=old.recent_calls_kept,
                service_time_window=old.service_time_window)
            new, events = engine_layout.reconfigure(self.state, rules, now=now)
            assert not events, "a layout change is no step of a ticket"
            self.store.save_layout(doc, {"at": now.isoformat(timespec="seconds"), "user": by,
                                         "action": action, "subject": subject,
                                         "detail": detail or {}}, new)
            self.state = new
            self.settings.services.replace(services)  # type: ignore[attr-defined]
            self.settings.counters.replace(counters_)  # type: ignore[attr-defined]
            for listener in self._layout_listeners:
                try:
                    listener()
                except Exception:  # the change is made; a broken listener must not hide it
                    log.exception("layout listener %r failed", listener)

    # the vaccination pathway (server/engine/vaccination.py) -----------------------------

    def record_screening(self, ticket_id: str, answers: dict[str, bool], *, by: str) -> Ticket:
        events = self._run(vaccination.record_screening, ticket_id, answers,
                           questions=self.settings.screening_questions, by=by)
        return self._latest(events, ticket_id)

    def clear(self, ticket_id: str, *, by: str, reason: str) -> Ticket:
        return self._latest(self._run(vaccination.clear, ticket_id, by=by, reason=reason),
                            ticket_id)

    def defer(self, ticket_id: str, *, by: str, reason: str) -> Ticket:
        return self._latest(self._run(vaccination.defer, ticket_id, by=by, reason=reason),
                            ticket_id)

    def catalog(self) -> dict[str, Vaccine]:
        """The vaccine catalog, read again only after the store's was replaced."""
        version = self.store.vaccines_version
        if self._catalog is None or self._catalog[0] != version:
            self._catalog = (version, {row["code"]: Vaccine.from_dict(row)
                                       for row in self.store.vaccines()})
        return self._catalog[1]

    def vaccinate(self, ticket_id: str, scan: DoseScan) -> Ticket:
        """Record a dose. The trace code's earlier use is looked up under the lock that
        serialises commands; the store's unique index backs it."""
        with self._lock:
            used = vaccination.TRACE_CODE.fullmatch(scan.trace_code) is not None and \
                self.store.trace_code_used(scan.trace_code)
            events = self._run(vaccination.vaccinate, ticket_id, scan, catalog=self.catalog(),
                               used_before=used)
        return self._latest(events, ticket_id)

    def reaction(self, ticket_id: str, *, symptoms: list[str], note: str, severity: str,
                 action: str, by: str) -> Ticket:
        events = self._run(vaccination.reaction, ticket_id, symptoms=symptoms, note=note,
                           severity=severity, action=action, by=by)
        return self._latest(events, ticket_id)

    def leave_early(self, ticket_id: str, *, by: str, reason: str) -> Ticket:
        return self._latest(self._run(vaccination.leave_early, ticket_id, by=by,
                                      reason=reason), ticket_id)

    def release_due(self) -> list[Ticket]:
        """Release every ticket whose observation has ended (the timer calls this)."""
        return [e.ticket for e in self._run(vaccination.release_due)
                if e.type == "observation.released"]

    def start_timer(self, interval: float = 5.0) -> None:
        """Release ended observations now and every `interval` seconds, in a daemon thread
        (also right after a restart: what ended while the server was down goes at once)."""
        if self._timer is not None:
            return
        self._timer_stop.clear()
        self._timer = threading.Thread(target=self._tick, args=(interval,),
                                       name="clinicq-observation", daemon=True)
        self._timer.start()

    def _tick(self, interval: float) -> None:
        while not self._timer_stop.is_set():
            try:
                self.release_due()
            except Exception:  # the timer must outlive a bug in one round
                log.exception("releasing observations failed")
            self._timer_stop.wait(interval)

    def stop_timer(self, timeout: float = 5.0) -> None:
        self._timer_stop.set()
        if self._timer is not None:
            self._timer.join(timeout)
            self._timer = None

    @staticmethod
    def _latest(events: list[Event], ticket_id: str) -> Ticket:
        return next(e.ticket for e in reversed(events) if e.ticket.id == ticket_id)

    # queries --------------------------------------------------------------------------------

    def ticket(self, ticket_id: str) -> tuple[State, Ticket, datetime]:
        state, now = self.current()
        committed = self._committed
        if committed is not None and committed[0] is state and \
                timedelta(0) <= now - committed[1] < ANSWER_SAME_AS_PUSH:
            # a command's answer, moments after it: the time the pushes were made at, so the
            # answer says what the screens say and its waits are not worked out again
            now = committed[1]
        return state, state.ticket(ticket_id), now

    def search_bookings(self, text: str, limit: int = 20) -> list[dict[str, Any]]:
        """Today's bookings matching a name fragment or the phone's last four digits, with the
        ticket of those already checked in."""
        state, now = self.current()
        rows = self.store.search_bookings(now.date().isoformat(), text, limit)
        out = []
        for row in rows:
            ticket = commands.ticket_for_booking(state, row["id"])
            out.append({"booking": row, "ticket": ticket})
        return out

    def today(self) -> date:
        return self.clock().date()
