"""Shared fixtures: settings → store → app → client, a settable clock, and a live server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from server import config
from server.store import Store
from server.web import create_app

TZ = ZoneInfo("Asia/Shanghai")
OUTPUT = Path(__file__).resolve().parent.parent / "test-output"


class FakeClock:
    """The station's clock, set by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def settings() -> config.Settings:
    return config.load(database=":memory:", demo=True)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 27, 9, 0, tzinfo=TZ))


@pytest.fixture
def store() -> Iterator[Store]:
    s = Store(":memory:")
    yield s
    s.close()


@pytest.fixture
def app(settings: config.Settings, store: Store, clock: FakeClock) -> Flask:
    return create_app(settings, store=store, clock=clock, testing=True)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


KIOSK = {"Authorization": "Bearer demo-kiosk-token"}
DISPLAY = {"Authorization": "Bearer demo-display-token"}


def login(client: FlaskClient, username: str = "demo-nurse") -> dict[str, str]:
    """Log `client` in; returns the headers its unsafe requests must carry."""
    r = client.post("/api/v1/login", json={"username": username, "password": username})
    assert r.status_code == 200, r.get_json()
    return {"X-CSRF-Token": r.get_json()["csrf_token"]}


@pytest.fixture
def nurse(client: FlaskClient) -> dict[str, str]:
    return login(client)


class LiveServer:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture
def real_clock_app(settings: config.Settings, tmp_path: Path) -> Flask:
    """An app on a real SQLite file and the real clock, for tests over real sockets."""
    return create_app(replace(settings, database=str(tmp_path / "station.db")))
