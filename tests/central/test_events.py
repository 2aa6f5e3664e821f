"""Tests for POST /api/v1/stations/<station>/events (central/events.py, central/wire.py):
per-event results, the unique key, conflicts kept apart, booking status by seq, speed."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from central import schema
from central.store import Store
from contracts import syncwire

ADMIN = {"Authorization": "Bearer demo-central-admin-token"}
STATION = {"Authorization": "Bearer demo-station-token"}
EVENTS = "/api/v1/stations/demo-station/events"


def push(client: FlaskClient, events: list[Any], headers: dict[str, str] = STATION) -> Any:
    response = client.post(EVENTS, json={"events": events}, headers=headers)
    assert response.status_code == 200, response.json
    return [r["result"] for r in response.json["results"]]


def count(store: Store, table: sa.Table) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_stored_then_duplicate_then_conflict(client: FlaskClient, store: Store,
                                             event: Any) -> None:
    batch = [event(1, "ticket.issued", status="waiting"), event(2)]
    assert push(client, batch) == ["stored", "stored"]
    # the answer was lost: the station sends the same batch again
    assert push(client, batch) == ["duplicate", "duplicate"]
    other = {**batch[1], "counter": "V2"}
    response = client.post(EVENTS, json={"events": [other]}, headers=STATION).json
    assert response == {"results": [{"id": other["id"], "seq": 2, "result": "conflict"}]}
    assert push(client, [other]) == ["conflict"]  # reported again, kept once
    assert count(store, schema.events) == 2 and count(store, schema.event_conflicts) == 1
    with store.engine.connect() as conn:
        kept = conn.execute(sa.select(schema.events.c.sha256).where(
            schema.events.c.event_id == other["id"])).scalar_one()
    assert kept == syncwire.event_sha256(batch[1])  # never overwritten
    listing = client.get("/api/v1/stations/demo-station/conflicts", headers=STATION).json
    assert listing["conflicts"] == 1 and listing["items"][0]["event_id"] == other["id"]


def test_control_characters_are_stored_as_sent(client: FlaskClient, event: Any) -> None:
    odd = event(1, detail={"note": "a\x00b\x1f", "名": "接种"})
    assert push(client, [odd]) == ["stored"]
    assert push(client, [odd]) == ["duplicate"]


def test_the_same_id_twice_in_one_batch(client: FlaskClient, event: Any) -> None:
    first = event(1)
    assert push(client, [first, dict(first), {**first, "reason": "x"}]) == [
        "stored", "duplicate", "conflict"]


@pytest.mark.parametrize("change, reason", [
    (lambda e: 7, "not an object"),
    (lambda e: {**e, "id": None}, "no id"),
    (lambda e: {**e, "id": ""}, "no id"),
    (lambda e: {**e, "id": "x" * 65}, "id: at most 64 printable characters"),
    (lambda e: {**e, "seq": 0}, "bad seq"),
    (lambda e: {**e, "seq": "3"}, "bad seq"),
    (lambda e: {**e, "seq": True}, "bad seq"),
    (lambda e: {**e, "seq": 2**64}, "bad seq"),
    (lambda e: {**e, "at": "yesterday"}, "at is not a time"),
    (lambda e: {**e, "at": "2026-13-45T09:00:00+08:00"}, "at is not a time"),
    (lambda e: {**e, "at": "2026-12-02T09:00:00"}, "at has no UTC offset"),
    (lambda e: {**e, "type": 5}, "no type"),
    (lambda e: {k: v for k, v in e.items() if k != "ticket"}, "ticket missing"),
    (lambda e: {**e, "ticket": {**e["ticket"], "booking_id": 12}}, "ticket.booking_id"),
    (lambda e: {**e, "ticket": {**e["ticket"], "stage": "s" * 21}}, "ticket.stage"),
    (lambda e: {**e, "ticket": {**e["ticket"], "status": 3}}, "ticket.status"),
    (lambda e: {**e, "detail": {"note": "\ud800"}}, "not valid UTF-8"),
])
def test_malformed_events_are_rejected_alone(client: FlaskClient, event: Any, change: Any,
                                             reason: str) -> None:
    good = event(2)
    response = client.post(EVENTS, json={"events": [change(event(1)), good]}, headers=STATION)
    assert response.status_code == 200
    bad, ok = response.json["results"]
    assert bad["result"] == "rejected" and bad["reason"].startswith(reason)
    assert ok == {"id": good["id"], "seq": 2, "result": "stored"}


def test_an_event_for_another_stations_booking_is_rejected(
        client: FlaskClient, store: Store, clock: Any, booking_request: Any,
        event: Any) -> None:
    booking = client.post("/api/v1/bookings", json=booking_request(), headers=ADMIN).json
    store.add_station("east", "东区站", "east-token", {"V": ("接种", "vaccination")},
                      int(clock()))
    response = client.post("/api/v1/stations/east/events", headers={
        "Authorization": "Bearer east-token"}, json={"events": [event(1, booking_id=booking[
            "id"])]})
    assert response.json["results"][0] == {
        "id": event(1)["id"], "seq": 1, "result": "rejected",
        "reason": "booking of another station"}
    assert client.get(f"/api/v1/bookings/{booking['id']}", headers=ADMIN).json[
        "status"] == "booked"


@pytest.mark.parametrize("body, status, code", [
    ("not json", 400, "body_invalid"),
    ([], 400, "body_invalid"),
    ({}, 400, "field_missing"),
    ({"events": {"a": 1}}, 400, "field_invalid"),
    ({"events": [{}] * 501}, 413, "batch_too_large"),
])
def test_bad_batches(client: FlaskClient, body: Any, status: int, code: str) -> None:
    kwargs = {"data": body} if isinstance(body, str) else {"json": body}
    response = client.post(EVENTS, headers=STATION, **kwargs)
    assert (response.status_code, response.json["error"]["code"]) == (status, code)
    assert response.json["error"]["message"] and response.json["error"]["message_zh"]


def test_a_huge_body_is_413(client: FlaskClient) -> None:
    response = client.post(EVENTS, data=b'{"events": ["' + b"x" * (17 * 1024 * 1024) + b'"]}',
                           headers={**STATION, "Content-Type": "application/json"})
    assert (response.status_code, response.json["error"]["code"]) == (413, "batch_too_large")


def test_who_may_push(client: FlaskClient, store: Store, clock: Any, event: Any) -> None:
    store.add_station("east", "东区站", "east-token", {"A": ("门诊", "clinic")}, int(clock()))
    body = {"events": [event(1)]}
    cases = [({}, 401, "auth_missing"), ({"Authorization": "Bearer nope"}, 401, "auth_invalid"),
             ({"Authorization": "Bearer east-token"}, 403, "station_mismatch")]
    for headers, status, code in cases:
        response = client.post(EVENTS, json=body, headers=headers)
        assert (response.status_code, response.json["error"]["code"]) == (status, code)
    response = client.post("/api/v1/stations/nowhere/events", json=body, headers=ADMIN)
    assert (response.status_code, response.json["error"]["code"]) == (404, "station_unknown")
    response = client.post("/api/v1/stations/nowhere/events", json=body,
                           headers={"Authorization": "Bearer east-token"})
    assert response.status_code == 403


def booking_status(client: FlaskClient, booking_id: str) -> tuple[str, str | None]:
    doc = client.get(f"/api/v1/bookings/{booking_id}", headers=ADMIN).json
    return doc["status"], doc["stage"]


def test_booking_status_follows_seq_never_backwards(client: FlaskClient, booking_request: Any,
                                                    event: Any) -> None:
    b = client.post("/api/v1/bookings", json=booking_request(), headers=ADMIN).json["id"]
    issued = event(10, "ticket.issued", booking_id=b, status="waiting", stage="screening")
    called = event(12, "ticket.called", booking_id=b, status="called", stage="vaccination")
    observing = event(14, "vaccination.recorded", booking_id=b, status="observing",
                      stage="observation")
    assert push(client, [called]) == ["stored"]
    assert booking_status(client, b) == ("called", "vaccination")
    push(client, [issued])  # late: an older seq does not move the booking back
    assert booking_status(client, b) == ("called", "vaccination")
    push(client, [observing, issued, called])
    assert booking_status(client, b) == ("observing", "observation")
    transferred = event(15, "ticket.transferred", booking_id=b, status="transferred")
    newer = event(16, "ticket.newer_kind", booking_id=b, status="done")  # unknown: stored only
    assert push(client, [transferred, newer]) == ["stored", "stored"]
    assert booking_status(client, b) == ("observing", "observation")
    push(client, [event(17, "observation.released", booking_id=b, status="released")])
    assert booking_status(client, b) == ("completed", None)


@pytest.mark.parametrize("ticket_status, booking", [
    ("waiting", "checked_in"), ("called", "called"), ("serving", "serving"),
    ("observing", "observing"), ("done", "completed"), ("released", "completed"),
    ("no_show", "no_show"), ("cancelled", "cancelled"), ("deferred", "deferred"),
    ("transferred", "booked"),
])
def test_status_table(client: FlaskClient, booking_request: Any, event: Any,
                      ticket_status: str, booking: str) -> None:
    b = client.post("/api/v1/bookings", json=booking_request(), headers=ADMIN).json["id"]
    push(client, [event(3, "ticket.started", booking_id=b, status=ticket_status)])
    assert booking_status(client, b)[0] == booking


def test_concurrent_pushes_of_the_same_events_store_each_once(store: Store,
                                                              event: Any) -> None:
    batch = [event(i, ticket_id=f"T{i % 7}") for i in range(1, 201)]
    results: list[list[dict[str, Any]]] = []
    lock = threading.Lock()

    def worker() -> None:
        answer = store.ingest("demo-station", batch, int(time.time()))
        with lock:
            results.append(answer)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 4
    for i in range(len(batch)):
        verdicts = sorted(r[i]["result"] for r in results)
        assert verdicts == ["duplicate", "duplicate", "duplicate", "stored"], i
    assert count(store, schema.events) == 200


def test_ten_thousand_events_in_batches_of_500_well_under_5_s(client: FlaskClient,
                                                               store: Store,
                                                               event: Any) -> None:
    events = [event(i, ticket_id=f"T{i // 8}", event_id=f"{i:032x}") for i in range(1, 10_001)]
    started = time.perf_counter()
    for i in range(0, len(events), 500):
        assert set(push(client, events[i:i + 500])) == {"stored"}
    elapsed = time.perf_counter() - started
    assert count(store, schema.events) == 10_000
    assert elapsed < 5, elapsed


def test_reconciliation_over_what_is_stored(client: FlaskClient, event: Any) -> None:
    today = [event(i) for i in range(1, 6)]
    other_day = event(6, day="2020-01-02")
    push(client, [*today, other_day])
    push(client, [{**today[0], "counter": "V9"}])  # a conflict is not counted
    day = today[0]["at"][:10]
    url = f"/api/v1/stations/demo-station/reconciliation?day={day}"
    answer = client.get(url, headers=STATION).json
    expected = syncwire.reconciliation(
        [(e["seq"], e["id"], syncwire.event_sha256(e)) for e in today], day)
    assert {k: answer[k] for k in ("day", "events", "digest")} == expected
    items = client.get(url + "&items=1", headers=STATION).json["items"]
    assert [i["seq"] for i in items] == [1, 2, 3, 4, 5]
    empty = client.get(url.replace(day, "2019-05-05"), headers=ADMIN).json
    assert empty["events"] == 0 and empty["digest"] == syncwire.reconciliation([], "x")["digest"]
    for query, code in (("", "field_missing"), ("?day=2026-1-2", "field_invalid"),
                        ("?day=tomorrow", "field_invalid")):
        response = client.get(f"/api/v1/stations/demo-station/reconciliation{query}",
                              headers=STATION)
        assert (response.status_code, response.json["error"]["code"]) == (400, code)


def test_a_database_from_before_sync_is_migrated(database_url: str, event: Any) -> None:
    """m001 and m002 as they were (no places, tokens, events or link keys), then m003: the
    registration token keeps working, as the station's `initial` token."""
    from central.stations import token_digest

    engine = sa.create_engine(database_url)
    new_tables = ("station_tokens", "station_live", "events", "event_conflicts")
    with engine.begin() as conn:
        schema.metadata.create_all(conn, tables=[
            t for t in schema.metadata.sorted_tables if t.name not in new_tables])
        for table, columns in schema._M003_COLUMNS.items():
            for column in columns:
                conn.exec_driver_sql(f"ALTER TABLE {table} DROP COLUMN {column}")
        conn.execute(sa.insert(schema.counters).values(name="booking_change", value=0))
        for name in ("m001_create_tables", "m002_vaccine_catalog"):
            conn.execute(sa.insert(schema.migrations_table).values(name=name, applied_at=0))
        conn.exec_driver_sql(
            "INSERT INTO stations (id, name, token_sha256, created_at) VALUES "
            f"('old', '老站', '{token_digest('old-token')}', 1)")
        conn.exec_driver_sql("INSERT INTO residents (name, phone, created_at) VALUES "
                             "('赵一', '13700000000', 1)")
    engine.dispose()
    store = Store(database_url)
    try:
        assert store.migrate(0) == ["m003_station_sync"]
        assert store.station_for_token("old-token") == "old"
        with store.engine.connect() as conn:
            assert conn.execute(sa.select(schema.residents.c.link_key)).scalar()
        assert store.ingest("old", [event(1)], 0)[0]["result"] == "stored"
        assert store.migrate(0) == []
    finally:
        store.close()
