"""SQLite store: restart rebuilds exactly the state it had; the ledger is append-only."""

from __future__ import annotations

import sqlite3
import tempfile
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from support import TZ, FakeClock, station_settings

from contracts.demo import DEMO_TRACE_CODE
from server.auth import Accounts
from server.demo import seed
from server.engine.errors import DomainError
from server.engine.events import VaccinationRecorded
from server.engine.vaccination import DoseScan
from server.station import StationService
from server.store import Store, StoreError, TraceCodeUsed

START = datetime(2026, 11, 27, 9, 0, tzinfo=TZ)
COMMANDS = st.lists(
    st.one_of(
        st.tuples(st.just("walk_in"), st.sampled_from(["V", "A"])),
        st.tuples(st.just("check_in"), st.integers(1, 40)),
        st.tuples(st.just("call_next"), st.sampled_from(["V1", "V2", "A1", "B1"])),
        st.tuples(st.just("act"), st.integers(0, 30),
                  st.sampled_from(["recall", "start", "complete", "no-show", "requeue",
                                   "cancel", "transfer"])),
        st.tuples(st.just("undo"), st.sampled_from(["V1", "V2", "A1", "B1"])),
        st.tuples(st.just("pause"), st.sampled_from(["V1", "V2", "A1", "B1"])),
        st.tuples(st.just("resume"), st.sampled_from(["V1", "V2", "A1", "B1"])),
        st.tuples(st.just("wait"), st.integers(1, 30)),
        # the vaccination pathway: answers (some "yes"), a doctor's decisions, the dose, and
        # what follows it
        st.tuples(st.just("screen"), st.integers(0, 30), st.booleans()),
        st.tuples(st.just("clear"), st.integers(0, 30)),
        st.tuples(st.just("defer"), st.integers(0, 30)),
        st.tuples(st.just("vaccinate"), st.integers(0, 30), st.integers(0, 9999)),
        st.tuples(st.just("reaction"), st.integers(0, 30)),
        st.tuples(st.just("release_due"), st.just(0)),
    ),
    max_size=40,
)


def run(service: StationService, clock: FakeClock, commands: list[tuple]) -> None:
    for command in commands:
        name, arg = command[0], command[1]
        try:
            if name == "walk_in":
                service.walk_in(arg)
            elif name == "check_in":
                service.check_in(f"DEMO-{'VAB'[(arg - 1) % 3]}{arg:03d}")
            elif name == "call_next":
                service.call_next(arg)
            elif name == "act":
                ids = sorted(service.state.tickets)
                if ids:
                    service.act(ids[arg % len(ids)], command[2], service="A")
            elif name == "undo":
                service.undo(arg)
            elif name == "pause":
                service.pause(arg)
            elif name == "resume":
                service.resume(arg)
            elif name == "wait":
                clock.advance(minutes=arg)
            elif name == "release_due":
                service.release_due()
            else:
                ids = sorted(service.state.tickets)
                if not ids:
                    continue
                tid = ids[arg % len(ids)]
                if name == "screen":
                    answers = dict.fromkeys(service.settings.screening_questions, False)
                    service.record_screening(tid, {**answers, "fever": command[2]},
                                             by="kiosk-1")
                elif name == "clear":
                    service.clear(tid, by="demo-doctor", reason="seen")
                elif name == "defer":
                    service.defer(tid, by="demo-doctor", reason="fever")
                elif name == "vaccinate":
                    code = DEMO_TRACE_CODE[:-4] + f"{command[2]:04d}"
                    service.vaccinate(tid, DoseScan(code, "left_deltoid", "intramuscular",
                                                    "demo-nurse"))
                elif name == "reaction":
                    service.reaction(tid, symptoms=["rash"], note="", severity="mild",
                                     action="", by="demo-nurse")
        except DomainError:
            pass


@hsettings(max_examples=40, deadline=None)
@given(commands=COMMANDS)
def test_restart_rebuilds_identical_state(commands: list[tuple]) -> None:
    settings = station_settings()
    clock = FakeClock(START)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "station.db"
        store = Store(path)
        seed(settings, store, Accounts(store), clock().date())
        service = StationService(replace(settings, database=str(path)), store, clock=clock)
        run(service, clock, commands)
        before = service.state
        events_before = store.events()
        store.close()

        reopened = Store(path)
        again = StationService(settings, reopened, clock=clock)
        assert again.state == before
        assert reopened.events() == events_before
        assert [e["seq"] for e in events_before] == list(range(1, before.seq + 1))
        reopened.close()


