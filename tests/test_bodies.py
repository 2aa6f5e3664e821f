"""The station reads every JSON body within limits (server/web/bodies.py, contracts/jsonbody.py):
a body nested a thousand deep, not UTF-8, not JSON, NaN, a key twice is a 400 `body_invalid`
and one log line; a body past the size limit a 413 `too_large`; and a fuzz of 5,000 malformed
bodies per JSON endpoint (every unsafe route with a declared body, from the app's url_map,
each sent by a caller allowed to use it) gets no answer of 500 or more."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import random
import zlib
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from bodyfuzz import JSON, Bodies, WsgiCaller
from flask import Flask
from flask.testing import FlaskClient
from support import TZ, FakeClock, StationProcess, login, station_settings

from contracts import jsonbody
from server.auth import PERMISSIONS
from server.store import Store
from server.web import create_app
from server.web.declare import view_doc
from server.web.security import COOKIE

PER_ENDPOINT = int(os.environ.get("FUZZ_PER_ENDPOINT", "5000"))
DEEP = b"[" * 1000 + b"]" * 1000  # 2 kB, the body
KIOSK = {"Authorization": "Bearer demo-kiosk-token"}

# a valid body per endpoint, mutated by the fuzz (an endpoint missing here is fuzzed from {})
SEEDS: dict[str, dict[str, Any]] = {
    "api.login": {"username": "demo-nurse", "password": "not-the-password"},
    "api.check_in": {"code": "DEMO-V001"},
    "api.walk_in": {"service": "A", "priority": False},
    "api.ticket_action": {"counter": "A1", "service": "B"},
    "admin_api.staff_add": {"username": "fuzz", "display_name": "模糊", "role": "nurse",
                            "password": "fuzz-password-1"},
    "admin_api.staff_password": {"password": "fuzz-password-1"},
    "bookings_api.check_in_family": {"codes": ["DEMO-V001", "DEMO-V002"]},
    "devices.report_health": {"version": "1.0", "scanner": {"state": "ok"},
                              "printer": {"state": "ready"}, "held_scans": 0},
    "devices.kiosk_notice": {"code": "print_failed", "ticket_id": "20261127-A001"},
    "devices.reprint": {"kiosk": "kiosk-1"},
    "vaccination_api.screening": {"answers": {"fever": False, "allergy": True}},
    "vaccination_api.clear": {"reason": "ok"},
    "vaccination_api.defer": {"reason": "fever"},
    "vaccination_api.leave_early": {"reason": "in a hurry"},
    "vaccination_api.vaccinate": {"trace_code": "8" * 20, "site": "left_deltoid",
                                  "route": "intramuscular", "dose": 1},
    "vaccination_api.reaction": {"symptoms": ["rash"], "severity": "mild", "note": ""},
    "room.notice_post": {"text": "通知", "text_en": "notice", "minutes": 5},
    "room.display_health": {"version": "1.0", "sound": "on", "played": 1},
    "layout.service_put": {"code": "Z", "name": "测试", "walkins": True},
    "layout.counter_put": {"id": "Z1", "name": "测试台", "services": ["A"]},
    "pairing.start": {"kind": "kiosk"},
    "pairing.approve": {"code": "ABCD-EFGH", "name": "自助机", "kind": "kiosk"},
    "pairing.rename": {"name": "大厅"},
}
# a well-formed body of these costs a password hash (a tenth of a second): they get only the
# bodies their model refuses (the well-formed ones are test_auth's and test_admin_staff's)
HASHING = {"api.login", "admin_api.staff_add", "admin_api.staff_password"}
PATH_VALUES = {"counter": "A1", "ticket_id": "20261127-A001", "action": "recall",
               "username": "fuzz-nobody", "code": "Z", "counter_id": "Z1",
               "device_id": "no-such-device", "notice_id": "1"}
# who sends: the first role holding the route's permission (device tokens are the cheaper)
CALLERS = ("kiosk", "display", "admin", "doctor", "nurse")
TOKENS = {"kiosk": "demo-kiosk-token", "display": "demo-display-token"}
REFUSED_CALLER = {"unauthorized", "forbidden", "csrf_failed"}


def body_routes(app: Flask) -> list[tuple[str, str, str, Any]]:
    """(method, path, endpoint, model) of every unsafe route declaring a JSON body."""
    found = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        body = view_doc(view).get("body")
        for method in sorted((rule.methods or set()) - {"GET", "HEAD", "OPTIONS"}):
            if body is not None:
                path = rule.build(PATH_VALUES, append_unknown=False)[1]  # type: ignore[index]
                found.append((method, path, rule.endpoint, body[0]))
    return found


def caller(app: Flask, endpoint: str) -> str | None:
    permission = getattr(app.view_functions[endpoint], "permission", None)
    if permission is None:
        return None
    return next(role for role in CALLERS if role in PERMISSIONS[permission])


def fuzz_app() -> Flask:
    clock = FakeClock(datetime(2026, 11, 27, 9, 0, tzinfo=TZ))
    return create_app(station_settings(database=":memory:", demo=True), store=Store(":memory:"),
                      clock=clock, testing=True)


def fuzz_routes(endpoints: list[str]) -> dict[str, Any]:
    """In a worker process: PER_ENDPOINT bodies to each of `endpoints` on a fresh demo station;
    the answers counted by status, the first few of 500 or more kept, ERROR log lines too."""
    app = fuzz_app()
    sessions: dict[str, dict[str, str]] = {}
    for role in ("admin", "doctor", "nurse"):
        client = app.test_client()
        sessions[role] = {**login(client, f"demo-{role}"),
                          "Cookie": f"{COOKIE}={client.get_cookie(COOKIE).value}"}  # type: ignore[union-attr]
    call = WsgiCaller(app.wsgi_app)
    routes = {r[2]: r for r in body_routes(app)}
    statuses: dict[str, Counter[int]] = {}
    failures: list[tuple[str, int, bytes, bytes]] = []
    for endpoint in endpoints:
        method, path, _, model = routes[endpoint]
        role = caller(app, endpoint)
        headers = ({"Authorization": f"Bearer {TOKENS[role]}"} if role in TOKENS
                   else sessions[role] if role is not None else {})
        base = call.environ(method, path, headers)
        status, answer = call(base, json.dumps(SEEDS.get(endpoint, {})).encode(), JSON)
        # the caller may: the body gets read
        assert json.loads(answer).get("error", {}).get("code") not in REFUSED_CALLER, (
            endpoint, role, status, answer)
        keep = None
        if endpoint in HASHING:
            keep = lambda body, m=model: not well_formed(m, body)  # noqa: E731
        rng = random.Random(zlib.crc32(endpoint.encode()))
        seen: Counter[int] = Counter()
        for (body, content_type), _ in zip(Bodies(SEEDS.get(endpoint, {}), rng, keep),
                                           range(PER_ENDPOINT), strict=False):
            status, answer = call(base, body, content_type)
            seen[status] += 1
            if status >= 500 and len(failures) < 10:
                failures.append((endpoint, status, body[:300], answer[:300]))
        statuses[endpoint] = seen
    return {"statuses": statuses, "failures": failures,
            "errors": [r.getMessage()[:300] for r in call.errors[:10]]}


def well_formed(model: Any, body: bytes) -> bool:
    try:
        model.model_validate(jsonbody.loads(body))
    except Exception:
        return False
    return True


@pytest.mark.slow
def test_fuzz_of_malformed_bodies_gets_no_5xx() -> None:
    endpoints = [r[2] for r in body_routes(fuzz_app())]
    assert len(endpoints) >= 20 and "api.login" in endpoints
    # two processes, one station each, on this machine's two cores
    halves = [endpoints[0::2], endpoints[1::2]]
    with multiprocessing.get_context("fork").Pool(2) as pool:
        results = pool.map(fuzz_routes, halves)
    statuses = {k: v for r in results for k, v in r["statuses"].items()}
    assert sorted(statuses) == sorted(endpoints)
    assert all(sum(seen.values()) == PER_ENDPOINT for seen in statuses.values())
    assert [f for r in results for f in r["failures"]] == []
    assert [e for r in results for e in r["errors"]] == []
    # the bodies were read, not refused before: most are the body's own refusals
    for endpoint, seen in statuses.items():
        assert seen[400] + seen[413] > PER_ENDPOINT / 2, (endpoint, seen)


# --- one case of each ------------------------------------------------------------------------

CASES = [
    (DEEP, "application/json", "nested deeper than 32"),
    (b'{"code": ' + b"[" * 40 + b"]" * 40 + b"}", "application/json", "nested deeper than 32"),
    (b'{"code": "\xff"}', "application/json", "not UTF-8"),
    (b"{not json", "application/json", "not JSON"),
    (b'{"code": NaN}', "application/json", "NaN is not JSON"),
    (b'{"code": Infinity}', "application/json", "Infinity is not JSON"),
    (b'{"code": 1e999}', "application/json", "a number out of range"),
    (b'{"code": ' + b"9" * 5000 + b"}", "application/json", "a number too long"),
    (b'{"code": "a", "code": "b"}', "application/json", "a key given twice"),
    (b'{"code": "\\ud800"}', "application/json", "a lone surrogate"),
    (b'["DEMO-V001"]', "application/json", "a JSON list, not an object"),
    (b'"DEMO-V001"', "application/json", "a JSON str, not an object"),
    (b'{"code": "DEMO-V001"}', "text/plain", "content type text/plain"),
    (b"", "application/json", "no body"),
]


@pytest.mark.parametrize("body, content_type, reason", CASES)
def test_an_unreadable_body_is_400_body_invalid_and_one_log_line(
        client: FlaskClient, caplog: pytest.LogCaptureFixture, body: bytes, content_type: str,
        reason: str) -> None:
    caplog.set_level(logging.INFO)
    r = client.post("/api/v1/checkins", data=body, content_type=content_type, headers=KIOSK)
    assert r.status_code == 400
    error = r.get_json()["error"]
    assert error["code"] == "body_invalid" and error["message"] and error["message_zh"]
    [line] = [rec.getMessage() for rec in caplog.records]
    assert line.startswith(f"body refused on POST /api/v1/checkins: {reason}"), line
    assert not any(rec.exc_info for rec in caplog.records)


def test_a_deep_login_is_400_without_a_session(client: FlaskClient) -> None:
    r = client.post("/api/v1/login", data=DEEP, content_type="application/json")
    assert (r.status_code, r.get_json()["error"]["code"]) == (400, "body_invalid")


def test_a_body_past_the_limit_is_413_json(client: FlaskClient,
                                           caplog: pytest.LogCaptureFixture) -> None:
    body = json.dumps({"code": "x" * 70_000}).encode()
    r = client.post("/api/v1/checkins", data=body, content_type="application/json",
                    headers=KIOSK)
    assert r.status_code == 413 and r.is_json
    error = r.get_json()["error"]
    assert error["code"] == "too_large" and error["message"] and error["message_zh"]
    assert [rec.getMessage() for rec in caplog.records] == [
        "body refused on POST /api/v1/checkins: over 65536 bytes"]


def test_the_limits_leave_honest_bodies_alone(client: FlaskClient) -> None:
    r = client.post("/api/v1/checkins", json={"code": "DEMO-V001"}, headers=KIOSK)
    assert r.status_code in (200, 201), r.get_json()
    r = client.post("/api/v1/login", data='{"username": "demo-nurse", "password": "demo-nurse"}',
                    content_type="application/json; charset=utf-8")
    assert r.status_code == 200


def test_the_live_server_answers_a_deep_login_400_with_one_log_line(tmp_path: Path) -> None:
    """Over real HTTP, the production server (gunicorn): the issue's 2 kB body."""
    log = tmp_path / "station.log"
    station = StationProcess(tmp_path / "station.db", log=log)
    try:
        before = log.read_text(encoding="utf-8").splitlines()
        r = requests.post(f"{station.url}/api/v1/login", data=DEEP, timeout=10,
                          headers={"Content-Type": "application/json"})
        assert (r.status_code, r.json()["error"]["code"]) == (400, "body_invalid")
        assert requests.get(f"{station.url}/healthz", timeout=10).status_code == 200
    finally:
        station.stop()
    new = log.read_text(encoding="utf-8").splitlines()[len(before):]
    refusals = [line for line in new if "/api/v1/login" in line or "Traceback" in line
                or "RecursionError" in line or "ERROR" in line]
    assert len(refusals) == 1 and "body refused on POST /api/v1/login: nested deeper" in \
        refusals[0], new



