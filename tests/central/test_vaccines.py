"""Tests for the vaccine catalog of the reference platform: GET and PUT /api/v1/vaccines,
the demo catalog and the m002 migration of a database made before it."""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from central import schema
from central.demo import seed_demo
from central.store import Store
from contracts.demo import DEMO_VACCINES

ADMIN = {"Authorization": "Bearer demo-central-admin-token"}
STATION = {"Authorization": "Bearer demo-station-token"}


def product(**changes: Any) -> dict[str, Any]:
    doc = {"name": "水痘减毒活疫苗", "name_en": "Varicella vaccine", "maker": "长春祈健",
           "doses": 2, "interval_days": 90, "trace_prefix": "8612009",
           "observation_minutes": 30,
           "lots": [{"lot": "V1", "expires": "2027-03-31",
                     "serials": ["0000000000000", "0000000009999"]}]}
    doc.update(changes)
    return doc


def test_station_and_admin_read_the_demo_catalog(client: FlaskClient) -> None:
    for headers in (STATION, ADMIN):
        response = client.get("/api/v1/vaccines", headers=headers)
        assert response.status_code == 200
        expected = sorted(copy.deepcopy(list(DEMO_VACCINES)), key=lambda v: v["code"])
        for v in expected:
            v["lots"].sort(key=lambda lot: (lot["expires"], lot["lot"]))
        assert response.json == {"vaccines": expected}


@pytest.mark.parametrize("headers, status, code", [
    ({}, 401, "auth_missing"), ({"Authorization": "Bearer wrong"}, 401, "auth_invalid"),
])
def test_the_catalog_needs_a_token(client: FlaskClient, headers: dict, status: int,
                                   code: str) -> None:
    response = client.get("/api/v1/vaccines", headers=headers)
    assert (response.status_code, response.json["error"]["code"]) == (status, code)


def test_put_adds_then_replaces_a_product_with_its_lots(client: FlaskClient) -> None:
    created = client.put("/api/v1/vaccines/VarV", json=product(), headers=ADMIN)
    assert created.status_code == 201
    assert created.json == {"code": "VarV", **product()}
    replaced = client.put("/api/v1/vaccines/VarV", headers=ADMIN, json=product(
        doses=1, lots=[{"lot": "V2", "expires": "2028-01-31",
                        "serials": ["0000000010000", "0000000019999"]}]))
    assert replaced.status_code == 200
    catalog = {v["code"]: v for v in client.get("/api/v1/vaccines", headers=STATION).json[
        "vaccines"]}
    assert catalog["VarV"]["doses"] == 1
    assert [lot["lot"] for lot in catalog["VarV"]["lots"]] == ["V2"]  # V1 is gone
    assert len(catalog) == len(DEMO_VACCINES) + 1


def test_a_replaced_product_keeps_its_bookings(client: FlaskClient,
                                               booking_request: Any) -> None:
    booked = client.post("/api/v1/bookings", json=booking_request(), headers=ADMIN)
    assert booked.status_code == 201
    flu = next(v for v in DEMO_VACCINES if v["code"] == "Flu4")
    again = client.put("/api/v1/vaccines/Flu4", headers=ADMIN,
                       json={**flu, "name": "四价流感疫苗", "lots": []})
    assert again.status_code == 200
    read = client.get(f"/api/v1/bookings/{booked.json['id']}", headers=ADMIN).json
    assert read["vaccine"]["name"] == "四价流感疫苗"
    # booking creation still checks the product against the catalog
    unknown = client.post("/api/v1/bookings", headers=ADMIN,
                          json=booking_request(vaccine={"product": "Nope", "dose": 1}))
    assert unknown.json["error"]["code"] == "vaccine_unknown"


