"""Tests for the station booking feed: cursor paging, idempotence, changes moving to the end."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

ADMIN = {"Authorization": "Bearer demo-central-admin-token"}
STATION = {"Authorization": "Bearer demo-station-token"}
FEED = "/api/v1/stations/demo-station/bookings"


def make_bookings(client: FlaskClient, booking_request: Any, n: int) -> list[str]:
    ids = []
    for i in range(n):
        doc = booking_request(slot=f"{8 + i // 2:02d}:{30 * (i % 2):02d}",
                              resident={"name": f"李{i}", "phone": f"1380000{i:04d}"})
        response = client.post("/api/v1/bookings", json=doc, headers=ADMIN)
        assert response.status_code == 201
        ids.append(response.json["id"])
    return ids


def read_all(client: FlaskClient, cursor: str = "0", limit: int = 3) -> tuple[list[dict], str]:
    seen: list[dict] = []
    while True:
        page = client.get(f"{FEED}?cursor={cursor}&limit={limit}", headers=STATION).json
        seen += page["bookings"]
        assert int(page["next_cursor"]) >= int(cursor)
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return seen, cursor


def test_paging_returns_each_booking_once_in_cursor_order(client: FlaskClient,
                                                          booking_request: Any) -> None:
    ids = make_bookings(client, booking_request, 7)
    seen, cursor = read_all(client)
    assert [b["id"] for b in seen] == ids
    cursors = [int(b["cursor"]) for b in seen]
    assert cursors == sorted(cursors) and len(set(cursors)) == 7
    assert cursor == seen[-1]["cursor"]
    # Nothing new: the same cursor gives an empty page and keeps the cursor.
    empty = client.get(f"{FEED}?cursor={cursor}", headers=STATION).json
    assert empty == {"station": "demo-station", "bookings": [], "next_cursor": cursor,
                     "has_more": False}


def test_same_cursor_same_page(client: FlaskClient, booking_request: Any) -> None:
    make_bookings(client, booking_request, 5)
    first = client.get(f"{FEED}?cursor=0&limit=2", headers=STATION).json
    again = client.get(f"{FEED}?cursor=0&limit=2", headers=STATION).json
    assert first == again and first["has_more"] is True and len(first["bookings"]) == 2


def test_cancellation_appears_after_the_cursor(client: FlaskClient,
                                               booking_request: Any) -> None:
    ids = make_bookings(client, booking_request, 3)
    _, cursor = read_all(client)
    client.post(f"/api/v1/bookings/{ids[0]}/cancel", headers=ADMIN)
    changed, _ = read_all(client, cursor)
    assert [(b["id"], b["status"]) for b in changed] == [(ids[0], "cancelled")]


@pytest.mark.parametrize("query, code", [
    ("cursor=abc", "bad_cursor"), ("cursor=-1", "bad_cursor"), ("cursor=%C2%B2", "bad_cursor"),
    ("limit=0", "field_invalid"), ("limit=100000", "field_invalid"), ("limit=x", "field_invalid"),
])
def test_bad_feed_queries(client: FlaskClient, query: str, code: str) -> None:
    response = client.get(f"{FEED}?{query}", headers=STATION)
    assert (response.status_code, response.json["error"]["code"]) == (400, code)


def test_unknown_station_feed(client: FlaskClient) -> None:
    response = client.get("/api/v1/stations/nowhere/bookings", headers=ADMIN)
    assert (response.status_code, response.json["error"]["code"]) == (404, "station_unknown")
