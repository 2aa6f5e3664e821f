"""Fixtures for the central tests: the app on a temp SQLite file and on a real PostgreSQL."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pgserver import PostgresServer, PostgresUnavailable

from central.app import create_app
from central.demo import DEMO_ADMIN_TOKEN
from central.store import Store
from contracts.demo import DEMO_STATION_TOKEN

ADMIN = {"Authorization": f"Bearer {DEMO_ADMIN_TOKEN}"}
STATION = {"Authorization": f"Bearer {DEMO_STATION_TOKEN}"}


class Clock:
    """A settable clock handed to the app as CLOCK."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer(max_connections=200)
    except PostgresUnavailable as err:
        pytest.skip(str(err))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    return postgres_server.url


@pytest.fixture
def postgres_database(postgres_server: PostgresServer) -> Iterator[str]:
    """A new, empty database on the session's PostgreSQL (dropped afterwards)."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'central.sqlite3'}"
        return
    yield request.getfixturevalue("postgres_database")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Every test that uses the database runs on SQLite and on PostgreSQL.
    if "database_url" in metafunc.fixturenames:
        engines = [pytest.param("postgres", marks=pytest.mark.postgres)]
        if metafunc.definition.get_closest_marker("postgres_only") is None:
            engines.insert(0, "sqlite")
        metafunc.parametrize("database_url", engines, indirect=True)


@pytest.fixture
def clock() -> Clock:
    return Clock(time.time())


@pytest.fixture
def app(database_url: str, clock: Clock) -> Iterator[Flask]:
    app = create_app({"DATABASE_URL": database_url, "DEMO": False,
                      "ADMIN_TOKEN": DEMO_ADMIN_TOKEN, "CLOCK": clock, "TESTING": True})
    store: Store = app.extensions["central.store"]
    from central.demo import seed_demo

    seed_demo(store, int(clock()), bookings=0)
    yield app
    store.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def store(app: Flask) -> Store:
    return app.extensions["central.store"]


def _booking_request(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "station": "demo-station", "service": "V", "day": date.today().isoformat(),
        "slot": "09:00-09:30",
        "resident": {"name": "张小三", "phone": "13800138000", "birth_year": 1945},
        "vaccine": {"product": "Flu4", "dose": 1},
    }
    doc.update(changes)
    return doc


@pytest.fixture
def booking_request() -> Any:
    """A factory of valid booking requests for the demo station today; override any field."""
    return _booking_request


def make_event(seq: int, kind: str = "ticket.called", *, booking_id: str | None = None,
               status: str = "called", ticket_id: str = "T1", day: str | None = None,
               event_id: str | None = None, detail: dict[str, Any] | None = None,
               counter: str | None = "V1", stage: str | None = None,
               service: str = "V") -> dict[str, Any]:
    """A station event as docs/sync.md describes it (the id from the station and seq)."""
    day = day or date.today().isoformat()
    return {"id": event_id or uuid.uuid5(uuid.NAMESPACE_URL, f"{ticket_id}/{seq}").hex,
            "seq": seq, "type": kind, "at": f"{day}T09:{seq % 60:02d}:00+08:00",
            "counter": counter, "reason": None,
            "ticket": {"id": ticket_id, "booking_id": booking_id, "status": status,
                       "stage": stage, "service": service, "number": "V012"},
            "detail": detail}


@pytest.fixture
def event() -> Any:
    """A factory of station events (see make_event)."""
    return make_event