@pytest.mark.parametrize("code, body, status, error, field", [
    ("VarV", product(trace_prefix="861200"), 400, "field_invalid", "trace_prefix"),
    ("VarV", product(trace_prefix=8612009), 400, "field_invalid", "trace_prefix"),
    ("VarV", product(trace_prefix=None), 400, "field_missing", "trace_prefix"),
    ("VarV", product(name_en=""), 400, "field_missing", "name_en"),
    ("VarV", product(doses=0), 400, "field_invalid", "doses"),
    ("VarV", product(doses="2"), 400, "field_invalid", "doses"),
    ("VarV", product(interval_days=-1), 400, "field_invalid", "interval_days"),
    ("VarV", product(observation_minutes=999), 400, "field_invalid", "observation_minutes"),
    ("VarV", product(lots="none"), 400, "field_invalid", "lots"),
    ("VarV", product(lots=[{"lot": "A", "expires": "2027-02-30",
                            "serials": ["0" * 13, "1" * 13]}]), 400, "field_invalid",
     "lots.expires"),
    ("VarV", product(lots=[{"lot": "A", "expires": "2027-02-28",
                            "serials": ["0" * 12, "1" * 13]}]), 400, "field_invalid",
     "lots.serials"),
    ("VarV", product(lots=[{"lot": "A", "expires": "2027-02-28",
                            "serials": ["2" * 13, "1" * 13]}]), 400, "field_invalid",
     "lots.serials"),
    ("VarV", product(lots=[{"lot": "A", "expires": "2027-02-28", "serials": ["0" * 13, "5" * 13]},
                           {"lot": "B", "expires": "2027-02-28", "serials": ["4" * 13, "9" * 13]}
                           ]), 400, "field_invalid", "lots"),
    ("VarV", product(lots=[{"lot": "A", "expires": "2027-02-28", "serials": ["0" * 13, "1" * 13]},
                           {"lot": "A", "expires": "2027-02-28", "serials": ["4" * 13, "9" * 13]}
                           ]), 400, "field_invalid", "lots"),
    ("Var V", product(), 400, "field_invalid", "code"),
    ("VarV", product(trace_prefix="8612001"), 409, "trace_prefix_taken", None),
])
def test_bad_products_are_refused_and_nothing_changes(
        client: FlaskClient, code: str, body: dict, status: int, error: str,
        field: str | None) -> None:
    before = client.get("/api/v1/vaccines", headers=STATION).json
    response = client.put(f"/api/v1/vaccines/{code}", json=body, headers=ADMIN)
    assert (response.status_code, response.json["error"]["code"]) == (status, error)
    if field:
        assert f"'{field}'" in response.json["error"]["message"]
    assert response.json["error"]["message_zh"]
    assert client.get("/api/v1/vaccines", headers=STATION).json == before


def test_only_the_admin_puts(client: FlaskClient) -> None:
    response = client.put("/api/v1/vaccines/VarV", json=product(), headers=STATION)
    assert (response.status_code, response.json["error"]["code"]) == (403, "auth_forbidden")
    assert client.put("/api/v1/vaccines/VarV", data="x", headers=ADMIN).json["error"][
        "code"] == "body_invalid"


def test_a_database_from_before_the_catalog_is_migrated(database_url: str) -> None:
    """m001 as it was (vaccines without the catalog's columns, no lots), then m002."""
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE vaccines (code VARCHAR(40) PRIMARY KEY, name VARCHAR(200) NOT NULL,"
            " manufacturer VARCHAR(200) NOT NULL, doses INTEGER NOT NULL)")
        schema.metadata.create_all(conn, tables=[
            t for t in schema.metadata.sorted_tables if t.name not in ("vaccines",
                                                                        "vaccine_lots")])
        conn.execute(sa.insert(schema.counters).values(name="booking_change", value=0))
        conn.execute(sa.insert(schema.migrations_table).values(name="m001_create_tables",
                                                               applied_at=0))
        conn.exec_driver_sql("INSERT INTO vaccines (code, name, manufacturer, doses) "
                             "VALUES ('HepB', '乙肝', 'x', 3), ('Old', '旧', 'y', 1)")
    engine.dispose()
    store = Store(database_url)
    try:
        assert store.migrate(0) == ["m002_vaccine_catalog", "m003_station_sync"]
        assert [v["code"] for v in store.vaccines()] == []  # no trace prefixes yet
        assert [v["code"] for v in store.vaccines(complete=False)] == ["HepB", "Old"]
        seed_demo(store, int(time.time()), bookings=0)
        catalog = {v["code"]: v for v in store.vaccines()}
        assert sorted(catalog) == sorted(v["code"] for v in DEMO_VACCINES)  # "Old" stays out
        assert catalog["HepB"]["name"] == "乙型肝炎疫苗" and catalog["HepB"]["lots"]
        assert store.migrate(0) == []
    finally:
        store.close()
