"""The platform reads every JSON body within limits (central/bodies.py, contracts/jsonbody.py):
a body nested a thousand deep, not UTF-8, not JSON, NaN or a key twice is a 400 `body_invalid`
and one log line; a body past the size limit a 413 in the API's error shape; and a fuzz of
5,000 malformed bodies per JSON endpoint (every unsafe route of the url_map that reads a body,
sent by the admin or the station as the route wants) gets no answer of 500 or more."""

from __future__ import annotations

import json
import logging
import os
import random
import zlib
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from bodyfuzz import JSON, Bodies, WsgiCaller
from conftest import ADMIN, STATION, make_event
from flask import Flask
from flask.testing import FlaskClient

from central.app import create_app

PER_ENDPOINT = int(os.environ.get("FUZZ_PER_ENDPOINT", "5000"))
DEEP = b"[" * 1000 + b"]" * 1000
PATH_VALUES = {"booking_id": "no-such-booking", "code": "FZ1", "station": "demo-station",
               "token_id": "no-such-token"}
SEEDS: dict[str, dict[str, Any]] = {
    "central_api.create_booking": {
        "station": "demo-station", "service": "V", "day": date.today().isoformat(), "slot": "23:00",
        "resident": {"name": "张小三", "phone": "13800008000", "birth_year": 1990},
        "vaccine": {"product": "Flu4", "dose": 1}},
    "central_api.put_vaccine": {
        "name": "测试疫苗", "name_en": "Test", "maker": "某厂", "doses": 2,
        "interval_days": 90, "trace_prefix": "8699001", "observation_minutes": 30,
        "lots": [{"lot": "L1", "expires": "2027-03-31",
                  "serials": ["0000000000000", "0000000009999"]}]},
    "central_api.rotate_key": {"kid": "kf"},
    "central_sync.post_events": {"events": [make_event(1), make_event(2)]},
    "central_sync.post_heartbeat": {
        "at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "services": [{"service": "V", "name": "接种", "waiting": 3,
                      "estimated_wait_minutes": 12}]},
}
READS_A_BODY = set(SEEDS)


def platform(path: Path) -> Flask:
    return create_app({"DATABASE_URL": f"sqlite:///{path}", "DEMO": True})


def json_routes(app: Flask) -> list[tuple[str, str, str, dict[str, str]]]:
    """(method, path, endpoint, headers) of every unsafe route that reads a JSON body: the
    one a deep body gets `body_invalid` from, sent by whichever caller it lets in."""
    client = app.test_client()
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"GET", "HEAD", "OPTIONS"}):
            path = rule.build(PATH_VALUES, append_unknown=False)[1]  # type: ignore[index]
            for headers in (ADMIN, STATION):
                r = client.open(path, method=method, data=DEEP, headers=headers,
                                content_type=JSON)
                if r.is_json and r.get_json().get("error", {}).get("code") == "body_invalid":
                    found.append((method, path, rule.endpoint, headers))
                    break
    return found


def fuzz_platform(database: Path) -> dict[str, Any]:
    app = platform(database)
    call = WsgiCaller(app.wsgi_app)
    statuses: dict[str, Counter[int]] = {}
    failures = []
    for method, path, endpoint, headers in json_routes(app):
        base = call.environ(method, path, headers)
        seed = SEEDS.get(endpoint, {})
        status, answer = call(base, json.dumps(seed).encode(), JSON)
        assert status < 400, (endpoint, status, answer)  # the seed is a valid body
        rng = random.Random(zlib.crc32(endpoint.encode()))
        seen: Counter[int] = Counter()
        for (body, content_type), _ in zip(Bodies(seed, rng), range(PER_ENDPOINT),
                                           strict=False):
            status, answer = call(base, body, content_type)
            seen[status] += 1
            if status >= 500 and len(failures) < 10:
                failures.append((endpoint, status, body[:300], answer[:300]))
        statuses[endpoint] = seen
    return {"statuses": statuses, "failures": failures,
            "errors": [r.getMessage()[:300] for r in call.errors[:10]]}


@pytest.mark.slow
def test_fuzz_of_malformed_bodies_gets_no_5xx(tmp_path: Path) -> None:
    result = fuzz_platform(tmp_path / "central.sqlite3")
    statuses = result["statuses"]
    assert set(statuses) >= READS_A_BODY
    assert all(sum(seen.values()) == PER_ENDPOINT for seen in statuses.values())
    assert result["failures"] == []
    assert result["errors"] == []
    for endpoint, seen in statuses.items():
        assert seen[400] + seen[413] > PER_ENDPOINT / 2, (endpoint, seen)


@pytest.fixture
def client(tmp_path: Path) -> FlaskClient:
    return platform(tmp_path / "central.sqlite3").test_client()


@pytest.mark.parametrize("body, content_type, reason", [
    (DEEP, JSON, "nested deeper than 32"),
    (b'{"kid": "\xff"}', JSON, "not UTF-8"),
    (b"{not json", JSON, "not JSON"),
    (b'{"kid": NaN}', JSON, "NaN is not JSON"),
    (b'{"kid": 1e999}', JSON, "a number out of range"),
    (b'{"kid": "a", "kid": "b"}', JSON, "a key given twice"),
    (b'["k2"]', JSON, "a JSON list, not an object"),
    (b'{"kid": "k2"}', "text/plain", "content type text/plain"),
])
def test_an_unreadable_body_is_400_body_invalid_and_one_log_line(
        client: FlaskClient, caplog: pytest.LogCaptureFixture, body: bytes, content_type: str,
        reason: str) -> None:
    caplog.set_level(logging.INFO)
    r = client.post("/api/v1/keys/rotate", data=body, content_type=content_type, headers=ADMIN)
    assert r.status_code == 400
    error = r.get_json()["error"]
    assert error["code"] == "body_invalid" and error["message"] and error["message_zh"]
    [line] = [rec.getMessage() for rec in caplog.records]
    assert line.startswith(f"body refused on POST /api/v1/keys/rotate: {reason}"), line


def test_a_deep_heartbeat_is_400_not_500(client: FlaskClient) -> None:
    r = client.post("/api/v1/stations/demo-station/heartbeat", data=DEEP, content_type=JSON,
                    headers=STATION)
    assert (r.status_code, r.get_json()["error"]["code"]) == (400, "body_invalid")


def test_a_body_past_the_limit_is_413_in_the_error_shape(client: FlaskClient) -> None:
    big = b'{"kid": "' + b"x" * (17 * 1024 * 1024) + b'"}'
    r = client.post("/api/v1/keys/rotate", data=big, content_type=JSON, headers=ADMIN)
    assert r.status_code == 413
    error = r.get_json()["error"]
    assert error["code"] == "body_too_large" and error["message"] and error["message_zh"]


def test_honest_bodies_still_pass(client: FlaskClient) -> None:
    beat = {"at": datetime.now().astimezone().isoformat(timespec="seconds"), "services": []}
    r = client.post("/api/v1/stations/demo-station/heartbeat", json=beat, headers=STATION)
    assert r.status_code == 200, r.get_json()
