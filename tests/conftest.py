"""Shared fixtures: settings → store → app → client, a settable clock, and a live server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from support import TZ, FakeClock, LiveServer, login, station_settings

from server import config
from server.store import Store
from server.web import create_app


@pytest.fixture
def settings() -> config.Settings:
    return station_settings(database=":memory:", demo=True)


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


@pytest.fixture
def nurse(client: FlaskClient) -> dict[str, str]:
    return login(client)


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture
def real_clock_app(settings: config.Settings, tmp_path: Path) -> Flask:
    """An app on a real SQLite file and the real clock, for tests over real sockets."""
    return create_app(replace(settings, database=str(tmp_path / "station.db")))
