"""Every answer of the station and the platform carries the security headers
(contracts/headers.py): pages, API, static files, errors and Socket.IO's polling."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from central.app import create_app as create_platform
from contracts.headers import HEADERS

STATION_PATHS = [("GET", "/console"), ("GET", "/kiosk"), ("GET", "/display"),
                 ("GET", "/api/v1/state"), ("GET", "/healthz"), ("GET", "/no-such-page"),
                 ("POST", "/api/v1/login"), ("GET", "/socket.io/?EIO=4&transport=polling")]


# the strict policy of issue 14 point 5: no inline script or style, no eval, no plugins
STRICT = {
    "default-src": ["'self'"], "script-src": ["'self'"], "style-src": ["'self'"],
    "img-src": ["'self'", "data:"], "media-src": ["'self'", "blob:", "data:"],
    "connect-src": ["'self'", "ws:", "wss:"], "font-src": ["'self'"],
    "object-src": ["'none'"], "base-uri": ["'none'"], "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        assert name not in parsed, f"{name} twice"
        parsed[name] = sources
    return parsed


def assert_headers(response: object, where: str) -> None:
    for name, value in HEADERS:
        assert response.headers.get(name) == value, (where, name)  # type: ignore[attr-defined]
    policy = response.headers["Content-Security-Policy"]  # type: ignore[attr-defined]
    assert directives(policy) == STRICT, where


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


TEMPLATES = [Path(d) for d in ("server/web/templates", "kiosk/templates", "display/templates",
                               "central/templates")]
INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>"),
     "inline script"),
    (re.compile(r"<style\b"), "inline <style>"),
    (re.compile(r"\sstyle=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "on* handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_template_needs_what_the_policy_refuses() -> None:
    root = Path(__file__).resolve().parent.parent
    found = []
    for folder in TEMPLATES:
        for template in sorted((root / folder).rglob("*.html")):
            text = template.read_text(encoding="utf-8")
            found += [f"{template.relative_to(root)}: {what}: {m.group(0)!r}"
                      for pattern, what in INLINE for m in pattern.finditer(text)]
    assert not found, "\n".join(found)


def test_platform_serves_its_pages_styles(tmp_path: Path) -> None:
    client = create_platform({"DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
                              "DEMO": True}).test_client()
    page = client.get("/stations/nearby").get_data(as_text=True)
    sheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)
    assert sheets
    for sheet in sheets:
        with client.get(sheet) as response:
            assert response.status_code == 200 and response.mimetype == "text/css", sheet
            assert_headers(response, sheet)