@pytest.mark.parametrize("payload", [
    '42["resync",' + "[" * 1000 + "]" * 1000 + "]",  # python-socketio decodes it itself
    '42["resync",{"a":NaN,"a":1}]',
    "40" + "{" * 3000,
])
def test_a_deep_socketio_payload_is_one_log_line_and_the_socket_lives_on(
        live_server: Any, caplog: pytest.LogCaptureFixture, payload: str) -> None:
    caplog.set_level(logging.INFO)
    polling = f"{live_server.url}/socket.io/?EIO=4&transport=polling"
    with requests.Session() as http:
        sid = json.loads(http.get(polling, timeout=5).text[1:])["sid"]
        url = f"{polling}&sid={sid}"
        assert http.post(url, data="40" + json.dumps({"token": "demo-display-token"}),
                         timeout=5).text == "OK"
        assert '42["state"' in http.get(url, timeout=5).text  # connected: its snapshot
        caplog.clear()
        assert http.post(url, data=payload, timeout=5).text == "OK"
        assert http.post(url, data="3", timeout=5).text == "OK"  # the session still open
    lines = [(rec.levelno, rec.getMessage()) for rec in caplog.records
             if rec.name != "werkzeug"]
    assert lines[0][0] == logging.WARNING and lines[0][1].startswith("socket payload refused")
    assert len(lines) == 1, lines
    assert not any(rec.exc_info for rec in caplog.records)
