"""Tests for the booking endpoints of central/views.py and central/store.py."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from contracts.bookingcode import check_rules, keys_from_json, verify_token

ADMIN = {"Authorization": "Bearer demo-central-admin-token"}
STATION = {"Authorization": "Bearer demo-station-token"}


def create(client: FlaskClient, doc: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/bookings", json=doc, headers=ADMIN)
    assert response.status_code == 201, response.json
    return response.json


def test_create_read_verify_cancel_feed(client: FlaskClient, booking_request: Any) -> None:
    created = create(client, booking_request())
    assert created["status"] == "booked" and created["priority"] is True  # born 1945
    assert created["qr_url"].endswith(f"/api/v1/bookings/{created['id']}/qr.png")

    read = client.get(f"/api/v1/bookings/{created['id']}", headers=ADMIN).json
    assert read["token"] == created["token"] and read["resident"]["name"] == "张小三"

    keys = keys_from_json(client.get("/api/v1/keys").json)
    claims = verify_token(created["token"], keys)
    assert (claims.booking_id, claims.station_id, claims.service) == (created["id"],
                                                                     "demo-station", "V")
    assert (claims.slot_start, claims.slot_end, claims.masked_name) == (540, 570, "张*三")
    check_rules(claims, station_id="demo-station", today=date.today(),
                now=datetime.now().astimezone())

    cancelled = client.post(f"/api/v1/bookings/{created['id']}/cancel", headers=ADMIN)
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    again = client.post(f"/api/v1/bookings/{created['id']}/cancel", headers=ADMIN)
    assert again.json["cursor"] == cancelled.json["cursor"]  # no second feed entry

    feed = client.get("/api/v1/stations/demo-station/bookings", headers=STATION).json
    [entry] = feed["bookings"]
    assert entry["id"] == created["id"] and entry["status"] == "cancelled"
    assert entry["name_masked"] == "张*三" and entry["phone_last4"] == "8000"
    assert entry["vaccine"] == {"product": "Flu4", "name": "四价流感病毒裂解疫苗", "dose": 1}
    # of the resident the station gets only the birth year (the desk's age check), no full
    # name or phone
    assert entry["resident"] == {"birth_year": 1945}


def test_qr_images(client: FlaskClient, booking_request: Any) -> None:
    created = create(client, booking_request(service="A", vaccine=None))
    png = client.get(f"/api/v1/bookings/{created['id']}/qr.png")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    svg = client.get(f"/api/v1/bookings/{created['id']}/qr.svg")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    assert client.get("/api/v1/bookings/NOPE/qr.png").json["error"]["code"] == (
        "booking_not_found")


def test_day_page_lists_codes_and_escapes_names(client: FlaskClient,
                                                booking_request: Any) -> None:
    made = create(client, booking_request(resident={"name": "<b>x</b>", "phone": "13900001234"}))
    page = client.get(f"/stations/demo-station/bookings?day={date.today().isoformat()}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "幸福社区卫生服务站" in text
    assert "&lt;*&gt;" in text and "<b>" not in text
    assert text.count("<svg") == 1
    # the code's text, for a newcomer without a camera to paste into the kiosk page
    assert f'value="{made["token"]}"' in text


@pytest.mark.parametrize("method, url, headers, status, code", [
    ("post", "/api/v1/bookings", {}, 401, "auth_missing"),
    ("post", "/api/v1/bookings", {"Authorization": "Bearer wrong"}, 401, "auth_invalid"),
    ("post", "/api/v1/bookings", {"Authorization": "Basic abc"}, 401, "auth_missing"),
    ("post", "/api/v1/bookings", STATION, 403, "auth_forbidden"),
    ("get", "/api/v1/bookings/X", {}, 401, "auth_missing"),
    ("post", "/api/v1/bookings/X/cancel", {"Authorization": "Bearer wrong"}, 401,
     "auth_invalid"),
    ("get", "/api/v1/stations/demo-station/bookings", {}, 401, "auth_missing"),
    ("get", "/api/v1/stations/demo-station/bookings", {"Authorization": "Bearer x"}, 401,
     "auth_invalid"),
    ("post", "/api/v1/keys/rotate", STATION, 403, "auth_forbidden"),
])
def test_auth_refusals(client: FlaskClient, booking_request: Any, method: str, url: str,
                       headers: dict[str, str], status: int, code: str) -> None:
    response = getattr(client, method)(url, json=booking_request(), headers=headers)
    assert response.status_code == status
    assert response.json["error"]["code"] == code
    assert response.json["error"]["message"] and response.json["error"]["message_zh"]


def test_station_token_only_reads_its_own_feed(client: FlaskClient, store: Any,
                                               clock: Any) -> None:
    store.add_station("east", "东区站", "east-token", {"A": ("门诊", "clinic")}, int(clock()))
    response = client.get("/api/v1/stations/demo-station/bookings",
                          headers={"Authorization": "Bearer east-token"})
    assert response.status_code == 403 and response.json["error"]["code"] == "station_mismatch"


def _without(doc: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != key}


@pytest.mark.parametrize("change, status, code", [
    (lambda d: _without(d, "station"), 400, "field_missing"),
    (lambda d: _without(d, "day"), 400, "field_missing"),
    (lambda d: _without(d, "slot"), 400, "field_missing"),
    (lambda d: _without(d, "resident"), 400, "field_missing"),
    (lambda d: _without(d, "vaccine"), 400, "field_missing"),
    (lambda d: {**d, "day": "tomorrow"}, 400, "field_invalid"),
    (lambda d: {**d, "day": "2001-01-01"}, 400, "field_invalid"),
    (lambda d: {**d, "slot": "25:00"}, 400, "field_invalid"),
    (lambda d: {**d, "slot": "10:00-09:00"}, 400, "field_invalid"),
    (lambda d: {**d, "slot": 900}, 400, "field_invalid"),
    (lambda d: {**d, "station": 7}, 400, "field_invalid"),
    (lambda d: {**d, "station": "nowhere"}, 404, "station_unknown"),
    (lambda d: {**d, "service": "Z"}, 400, "service_unknown"),
    (lambda d: {**d, "vaccine": {"product": "XX", "dose": 1}}, 400, "vaccine_unknown"),
    (lambda d: {**d, "vaccine": {"product": "Flu4", "dose": 2}}, 400, "field_invalid"),
    (lambda d: {**d, "vaccine": {"product": "Flu4", "dose": "1"}}, 400, "field_invalid"),
    (lambda d: {**d, "service": "A"}, 400, "field_invalid"),
    (lambda d: {**d, "resident": {"name": "王五"}}, 400, "field_missing"),
    (lambda d: {**d, "resident": {"name": "王五", "phone": "call me"}}, 400, "field_invalid"),
    (lambda d: {**d, "resident": {"name": "王五", "phone": "13800000000",
                                  "birth_year": True}}, 400, "field_invalid"),
    (lambda d: [d], 400, "body_invalid"),
])
def test_bad_booking_requests(client: FlaskClient, booking_request: Any, change: Any,
                              status: int, code: str) -> None:
    response = client.post("/api/v1/bookings", json=change(booking_request()), headers=ADMIN)
    assert (response.status_code, response.json["error"]["code"]) == (status, code)


@pytest.mark.parametrize("body, content_type", [
    (b"{not json", "application/json"), (b"", "application/json"),
    (b"station=demo-station", "application/x-www-form-urlencoded"),
    (b"\xff\xfe", "application/json"),
])
def test_unparsable_bodies(client: FlaskClient, body: bytes, content_type: str) -> None:
    response = client.post("/api/v1/bookings", data=body, content_type=content_type,
                           headers=ADMIN)
    assert (response.status_code, response.json["error"]["code"]) == (400, "body_invalid")


def test_unknown_booking_and_route(client: FlaskClient) -> None:
    assert client.get("/api/v1/bookings/NOPE", headers=ADMIN).json["error"]["code"] == (
        "booking_not_found")
    assert client.post("/api/v1/bookings/NOPE/cancel", headers=ADMIN).status_code == 404
    response = client.get("/api/v1/nothing")
    assert (response.status_code, response.json["error"]["code"]) == (404, "not_found")
    response = client.delete("/api/v1/keys")
    assert (response.status_code, response.json["error"]["code"]) == (405, "method_not_allowed")


@pytest.mark.parametrize("name", ["\u200b", "\u200b\u200b\u200b", "\u202e\u202c", "\ufeff \u2060",
                                  "\u200d\ufe0f"])
def test_a_name_of_only_invisible_characters_is_refused(client: FlaskClient,
                                                        booking_request: Any, name: str) -> None:
    doc = booking_request(resident={"name": name, "phone": "13800138000"})
    r = client.post("/api/v1/bookings", json=doc, headers=ADMIN)
    assert r.status_code == 422, r.json
    error = r.json["error"]
    assert error["code"] == "name_invisible"
    assert "visible" in error["message"] and "可见" in error["message_zh"]
    feed = client.get("/api/v1/stations/demo-station/bookings", headers=STATION).json
    assert feed["bookings"] == []


def test_a_name_is_cleaned_where_it_enters(client: FlaskClient, booking_request: Any) -> None:
    doc = booking_request(resident={"name": "\u202eAnna\u200b  Li\u2069", "phone": "13800138000"})
    created = create(client, doc)
    read = client.get(f"/api/v1/bookings/{created['id']}", headers=ADMIN).json
    assert read["resident"]["name"] == "Anna Li"
    claims = verify_token(created["token"], keys_from_json(client.get("/api/v1/keys").json))
    assert claims.masked_name == "A*i"  # the "\u202e*i" no more
    feed = client.get("/api/v1/stations/demo-station/bookings", headers=STATION).json
    assert [b["name_masked"] for b in feed["bookings"]] == ["A*i"]
