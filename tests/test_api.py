"""The public API v1 through the real app: happy paths and bad input, never a 5xx."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from flask.testing import FlaskClient
from support import DISPLAY, KIOSK, login


def error(r) -> dict:
    body = r.get_json()
    assert set(body) == {"error"}, body
    e = body["error"]
    assert e["code"] and e["message"] and e["message_zh"], e
    assert e["message"] != e["message_zh"]
    return e


def walk_in(client: FlaskClient, service: str = "V") -> dict:
    r = client.post("/api/v1/tickets", json={"service": service}, headers=KIOSK)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_healthz(client: FlaskClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.get_json()["status"] == "ok" and r.get_json()["store"]["ok"] is True


def test_walk_in_ticket_has_the_documented_fields(client: FlaskClient) -> None:
    t = walk_in(client)
    assert {"id", "number", "service", "status", "position", "eta_minutes", "counter",
            "booking_id", "issued_at", "called_at"} <= set(t)
    assert (t["number"], t["status"], t["position"], t["counter"]) == ("V001", "waiting", 1, None)
    assert walk_in(client)["position"] == 2


def test_check_in_twice_gives_the_same_ticket(client: FlaskClient) -> None:
    first = client.post("/api/v1/checkins", json={"code": "DEMO-V001"}, headers=KIOSK)
    assert first.status_code == 201
    again = client.post("/api/v1/checkins", json={"code": " DEMO-V001\n"}, headers=KIOSK)
    assert again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    assert first.get_json()["booking_id"] and first.get_json()["name_masked"]


def test_full_visit_call_start_complete(client: FlaskClient, nurse: dict) -> None:
    t = walk_in(client, "A")  # a doctor visit: one stage
    r = client.post("/api/v1/counters/A1/call-next", headers=nurse)
    assert r.status_code == 200 and r.get_json()["id"] == t["id"]
    assert r.get_json()["status"] == "called" and r.get_json()["counter"] == "A1"
    assert r.get_json()["stage"] is None
    for action, status in [("recall", "called"), ("start", "serving"), ("complete", "done")]:
        r = client.post(f"/api/v1/tickets/{t['id']}/{action}", headers=nurse)
        assert r.status_code == 200, r.get_json()
        assert r.get_json()["status"] == status
    r = client.get(f"/api/v1/tickets/{t['id']}", headers=KIOSK)
    assert r.get_json()["status"] == "done"


def test_transfer_and_undo(client: FlaskClient, nurse: dict) -> None:
    t = walk_in(client)
    client.post("/api/v1/counters/V1/call-next", headers=nurse)
    client.post(f"/api/v1/tickets/{t['id']}/start", headers=nurse)
    r = client.post(f"/api/v1/tickets/{t['id']}/transfer", json={"service": "A"}, headers=nurse)
    assert r.status_code == 200 and r.get_json()["status"] == "transferred"
    moved = client.get(f"/api/v1/tickets/{r.get_json()['transferred_to']}", headers=KIOSK)
    assert moved.get_json()["number"] == "V001" and moved.get_json()["service"] == "A"
    r = client.post("/api/v1/counters/V1/undo", headers=nurse)
    assert r.status_code == 200
    assert {x["status"] for x in r.get_json()["tickets"]} == {"cancelled", "serving"}


def test_state_snapshot(client: FlaskClient, nurse: dict) -> None:
    walk_in(client)
    walk_in(client, "A")
    client.post("/api/v1/counters/V1/call-next", headers=nurse)
    s = client.get("/api/v1/state").get_json()
    assert s["seq"] == 3 and s["station"]["id"] == "demo-station"
    counters = {c["id"]: c for c in s["counters"]}
    assert counters["V1"]["ticket"]["number"] == "V001"
    services = {x["code"]: x for x in s["services"]}
    assert services["A"]["waiting"] == 1 and services["A"]["tickets"][0]["number"] == "A001"
    assert s["recent_calls"][0]["number"] == "V001"


BAD = [
    # (method, path, json or raw body, headers key, status, code)
    ("post", "/api/v1/tickets", {"service": "Z"}, "kiosk", 404, "service_unknown"),
    ("post", "/api/v1/tickets", {"service": "B"}, "kiosk", 409, "walkins_closed"),
    ("post", "/api/v1/tickets", {}, "kiosk", 400, "field_missing"),
    ("post", "/api/v1/tickets", {"service": 7}, "kiosk", 400, "field_invalid"),
    ("post", "/api/v1/tickets", {"service": "V", "priority": "yes"}, "kiosk", 400, "field_invalid"),
    ("post", "/api/v1/tickets", b"{not json", "kiosk", 400, "body_invalid"),
    ("post", "/api/v1/tickets", b"[1, 2]", "kiosk", 400, "body_invalid"),
    ("post", "/api/v1/tickets", b"", "kiosk", 400, "body_invalid"),
    ("post", "/api/v1/checkins", {"code": "NOPE"}, "kiosk", 404, "booking_unknown"),
    ("post", "/api/v1/checkins", {"code": "   "}, "kiosk", 400, "token_empty"),
    ("post", "/api/v1/checkins", {"code": "x" * 2000}, "kiosk", 413, "token_too_large"),
    ("post", "/api/v1/checkins", {"code": "DEMO-B039"}, "kiosk", 422, "booking_cancelled"),
    ("post", "/api/v1/checkins", {"code": "DEMO-V031"}, "kiosk", 422, "booking_too_early"),
    ("post", "/api/v1/checkins", {"kode": "DEMO-V001"}, "kiosk", 400, "field_missing"),
    ("post", "/api/v1/counters/ZZ/call-next", None, "nurse", 404, "counter_unknown"),
    ("post", "/api/v1/counters/V1/call-next", None, "nurse", 409, "queue_empty"),
    ("post", "/api/v1/counters/V1/undo", None, "nurse", 409, "nothing_to_undo"),
    ("post", "/api/v1/tickets/nope/start", None, "nurse", 404, "ticket_not_found"),
    ("get", "/api/v1/tickets/nope", None, "kiosk", 404, "ticket_not_found"),
    ("get", "/api/v1/nothing-here", None, "kiosk", 404, "not_found"),
    ("delete", "/api/v1/state", None, "kiosk", 405, "method_not_allowed"),
]


@pytest.mark.parametrize("method,path,payload,who,status,code", BAD)
def test_bad_input_gets_a_coded_4xx(client: FlaskClient, nurse: dict, method: str, path: str,
                                    payload, who: str, status: int, code: str) -> None:
    headers = KIOSK if who == "kiosk" else nurse
    kw = {"data": payload, "content_type": "application/json"} if isinstance(payload, bytes) \
        else {"json": payload}
    r = getattr(client, method)(path, headers=headers, **kw)
    assert r.status_code == status, r.get_json()
    assert error(r)["code"] == code


def test_forbidden_transition_names_the_ticket_and_state(client: FlaskClient, nurse: dict) -> None:
    t = walk_in(client)
    r = client.post(f"/api/v1/tickets/{t['id']}/complete", json={"counter": "V1"}, headers=nurse)
    assert r.status_code == 409
    e = error(r)
    assert e["code"] == "transition_forbidden"
    assert "V001" in e["message"] and "waiting" in e["message"] and "等候中" in e["message_zh"]
    assert client.get(f"/api/v1/tickets/{t['id']}", headers=KIOSK).get_json()["status"] == \
        "waiting"


def test_unknown_action(client: FlaskClient, nurse: dict) -> None:
    t = walk_in(client)
    r = client.post(f"/api/v1/tickets/{t['id']}/explode", headers=nurse)
    assert r.status_code == 404 and error(r)["code"] == "action_unknown"


def test_counter_busy_then_no_show_frees_it(client: FlaskClient, nurse: dict) -> None:
    first = walk_in(client)
    walk_in(client)
    client.post("/api/v1/counters/V1/call-next", headers=nurse)
    r = client.post("/api/v1/counters/V1/call-next", headers=nurse)
    assert r.status_code == 409 and error(r)["code"] == "counter_busy"
    client.post(f"/api/v1/tickets/{first['id']}/no-show", headers=nurse)
    assert client.post("/api/v1/counters/V1/call-next", headers=nurse).get_json()["number"] == \
        "V002"


def test_concurrent_call_next_never_gives_one_ticket_twice(real_clock_app) -> None:
    """Two consoles (threads, real HTTP) press Call next at the same instant, many times."""
    from support import LiveServer

    server = LiveServer(real_clock_app)
    try:
        base = server.url
        sessions = []
        for _ in range(2):
            s = requests.Session()
            r = s.post(f"{base}/api/v1/login",
                       json={"username": "demo-nurse", "password": "demo-nurse"})
            s.headers["X-CSRF-Token"] = r.json()["csrf_token"]
            sessions.append(s)
        for _ in range(20):
            requests.post(f"{base}/api/v1/tickets", json={"service": "V"}, headers=KIOSK)
        got: list[tuple[str, str]] = []
        lock = threading.Lock()
        barrier = threading.Barrier(2)

        def console(session: requests.Session, counter: str) -> None:
            for _ in range(12):
                barrier.wait()
                r = session.post(f"{base}/api/v1/counters/{counter}/call-next")
                assert r.status_code in (200, 409), r.text
                if r.status_code == 200:
                    ticket = r.json()
                    with lock:  # a vaccination ticket is called once per stage
                        got.append((ticket["id"], ticket["stage"]))
                    r = session.post(f"{base}/api/v1/tickets/{ticket['id']}/start")
                    assert r.status_code == 200, r.text
                else:
                    assert r.json()["error"]["code"] == "queue_empty"

        with ThreadPoolExecutor(2) as pool:
            list(pool.map(console, sessions, ["V1", "V2"]))
        assert len(got) == len(set(got)) == 24
    finally:
        server.stop()


def test_login_refuses_wrong_password(client: FlaskClient) -> None:
    r = client.post("/api/v1/login", json={"username": "demo-nurse", "password": "nope"})
    assert r.status_code == 401 and error(r)["code"] == "login_failed"
    r = client.post("/api/v1/login", json={"username": "ghost", "password": "ghost"})
    assert r.status_code == 401


def test_admin_sees_devices(client: FlaskClient) -> None:
    headers = login(client, "demo-admin")
    r = client.get("/api/v1/devices", headers=headers)
    assert r.status_code == 200
    assert {d["id"] for d in r.get_json()["devices"]} == {"kiosk-1", "display-1"}


def test_two_kiosks_scanning_one_booking_at_once_make_one_ticket(app, live_server) -> None:
    """Both kiosks press Enter at the same instant: one 201, one 200, the same ticket."""
    app.extensions["clinicq"].accounts.pair_device("kiosk-2", "kiosk", "second kiosk",
                                                   token="second-kiosk-token")
    kiosks = [KIOSK, {"Authorization": "Bearer second-kiosk-token"}]
    barrier = threading.Barrier(2)
    outcomes = []
    for n in range(1, 41):
        code = f"DEMO-{'VAB'[(n - 1) % 3]}{n:03d}"
        answers: list = [None, None]

        def scan(i: int, code: str = code, answers: list = answers) -> None:
            barrier.wait()
            answers[i] = requests.post(f"{live_server.url}/api/v1/checkins", json={"code": code},
                                       headers=kiosks[i], timeout=10)

        threads = [threading.Thread(target=scan, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = sorted(a.status_code for a in answers)
        if statuses[0] >= 400:  # refused (too early, cancelled): refused to both, alike
            assert statuses[1] >= 400
            assert answers[0].json()["error"]["code"] == answers[1].json()["error"]["code"]
            continue
        assert statuses == [200, 201], (code, statuses)
        assert answers[0].json()["id"] == answers[1].json()["id"]
        outcomes.append(answers[0].json()["id"])
    # the display sees every waiting ticket (a kiosk only those it issued: test_views.py)
    state = requests.get(f"{live_server.url}/api/v1/state", headers=DISPLAY, timeout=5).json()
    waiting = [t["id"] for s in state["services"] for t in s["tickets"]]
    assert len(outcomes) >= 10 and sorted(waiting) == sorted(outcomes)


def test_a_no_show_is_listed_and_restored_with_its_number(client, nurse) -> None:
    t = client.post("/api/v1/tickets", json={"service": "V"}, headers=KIOSK).get_json()
    client.post("/api/v1/counters/V1/call-next", headers=nurse)
    client.post(f"/api/v1/tickets/{t['id']}/no-show", json={"counter": "V1"}, headers=nurse)
    missed = client.get("/api/v1/no-shows", headers=nurse).get_json()["tickets"]
    assert [m["number"] for m in missed] == [t["number"]]
    r = client.post(f"/api/v1/tickets/{t['id']}/restore", json={"counter": "V1"},
                    headers=nurse)
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["status"], r.get_json()["number"], r.get_json()["position"]) == (
        "waiting", t["number"], 1)
    assert client.get("/api/v1/no-shows", headers=nurse).get_json()["tickets"] == []
    again = client.post(f"/api/v1/tickets/{t['id']}/restore", json={"counter": "V1"},
                    headers=nurse)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "transition_forbidden"