def test_event_ledger_refuses_edits_and_deletions(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    settings = station_settings()
    service = StationService(settings, store)
    service.walk_in("V")
    with pytest.raises(sqlite3.IntegrityError):
        store.db.execute("UPDATE events SET type = 'x'")
    with pytest.raises(sqlite3.IntegrityError):
        store.db.execute("DELETE FROM events")
    store.close()


def test_database_refuses_a_second_ticket_for_one_booking(tmp_path: Path) -> None:
    """The unique key backs the engine: even a state that tried would not be stored."""
    store = Store(tmp_path / "s.db")
    settings = station_settings()
    clock = FakeClock(START)
    seed(settings, store, Accounts(store), clock().date())
    service = StationService(settings, store, clock=clock)
    first = service.check_in("DEMO-V001").ticket
    old = service.state
    forged = replace(first, id="forged", seq_no=99, number="V099", version=1)
    new = replace(old, tickets={**old.tickets, "forged": forged})
    with pytest.raises(StoreError):
        store.save(old, new, [])
    assert [t.id for t in StationService(settings, store, clock=clock).state.tickets.values()] \
        == [first.id]
    store.close()


def test_the_full_name_stays_on_the_ticket_and_out_of_the_ledger(tmp_path: Path) -> None:
    """A booking's full name survives a restart on its ticket (the console shows it), but the
    events, which travel to the platform, carry the masked name only."""
    store = Store(tmp_path / "s.db")
    settings = station_settings()
    clock = FakeClock(START)
    seed(settings, store, Accounts(store), clock().date())
    full = store.booking_by_code("DEMO-V001")["name"]
    ticket = StationService(settings, store, clock=clock).check_in("DEMO-V001").ticket
    assert ticket.name == full and ticket.name_masked != full
    again = StationService(settings, store, clock=clock).state.tickets[ticket.id]
    assert again.name == full
    assert [full not in e["ticket"] and '"name_masked"' in e["ticket"]
            for e in store.events()] == [True]
    store.close()


def test_wal_and_full_sync(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    store.close()


def test_second_day_restart_keeps_numbering(tmp_path: Path) -> None:
    settings = station_settings()
    clock = FakeClock(START)
    store = Store(tmp_path / "s.db")
    service = StationService(settings, store, clock=clock)
    service.walk_in("V")
    clock.advance(days=1)
    assert service.walk_in("V").number == "V001"
    store.close()
    store = Store(tmp_path / "s.db")
    assert StationService(settings, store, clock=clock).walk_in("V").number == "V002"
    store.close()


def _observing_station(path: Path, clock: FakeClock) -> tuple[Store, StationService, str]:
    """A station on `path` with one ticket that has had its dose and is in observation."""
    settings = station_settings()
    store = Store(path)
    seed(settings, store, Accounts(store), clock().date())
    service = StationService(settings, store, clock=clock)
    ticket = service.walk_in("V")
    service.record_screening(ticket.id, dict.fromkeys(settings.screening_questions, False),
                             by="kiosk-1")
    service.call_next("V1")
    service.vaccinate(ticket.id, DoseScan(DEMO_TRACE_CODE, "left_deltoid", "intramuscular",
                                          "demo-nurse"))
    return store, service, ticket.id


def test_a_restart_in_the_middle_of_observation_keeps_it_and_releases_it(tmp_path: Path) -> None:
    clock = FakeClock(START)
    store, service, ticket_id = _observing_station(tmp_path / "s.db", clock)
    before = service.state
    ends = before.tickets[ticket_id].observation_ends_at
    assert ends is not None
    store.close()
    clock.advance(minutes=10)
    reopened = Store(tmp_path / "s.db")
    again = StationService(station_settings(), reopened, clock=clock)
    assert again.state == before
    assert again.release_due() == []  # 20 minutes still to go
    clock.advance(minutes=25)  # the server was down when it ended: released at once
    assert [t.id for t in again.release_due()] == [ticket_id]
    assert again.state.tickets[ticket_id].status == "released"
    assert [row["ticket_id"] for row in reopened.vaccinations()] == [ticket_id]
    reopened.close()


def test_the_database_refuses_a_trace_code_twice(tmp_path: Path) -> None:
    """The unique index backs the station's check: a second dose from one box is not stored."""
    clock = FakeClock(START)
    store, service, ticket_id = _observing_station(tmp_path / "s.db", clock)
    old = service.state
    recorded = old.tickets[ticket_id]
    first = store.vaccinations()[0]
    forged = VaccinationRecorded(seq=old.seq + 1, at=clock(), ticket=recorded,
                                 detail={"trace_code": first["trace_code"], "product": "HepB",
                                         "at": clock().isoformat()})
    new = replace(old, seq=old.seq + 1)
    with pytest.raises(TraceCodeUsed):
        store.save(old, new, [forged])
    assert len(store.vaccinations()) == 1 and len(store.events()) == old.seq
    store.close()


def test_a_break_and_when_it_began_outlive_a_restart(tmp_path: Path) -> None:
    """The estimate expects a paused counter back after a usual break from when it began:
    a restart keeps that time (engine meta `paused_at`)."""
    path = tmp_path / "s.db"
    settings = replace(station_settings(), database=str(path))
    clock = FakeClock(START)
    store = Store(path)
    service = StationService(settings, store, clock=clock)
    assert service.pause("V1")
    before = service.state
    store.close()
    reopened = Store(path)
    again = StationService(settings, reopened, clock=clock)
    assert again.state == before and again.state.paused_at == {"V1": START}
    reopened.close()
