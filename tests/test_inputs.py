"""Declared request bodies: what the models accept, and how a refusal names the field."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from flask.testing import FlaskClient
from support import KIOSK

from contracts.protocol import KIOSK_NOTICES
from server.web.inputs import KioskNotice


def refusal(r: Any) -> tuple[int, str, str]:
    error = r.get_json()["error"]
    return r.status_code, error["code"], error["message"]


def test_null_is_the_same_as_absent(client: FlaskClient) -> None:
    r = client.post("/api/v1/tickets", json={"service": None}, headers=KIOSK)
    assert refusal(r)[:2] == (400, "field_missing") and "'service'" in refusal(r)[2]
    r = client.post("/api/v1/tickets", json={"service": "V", "priority": None}, headers=KIOSK)
    assert r.status_code == 201 and r.get_json()["priority"] is False


@pytest.mark.parametrize("body", [{"service": "V", "priority": 1}, {"service": ["V"]},
                                  {"service": "V", "priority": "true"}])
def test_json_types_are_strict(client: FlaskClient, body: dict[str, Any]) -> None:
    assert refusal(client.post("/api/v1/tickets", json=body, headers=KIOSK))[:2] == (
        400, "field_invalid")


def test_unknown_keys_are_ignored(client: FlaskClient) -> None:
    r = client.post("/api/v1/tickets", json={"service": "V", "colour": "blue"}, headers=KIOSK)
    assert r.status_code == 201


def test_a_nested_refusal_names_the_outer_field(client: FlaskClient) -> None:
    r = client.post("/api/v1/checkins/family", json={"codes": ["DEMO-V001", 7]},
                    headers=KIOSK)
    assert refusal(r)[:2] == (400, "field_invalid") and "'codes'" in refusal(r)[2]


def test_family_checkin_needs_codes_or_booking_ids(client: FlaskClient) -> None:
    r = client.post("/api/v1/checkins/family", json={}, headers=KIOSK)
    assert refusal(r)[:2] == (400, "field_invalid") and "'codes'" in refusal(r)[2]


def test_kiosk_notice_codes(client: FlaskClient) -> None:
    assert set(get_args(KioskNotice.model_fields["code"].annotation)) == set(KIOSK_NOTICES)
    r = client.post("/api/v1/kiosk/notices", json={"ticket_id": "x"}, headers=KIOSK)
    assert refusal(r)[:2] == (400, "field_invalid")
    r = client.post("/api/v1/kiosk/notices", json={"code": "not_a_booking", "detail": 5},
                    headers=KIOSK)
    assert r.status_code == 200  # a detail that is no text is dropped, not refused


def test_an_optional_body_may_be_empty_but_not_malformed(client: FlaskClient,
                                                         nurse: dict[str, str]) -> None:
    ticket = client.post("/api/v1/tickets", json={"service": "V"}, headers=KIOSK).get_json()
    r = client.post(f"/api/v1/tickets/{ticket['id']}/cancel", headers=nurse)
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    r = client.post(f"/api/v1/tickets/{ticket['id']}/reprint", data=b"[1]",
                    content_type="application/json", headers=nurse)
    assert refusal(r)[:2] == (400, "body_invalid")
    r = client.post(f"/api/v1/tickets/{ticket['id']}/reprint", json={"kiosk": 7},
                    headers=nurse)
    assert refusal(r)[:2] == (400, "field_invalid") and "'kiosk'" in refusal(r)[2]


def test_a_booking_search_is_one_to_32_characters(client: FlaskClient,
                                                  nurse: dict[str, str]) -> None:
    for query in ({}, {"q": ""}, {"q": "x" * 33}):
        r = client.get("/api/v1/bookings", query_string=query, headers=nurse)
        assert refusal(r)[:2] == (400, "field_invalid") and "'q'" in refusal(r)[2]
