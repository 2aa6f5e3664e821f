"""Every answer of the station and the platform carries the security headers
(contracts/headers.py): pages, API, static files, errors and Socket.IO's polling."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from central.app import create_app as create_platform
from contracts.headers import HEADERS

STATION_PATHS = [("GET", "/console"), ("GET", "/kiosk"), ("GET", "/display"),
                 ("GET", "/api/v1/state"), ("GET", "/healthz"), ("GET", "/no-such-page"),
                 ("POST", "/api/v1/login"), ("GET", "/socket.io/?EIO=4&transport=polling")]


def assert_headers(response: object, where: str) -> None:
    for name, value in HEADERS:
        assert response.headers.get(name) == value, (where, name)  # type: ignore[attr-defined]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("method, path", STATION_PATHS)
def test_station_answers_carry_the_headers(client: FlaskClient, method: str, path: str) -> None:
    response = client.open(path, method=method)
    assert_headers(response, path)


def test_station_static_files_carry_them(client: FlaskClient, app: object) -> None:
    static = Path(app.static_folder)  # type: ignore[attr-defined]
    name = next(p for p in static.rglob("*.js")).relative_to(static).as_posix()
    with client.get(f"/static/{name}") as response:
        assert response.status_code == 200
        assert_headers(response, name)


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/keys", "/stations/nearby",
                                  "/no-such-page", "/api/v1/bookings"])
def test_platform_answers_carry_the_headers(tmp_path: Path, path: str) -> None:
    client = create_platform({"DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
                              "DEMO": True}).test_client()
    assert_headers(client.get(path), path)
