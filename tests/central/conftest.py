"""Fixtures for the central tests: the app on a temp SQLite file and on a real PostgreSQL."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from central.app import create_app
from central.demo import DEMO_ADMIN_TOKEN
from central.store import Store
from contracts.demo import DEMO_STATION_TOKEN

PG_BIN = Path(os.environ.get("CLINICQ_PG_BIN", "/usr/lib/postgresql/15/bin"))
ADMIN = {"Authorization": f"Bearer {DEMO_ADMIN_TOKEN}"}
STATION = {"Authorization": f"Bearer {DEMO_STATION_TOKEN}"}


class Clock:
    """A settable clock handed to the app as CLOCK."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(args: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        pytest.skip(f"PostgreSQL binaries not found in {PG_BIN} (set CLINICQ_PG_BIN)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root and runuser is missing: cannot start PostgreSQL")
    base = Path(tempfile.mkdtemp(prefix="clinicq-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    data, port = base / "data", _free_port()
    run = {"check": True, "capture_output": True, "timeout": 60}
    subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres",
                                 "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]), **run)
    options = (f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off")
    subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options,
                                 "-l", str(base / "log"), "-w", "start"]), **run)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                     "-w", "stop"]), capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'central.sqlite3'}"
        return
    import psycopg

    server = request.getfixturevalue("postgres_url")
    name = "t_" + uuid.uuid4().hex[:12]
    plain = server.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain + "/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield f"{server}/{name}"
    with psycopg.connect(plain + "/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


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
