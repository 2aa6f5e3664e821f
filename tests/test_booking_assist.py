"""Staff-assisted check-in (search, check in without a code) and family check-in."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from support import KIOSK
from test_checkin_signed import token

from contracts.demo import demo_booking_id
from server.demo import demo_bookings


def test_search_by_name_fragment_and_phone_digits(app: Flask, client: FlaskClient,
                                                  nurse: dict) -> None:
    ext = app.extensions["clinicq"]
    rows = demo_bookings(ext.settings, ext.station.today())
    first = rows[0]
    r = client.get("/api/v1/bookings", query_string={"q": first["phone_last4"]})
    found = r.get_json()["bookings"]
    assert r.status_code == 200 and [b["id"] for b in found] == [first["id"]]
    # staff at the console see the full name to tell residents apart (the search is theirs)
    assert found[0]["name"] == first["name"] and found[0]["name_masked"] == first["name_masked"]
    assert found[0]["checked_in"] is False and found[0]["slot"] == \
        f"{first['slot_start']}-{first['slot_end']}"
    r = client.get("/api/v1/bookings", query_string={"q": first["name"][:1]})
    assert first["id"] in [b["id"] for b in r.get_json()["bookings"]]
    assert client.get("/api/v1/bookings", query_string={"q": "  "}).status_code == 400


def test_search_and_assisted_checkin_are_staff_only(client: FlaskClient) -> None:
    r = client.get("/api/v1/bookings", query_string={"q": "王"}, headers=KIOSK)
    assert r.status_code == 403
    assert client.get("/api/v1/bookings", query_string={"q": "王"}).status_code == 401


def test_assisted_checkin_then_search_shows_the_ticket(app: Flask, client: FlaskClient,
                                                       nurse: dict) -> None:
    booking_id = demo_booking_id(app.extensions["clinicq"].station.today(), 1)
    r = client.post(f"/api/v1/bookings/{booking_id}/checkin", headers=nurse)
    assert r.status_code == 201, r.get_json()
    ticket = r.get_json()
    again = client.post(f"/api/v1/bookings/{booking_id}/checkin", headers=nurse)
    assert again.status_code == 200 and again.get_json()["id"] == ticket["id"]
    assert client.post("/api/v1/checkins", json={"code": "DEMO-V001"},
                       headers=KIOSK).get_json()["id"] == ticket["id"]
    q = app.extensions["clinicq"].store.booking(booking_id)["phone_last4"]
    found = client.get("/api/v1/bookings", query_string={"q": q}).get_json()["bookings"][0]
    assert found["checked_in"] and found["ticket"] == ticket["number"]
    missing = client.post("/api/v1/bookings/nope/checkin", headers=nurse)
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "booking_unknown"


def test_family_checkin_gets_consecutive_numbers(client: FlaskClient) -> None:
    client.post("/api/v1/tickets", json={"service": "V"}, headers=KIOSK)  # V001 is taken
    codes = [token("KID1"), token("KID2"), token("MUM", service="A")]
    r = client.post("/api/v1/checkins/family", json={"codes": codes}, headers=KIOSK)
    assert r.status_code == 201, r.get_json()
    numbers = [t["number"] for t in r.get_json()["tickets"]]
    assert numbers == ["V002", "V003", "A001"] and r.get_json()["created"] == [True] * 3
    again = client.post("/api/v1/checkins/family", json={"codes": codes + [token("KID3")]},
                        headers=KIOSK)
    assert again.status_code == 201
    assert [t["number"] for t in again.get_json()["tickets"]] == numbers + ["V004"]
    assert again.get_json()["created"] == [False, False, False, True]


def test_family_checkin_one_bad_code_refuses_all(client: FlaskClient) -> None:
    r = client.post("/api/v1/checkins/family",
                    json={"codes": [token("OK1"), token("OTHER", station="east-station")]},
                    headers=KIOSK)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "booking_wrong_station"
    assert client.post("/api/v1/checkins", json={"code": token("OK1")},
                       headers=KIOSK).status_code == 201  # nothing was issued before
    for bad in ([], "x", [1], [token(f"M{i}") for i in range(9)]):
        r = client.post("/api/v1/checkins/family", json={"codes": bad}, headers=KIOSK)
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "field_invalid"


def test_console_has_the_booking_search_box(client: FlaskClient, nurse: dict) -> None:
    page = client.get("/console").get_data(as_text=True)
    assert 'id="assist-form"' in page and 'id="assist-results"' in page


def test_staff_family_checkin_by_booking_ids(app: Flask, client: FlaskClient,
                                             nurse: dict) -> None:
    """A parent found by phone at the console: the ticked bookings get consecutive numbers."""
    day = app.extensions["clinicq"].station.today()
    client.post("/api/v1/tickets", json={"service": "V"}, headers=KIOSK)  # V001 taken already
    # three vaccination bookings whose slots allow a check-in at 09:00
    ids = [demo_booking_id(day, n) for n in (1, 4, 19)]
    r = client.post("/api/v1/checkins/family", json={"booking_ids": ids}, headers=nurse)
    assert r.status_code == 201, r.get_json()
    numbers = [t["number"] for t in r.get_json()["tickets"]]
    assert [t["booking_id"] for t in r.get_json()["tickets"]] == ids
    assert numbers == ["V002", "V003", "V004"]
    # again: the same tickets, nothing new
    again = client.post("/api/v1/checkins/family", json={"booking_ids": ids}, headers=nurse)
    assert again.status_code == 200
    assert [t["number"] for t in again.get_json()["tickets"]] == numbers


def test_family_checkin_by_booking_ids_is_for_staff(app: Flask, client: FlaskClient) -> None:
    day = app.extensions["clinicq"].station.today()
    r = client.post("/api/v1/checkins/family",
                    json={"booking_ids": [demo_booking_id(day, 1)]}, headers=KIOSK)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"


def test_family_checkin_by_unknown_or_cancelled_booking_refuses_all(
        app: Flask, client: FlaskClient, nurse: dict) -> None:
    day = app.extensions["clinicq"].station.today()
    good = demo_booking_id(day, 1)
    for bad, code in [("nope", "booking_unknown"),
                      (demo_booking_id(day, 13), "booking_cancelled")]:
        r = client.post("/api/v1/checkins/family", json={"booking_ids": [good, bad]},
                        headers=nurse)
        assert r.status_code in (404, 422) and r.get_json()["error"]["code"] == code
    assert client.get("/api/v1/state", headers=nurse).get_json()["seq"] == 0
    r = client.post("/api/v1/checkins/family", json={"booking_ids": "x"}, headers=nurse)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "field_invalid"
