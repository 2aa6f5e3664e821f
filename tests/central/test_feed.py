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


def new_booking(i: int, day: Any = None) -> Any:
    from datetime import date

    from central.inputs import NewBooking

    return NewBooking(station="demo-station", service="A", day=day or date.today(),
                      slot_start=8 * 60 + 30 * (i % 16), slot_end=8 * 60 + 30 * (i % 16) + 30,
                      name=f"王{i}", phone=f"1390000{i:04d}", birth_year=1980, priority=None,
                      vaccine_product=None, vaccine_dose=None)


def test_two_concurrent_writers_never_make_the_feed_skip(store: Any, clock: Any) -> None:
    """Two writers book and cancel at once while a reader follows the feed: the reader ends
    with every booking in its latest state, and cursors only grow."""
    import threading

    per_writer, errors = 120, []

    def writer(offset: int) -> None:
        try:
            for i in range(offset, offset + per_writer):
                booking = store.create_booking(new_booking(i), int(clock()))
                if i % 5 == 0:
                    store.cancel_booking(booking["id"], int(clock()))
        except Exception as err:  # a failed writer fails the test below
            errors.append(err)

    seen: dict[str, str] = {}
    cursor, last = 0, 0

    def read_all() -> None:
        nonlocal cursor, last
        while True:
            page = store.feed("demo-station", cursor, 25)
            for booking in page.bookings:
                assert int(booking["cursor"]) > last
                last = int(booking["cursor"])
                seen[booking["id"]] = booking["status"]
            cursor = page.next_cursor
            if not page.has_more:
                return

    writers = [threading.Thread(target=writer, args=(n * 1000,)) for n in range(2)]
    for thread in writers:
        thread.start()
    while any(t.is_alive() for t in writers):
        read_all()
    for thread in writers:
        thread.join()
    read_all()
    assert errors == []
    truth = {b["id"]: b["status"] for b in store.bookings_for_day("demo-station",
                                                                   store.local_today(
                                                                       int(clock())))}
    assert len(truth) == 2 * per_writer
    assert seen == truth
    assert sum(status == "cancelled" for status in seen.values()) == 2 * per_writer // 5


@pytest.mark.postgres_only
def test_a_late_commit_is_not_skipped_on_postgres(store: Any, clock: Any) -> None:
    """Writer A takes a change number and has not committed; writer B books meanwhile: B waits
    for A's number to commit (the counter row stays locked), so B's row can never be visible
    while A's, with a smaller cursor, is not."""
    import threading

    import sqlalchemy as sa
    from support import wait_until

    start = store.feed("demo-station", 0, 10).next_cursor
    conn_a = store.engine.connect()
    result: list[Any] = []
    writer_b = threading.Thread(target=lambda: result.append(
        store.create_booking(new_booking(2), int(clock()))))
    try:
        tx = conn_a.begin()
        a = store.create_booking_in(conn_a, new_booking(1), int(clock()))
        writer_b.start()

        def b_waits_for_a_lock() -> bool:
            with store.engine.connect() as watcher:  # a fresh view of the activity each time
                return bool(watcher.execute(sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()")).scalar())

        wait_until(b_waits_for_a_lock, timeout=10, what="writer B waiting for A's lock")
        assert store.feed("demo-station", start, 10).bookings == []  # neither is visible
        tx.commit()
    finally:
        conn_a.close()
        if writer_b.ident is not None:
            writer_b.join(timeout=10)
    page = store.feed("demo-station", start, 10)
    assert [b["id"] for b in page.bookings] == [a["id"], result[0]["id"]]
    assert int(page.bookings[0]["cursor"]) < int(page.bookings[1]["cursor"])
