"""Tests for station identity (issued and revoked tokens, central/stations.py), heartbeats and
the nearby stations, their API and page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from central.demo import DEMO_NEIGHBOURS, seed_demo
from central.store import Store

ADMIN = {"Authorization": "Bearer demo-central-admin-token"}
STATION = {"Authorization": "Bearer demo-station-token"}
BEAT = {"at": "2026-12-02T09:15:02+08:00", "services": [
    {"service": "V", "name": "接种", "waiting": 7, "estimated_wait_minutes": 21.5},
    {"service": "A", "name": "门诊", "waiting": 0, "estimated_wait_minutes": None}]}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_issue_use_and_revoke_a_token(client: FlaskClient, event: Any) -> None:
    issued = client.post("/api/v1/stations/demo-station/tokens", headers=ADMIN)
    assert issued.status_code == 201
    token, token_id = issued.json["token"], issued.json["token_id"]
    feed = "/api/v1/stations/demo-station/bookings"
    assert client.get(feed, headers=bearer(token)).status_code == 200
    listed = client.get("/api/v1/stations/demo-station/tokens", headers=ADMIN).json["tokens"]
    assert {t["token_id"] for t in listed} == {"initial", token_id}
    assert all("token" not in t for t in listed)  # shown once, at issue
    revoked = client.delete(f"/api/v1/stations/demo-station/tokens/{token_id}", headers=ADMIN)
    assert revoked.status_code == 200 and revoked.json["revoked_at"]
    again = client.delete(f"/api/v1/stations/demo-station/tokens/{token_id}", headers=ADMIN)
    assert again.json == revoked.json
    for method, url, body in (("get", feed, None),
                              ("post", "/api/v1/stations/demo-station/events",
                               {"events": [event(1)]}),
                              ("post", "/api/v1/stations/demo-station/heartbeat", BEAT)):
        response = getattr(client, method)(url, json=body, headers=bearer(token))
        assert (response.status_code, response.json["error"]["code"]) == (401, "token_revoked")
    assert client.get(feed, headers=STATION).status_code == 200  # the demo token still works


def test_tokens_are_for_admins(client: FlaskClient) -> None:
    url = "/api/v1/stations/demo-station/tokens"
    assert client.post(url, headers=STATION).json["error"]["code"] == "auth_forbidden"
    assert client.post(url).status_code == 401
    response = client.post("/api/v1/stations/nowhere/tokens", headers=ADMIN)
    assert (response.status_code, response.json["error"]["code"]) == (404, "station_unknown")
    response = client.delete(f"{url}/tk000", headers=ADMIN)
    assert (response.status_code, response.json["error"]["code"]) == (404, "token_not_found")


def test_another_stations_token_is_refused_everywhere(client: FlaskClient, store: Store,
                                                      clock: Any) -> None:
    store.add_station("east", "东区站", "east-token", {"A": ("门诊", "clinic")}, int(clock()))
    for method, path in (("get", "bookings"), ("post", "events"), ("post", "heartbeat"),
                         ("get", "reconciliation?day=2026-12-02")):
        response = getattr(client, method)(f"/api/v1/stations/demo-station/{path}",
                                           json={"events": []}, headers=bearer("east-token"))
        assert (response.status_code, response.json["error"]["code"]) == (
            403, "station_mismatch"), path


@pytest.fixture
def neighbours(store: Store, clock: Any) -> Store:
    seed_demo(store, int(clock()), bookings=0)
    return store


def nearby(client: FlaskClient, query: str = "lat=30.2741&lon=120.1551") -> list[Any]:
    response = client.get(f"/api/v1/stations/nearby?{query}")
    assert response.status_code == 200, response.json
    return response.json["stations"]


def test_nearby_nearest_first_with_live_waits(client: FlaskClient, neighbours: Store,
                                              clock: Any) -> None:
    stations = nearby(client)
    assert [s["id"] for s in stations][:2] == ["demo-station", "hz-wulin"]
    assert len(stations) == 1 + len(DEMO_NEIGHBOURS)
    distances = [s["distance_km"] for s in stations]
    assert distances == sorted(distances) and distances[0] == 0
    assert 0.5 < stations[1]["distance_km"] < 1.5
    assert all(s["live"] is False and s["age_seconds"] is None for s in stations)
    response = client.post("/api/v1/stations/demo-station/heartbeat", json=BEAT,
                           headers=STATION)
    assert response.json == {"ok": True}
    clock.now += 42
    here = nearby(client, "lat=30.2741&lon=120.1551&limit=2")
    assert len(here) == 2
    assert {k: here[0][k] for k in ("live", "age_seconds", "updated_at", "services")} == {
        "live": True, "age_seconds": 42, "updated_at": BEAT["at"], "services": BEAT["services"]}
    page = client.get("/stations/nearby?lat=30.2741&lon=120.1551").get_data(as_text=True)
    assert "约 22 分钟" in page and "暂无实时数据" in page and "no live data" in page
    clock.now += 300  # silent for more than 5 minutes
    assert nearby(client)[0]["live"] is False and nearby(client)[0]["services"] == []
    page = client.get("/stations/nearby?lat=30.2741&lon=120.1551").get_data(as_text=True)
    assert "约 22 分钟" not in page


@pytest.mark.parametrize("query, field", [
    ("lon=120", "lat"), ("lat=30", "lon"), ("lat=91&lon=0", "lat"), ("lat=x&lon=0", "lat"),
    ("lat=nan&lon=0", "lat"), ("lat=0&lon=inf", "lon"), ("lat=0&lon=-181", "lon"),
    ("lat=0&lon=0&limit=0", "limit"), ("lat=0&lon=0&limit=x", "limit"),
    ("lat=0&lon=0&limit=51", "limit"),
])
def test_bad_nearby_queries(client: FlaskClient, query: str, field: str) -> None:
    response = client.get(f"/api/v1/stations/nearby?{query}")
    assert response.status_code == 400 and field in response.json["error"]["message"]
    assert client.get(f"/stations/nearby?{query}").status_code == 400


@pytest.mark.parametrize("body", [
    None, [], {}, {"at": "now", "services": []}, {"at": "2026-12-02T09:00:00", "services": []},
    {"at": BEAT["at"]}, {"at": BEAT["at"], "services": [1]},
    {"at": BEAT["at"], "services": [{"service": "V", "waiting": -1}]},
    {"at": BEAT["at"], "services": [{"service": "V", "waiting": "3"}]},
    {"at": BEAT["at"], "services": [{"service": "V", "waiting": 1,
                                     "estimated_wait_minutes": "soon"}]},
    {"at": BEAT["at"], "services": [{"waiting": 1}]},
    {"at": BEAT["at"], "services": [{"service": "V", "waiting": 1}] * 51},
])
def test_bad_heartbeats(client: FlaskClient, body: Any) -> None:
    response = client.post("/api/v1/stations/demo-station/heartbeat", json=body,
                           headers=STATION)
    assert response.status_code == 400 and response.json["error"]["message_zh"]


def test_odd_text_in_a_heartbeat_is_kept_safely(client: FlaskClient, neighbours: Store) -> None:
    beat = {"at": datetime.now().astimezone().isoformat(timespec="seconds"),
            "services": [{"service": "V", "name": "接\x00种\ud800", "waiting": 1}]}
    response = client.post("/api/v1/stations/demo-station/heartbeat", json=beat,
                           headers=STATION)
    assert response.status_code == 200
    assert nearby(client)[0]["services"][0]["name"] == "接\x00种\ud800"


def test_a_heartbeat_replaces_the_last(client: FlaskClient, neighbours: Store,
                                       clock: Any) -> None:
    for waiting in (3, 9):
        beat = {"at": datetime.now().astimezone().isoformat(timespec="seconds"),
                "services": [{"service": "V", "name": "接种", "waiting": waiting,
                              "estimated_wait_minutes": 5}]}
        client.post("/api/v1/stations/demo-station/heartbeat", json=beat, headers=STATION)
    assert nearby(client)[0]["services"][0]["waiting"] == 9


def test_the_station_directory_is_public_ids_and_names(client: FlaskClient, store: Store,
                                                       clock: Any) -> None:
    store.add_station("east", "东区站", "east-token", {"A": ("门诊", "clinic")}, int(clock()))
    response = client.get("/api/v1/stations")
    assert response.status_code == 200
    stations = response.json["stations"]
    assert stations == sorted(stations, key=lambda s: s["id"])
    assert {s["id"]: s["name"] for s in stations} == {
        "demo-station": "幸福社区卫生服务站", "east": "东区站",
        **{station_id: name for station_id, name, _, _ in DEMO_NEIGHBOURS}}
    assert all(set(s) == {"id", "name"} for s in stations)  # no tokens, no places
