"""Tests for residents' records (central/records.py via GET /api/v1/residents/<id>/records),
their page, and the resident's booking page with the live status."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

ADMIN = {"Authorization": "Bearer demo-central-admin-token"}
STATION = {"Authorization": "Bearer demo-station-token"}
EVENTS = "/api/v1/stations/demo-station/events"
DOSE = {"trace_code": "86120012026030000123", "product": "HepB", "name": "乙型肝炎疫苗",
        "maker": "华北制药", "lot": "202603A", "expires": "2027-09-30", "dose": 2,
        "site": "left_deltoid", "route": "intramuscular", "nurse": "demo-nurse",
        "at": "2026-12-02T09:20:00+08:00"}


def visit(event: Any, booking_id: str, *, reaction: bool = False) -> list[dict[str, Any]]:
    kw = {"booking_id": booking_id, "ticket_id": "T7"}
    events = [
        event(1, "ticket.issued", status="waiting", stage="screening", counter=None, **kw),
        event(2, "screening.recorded", status="waiting", stage="vaccination", counter=None,
              detail={"answers": {"fever": False}, "yes": [], "by": "kiosk"}, **kw),
        event(3, "ticket.called", status="called", stage="vaccination", **kw),
        event(4, "ticket.recalled", status="called", stage="vaccination", counter="V2", **kw),
        event(5, "ticket.started", status="serving", stage="vaccination", counter="V2", **kw),
        event(6, "vaccination.recorded", status="observing", stage="observation",
              detail=DOSE, **kw),
    ]
    if reaction:
        events.append(event(7, "observation.reaction", status="observing", stage="observation",
                            detail={"symptoms": ["rash"], "severity": "mild", "note": "",
                                    "action": "observe", "by": "demo-nurse"}, **kw))
    events.append(event(8, "observation.released", status="released", stage="observation",
                        **kw))
    return events


@pytest.fixture
def booked(client: FlaskClient, booking_request: Any) -> dict[str, Any]:
    response = client.post("/api/v1/bookings", json=booking_request(
        vaccine={"product": "HepB", "dose": 2}), headers=ADMIN)
    assert response.status_code == 201
    return response.json


def test_records_from_events_in_any_order(client: FlaskClient, booked: dict[str, Any],
                                          event: Any) -> None:
    events = visit(event, booked["id"], reaction=True)
    client.post(EVENTS, json={"events": events[3:]}, headers=STATION)  # the later half first
    client.post(EVENTS, json={"events": events[:3]}, headers=STATION)
    resident = booked["resident"]
    records = client.get(f"/api/v1/residents/{resident['id']}/records", headers=ADMIN).json
    assert records["resident"] == {"id": resident["id"], "name_masked": "张*三"}
    [seen] = records["visits"]
    assert seen["station"] == "demo-station" and seen["station_name"] == "幸福社区卫生服务站"
    assert seen["checked_in"] == events[0]["at"] and seen["called"] == events[2]["at"]
    assert (seen["started"], seen["counter"]) == (events[4]["at"], "V2")
    assert seen["booking_id"] == booked["id"] and seen["status"] == "released"
    [dose] = records["vaccinations"]
    assert {k: dose[k] for k in ("product", "lot", "dose", "site", "at")} == {
        "product": "HepB", "lot": "202603A", "dose": 2, "site": "left_deltoid",
        "at": DOSE["at"]}
    assert dose["observation"]["outcome"] == "reaction"
    assert dose["observation"]["reactions"][0]["symptoms"] == ["rash"]
    assert client.get(f"/api/v1/bookings/{booked['id']}", headers=ADMIN).json[
        "status"] == "completed"


def test_the_residents_own_link(client: FlaskClient, booked: dict[str, Any],
                                event: Any) -> None:
    client.post(EVENTS, json={"events": visit(event, booked["id"])}, headers=STATION)
    resident = booked["resident"]
    assert booked["records_url"].endswith(
        f"/residents/{resident['id']}/records?key={resident['link_key']}")
    api = f"/api/v1/residents/{resident['id']}/records"
    mine = client.get(f"{api}?key={resident['link_key']}")
    assert mine.status_code == 200
    assert mine.json["vaccinations"][0]["observation"] == {
        "outcome": "released", "ended_at": visit(event, booked["id"])[-1]["at"]}
    for query, headers, status, code in [
            ("?key=wrong", {}, 404, "resident_not_found"), ("", {}, 401, "auth_missing"),
            ("", STATION, 403, "auth_forbidden"), ("?key=", {}, 404, "resident_not_found")]:
        response = client.get(api + query, headers=headers)
        assert (response.status_code, response.json["error"]["code"]) == (status, code)
    for other in ("99999", "9" * 40):
        assert client.get(f"/api/v1/residents/{other}/records", headers=ADMIN).status_code == 404
    page = client.get(booked["records_url"].split("localhost")[1]).get_data(as_text=True)
    assert "乙型肝炎疫苗" in page and "202603A" in page and "留观结束" in page
    assert "张*三" in page and "13800138000" not in page


def test_the_booking_page_shows_the_live_status(client: FlaskClient, booked: dict[str, Any],
                                                event: Any) -> None:
    url = booked["page_url"].split("localhost")[1]
    page = client.get(url).get_data(as_text=True)
    assert "已预约" in page and "<svg" in page and 'http-equiv="refresh"' in page
    client.post(EVENTS, json={"events": visit(event, booked["id"])[:3]}, headers=STATION)
    page = client.get(url).get_data(as_text=True)
    assert "已叫号" in page and "<svg" not in page
    assert client.get(url.split("?")[0]).status_code == 404  # not without the resident's key
    day_page = client.get("/stations/demo-station/bookings").get_data(as_text=True)
    assert "已叫号" in day_page
