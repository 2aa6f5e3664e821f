"""The station's pull of the vaccine catalog (server/catalog.py, platform.py, sync.py): against
a plain function that plays the platform, and against a real platform over HTTP."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from support import LiveServer

from central.app import create_app as create_central
from central.demo import DEMO_ADMIN_TOKEN
from contracts.demo import DEMO_STATION_ID, DEMO_STATION_TOKEN, DEMO_VACCINES, demo_keys_json
from server.catalog import VaccineCatalog
from server.platform import PlatformClient, PlatformUnavailable, Reply, Request
from server.sync import Sync

# the demo catalog in the station's order: by product, each product's lots by expiry
CATALOG = sorted(copy.deepcopy(list(DEMO_VACCINES)), key=lambda v: v["code"])
for _product in CATALOG:
    _product["lots"].sort(key=lambda lot: (lot["expires"], lot["lot"]))


class RecordingStore:
    """The two store methods the catalog uses, in memory; every replacement recorded."""

    def __init__(self, rows: list[dict[str, Any]] | None = None) -> None:
        self.rows = copy.deepcopy(rows or [])
        self.replaced: list[list[dict[str, Any]]] = []

    def replace_vaccines(self, rows: list[dict[str, Any]]) -> None:
        self.replaced.append(copy.deepcopy(rows))
        self.rows = copy.deepcopy(rows)

    def vaccines(self) -> list[dict[str, Any]]:
        return copy.deepcopy(self.rows)


class CatalogPlatform:
    """GET /api/v1/vaccines answers `body` (or `status`); every request recorded."""

    def __init__(self, body: Any = None, status: int = 200) -> None:
        self.body = {"vaccines": CATALOG} if body is None else body
        self.status = status
        self.down = False
        self.requests: list[Request] = []

    def __call__(self, req: Request) -> Reply:
        self.requests.append(req)
        if self.down:
            raise PlatformUnavailable("connection refused")
        if req.url.endswith("/api/v1/keys"):
            return Reply(200, demo_keys_json(), {})
        if req.url.endswith("/api/v1/vaccines"):
            return Reply(self.status, copy.deepcopy(self.body), {})
        return Reply(200, {"bookings": [], "has_more": False, "next_cursor": "0"}, {})

    @property
    def catalog_requests(self) -> int:
        return sum(r.url.endswith("/api/v1/vaccines") for r in self.requests)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_catalog(platform: Callable[[Request], Reply], store: RecordingStore,
                 clock: Clock | None = None) -> VaccineCatalog:
    client = PlatformClient("http://central", DEMO_STATION_ID, DEMO_STATION_TOKEN,
                            transport=platform)
    return VaccineCatalog(store, client, retry_seconds=30, monotonic=clock or Clock())


def test_pull_stores_the_catalog_and_applying_it_again_changes_nothing() -> None:
    store, platform = RecordingStore(), CatalogPlatform()
    catalog = make_catalog(platform, store)
    assert catalog.refresh(force=True)
    assert store.rows == CATALOG and len(store.replaced) == 1
    request = platform.requests[0]
    assert request.headers["Authorization"] == f"Bearer {DEMO_STATION_TOKEN}"
    assert catalog.refresh(force=True)
    assert len(store.replaced) == 1  # the same catalog: nothing written
    assert catalog.status() == {"last_vaccines_at": catalog.last_fetched_at,
                                "vaccines": len(DEMO_VACCINES)}
    assert catalog.product("HepB")["trace_prefix"] == "8612001"


def test_the_same_catalog_in_another_order_changes_nothing() -> None:
    store = RecordingStore(CATALOG)
    shuffled = copy.deepcopy(CATALOG[::-1])
    for product in shuffled:
        product["lots"].reverse()
    assert make_catalog(CatalogPlatform({"vaccines": shuffled}), store).refresh(force=True)
    assert store.replaced == []


def _damaged(change: Callable[[list[dict[str, Any]]], Any]) -> dict[str, Any]:
    rows = copy.deepcopy(CATALOG)
    change(rows)
    return {"vaccines": rows}


@pytest.mark.parametrize("body", [
    _damaged(lambda rows: rows[1].update(trace_prefix="861200X")),
    _damaged(lambda rows: rows[1].update(trace_prefix="86120011")),
    _damaged(lambda rows: rows[1].update(doses="3")),
    _damaged(lambda rows: rows[1].pop("maker")),
    _damaged(lambda rows: rows[2]["lots"][0].update(expires="2027-02-30")),
    _damaged(lambda rows: rows[2]["lots"][0].update(serials=["1" * 13])),
    _damaged(lambda rows: rows[2]["lots"][0].update(serials=["2" * 13, "1" * 13])),
    _damaged(lambda rows: rows[3].update(code=rows[0]["code"])),
    _damaged(lambda rows: rows[3].update(trace_prefix=rows[0]["trace_prefix"])),
    _damaged(lambda rows: rows.append("HepB")),
    {"vaccines": {"HepB": {}}}, {"products": []}, ["not", "an", "object"],
])
def test_a_malformed_catalog_is_refused_whole_and_logged(
        body: Any, caplog: pytest.LogCaptureFixture) -> None:
    old = [{**CATALOG[0], "name": "旧的名字"}]
    store = RecordingStore(old)
    catalog = make_catalog(CatalogPlatform(body), store)
    with caplog.at_level(logging.WARNING, logger="server.catalog"):
        assert not catalog.refresh(force=True)
    assert store.replaced == [] and store.rows == old  # nothing half-applied
    assert "could not fetch the vaccine catalog" in caplog.text
    assert "not understood" in caplog.text or "not a JSON object" in caplog.text
    assert catalog.last_error and catalog.last_fetched_at is None


def test_an_unreachable_or_failing_platform_leaves_the_catalog_as_it_is() -> None:
    store = RecordingStore(CATALOG)
    platform = CatalogPlatform()
    platform.down = True
    catalog = make_catalog(platform, store)
    assert not catalog.refresh(force=True)
    platform.down, platform.status = False, 503
    assert not catalog.refresh(force=True)
    platform.status = 401
    assert not catalog.refresh(force=True)
    assert store.replaced == [] and store.rows == CATALOG
    assert catalog.status()["vaccines"] == len(CATALOG)


def test_an_empty_catalog_does_not_wipe_the_cached_one() -> None:
    store = RecordingStore(CATALOG)
    catalog = make_catalog(CatalogPlatform({"vaccines": []}), store)
    catalog.refresh(force=True)
    assert store.replaced == [] and store.rows == CATALOG


def test_an_unknown_product_asks_the_platform_at_most_once_per_retry_period() -> None:
    store, clock = RecordingStore(CATALOG[1:]), Clock()
    platform = CatalogPlatform()
    catalog = make_catalog(platform, store, clock)
    assert catalog.find(CATALOG[1]["code"]) is not None and platform.catalog_requests == 0
    assert catalog.find(CATALOG[0]["code"]) == CATALOG[0]  # asked, and now known
    assert platform.catalog_requests == 1
    assert catalog.find("Nope") is None  # within 30 s of the last try: the cache answers
    assert platform.catalog_requests == 1
    clock.now += 31
    assert catalog.find("Nope") is None and platform.catalog_requests == 2


def test_no_platform_configured_asks_nobody() -> None:
    store = RecordingStore(CATALOG)
    catalog = VaccineCatalog(store)
    assert not catalog.refresh(force=True) and catalog.find("Nope") is None


def test_sync_pulls_the_catalog_daily_and_reports_it(app: Flask) -> None:
    ext = app.extensions["clinicq"]
    platform = CatalogPlatform()
    client = PlatformClient("http://central", DEMO_STATION_ID, DEMO_STATION_TOKEN,
                            transport=platform)
    ext.station.keyring.connect(client, 30)
    store = RecordingStore()
    sync = Sync(ext.settings, ext.store, ext.station.keyring, client,
                catalog=VaccineCatalog(store, client))
    assert sync.run_once() == ext.settings.sync_interval
    status = sync.status()
    assert status["vaccines"] == len(CATALOG) and status["last_vaccines_at"]
    sync.run_once()
    assert platform.catalog_requests == 1  # once a day, not every round
    # a vaccination meeting an unknown product asks again (rate limited by the catalog)
    assert sync.refresh_vaccines() is False  # tried a moment ago
    assert platform.catalog_requests == 1


def test_the_station_health_reports_the_catalog(app: Flask) -> None:
    sync = app.extensions["clinicq.sync"].status()
    assert "last_vaccines_at" in sync and sync["vaccines"] == len(
        app.extensions["clinicq"].store.vaccines())


@pytest.fixture
def central(tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(create_central({
        "DATABASE_URL": f"sqlite:///{tmp_path / 'central.db'}", "DEMO": True}))
    try:
        yield server
    finally:
        server.stop()


def test_pull_from_a_real_platform_over_http(central: LiveServer, tmp_path: Path) -> None:
    import requests

    from server.store import Store

    store = Store(tmp_path / "station.db")
    try:
        client = PlatformClient(central.url, DEMO_STATION_ID, DEMO_STATION_TOKEN, timeout=5)
        catalog = VaccineCatalog(store, client)
        assert catalog.refresh(force=True)
        assert store.vaccines() == CATALOG
        # a product added on the platform is found when a vaccination asks for it
        added = {"name": "水痘减毒活疫苗", "name_en": "Varicella vaccine", "maker": "长春祈健",
                 "doses": 2, "interval_days": 90, "trace_prefix": "8612009",
                 "observation_minutes": 30, "lots": []}
        put = requests.put(f"{central.url}/api/v1/vaccines/VarV", json=added, timeout=5,
                           headers={"Authorization": f"Bearer {DEMO_ADMIN_TOKEN}"})
        assert put.status_code == 201, put.text
        catalog.retry_seconds = 0
        assert catalog.find("VarV") == {"code": "VarV", **added}
        wrong = PlatformClient(central.url, DEMO_STATION_ID, "wrong", timeout=5)
        assert not VaccineCatalog(store, wrong).refresh(force=True)
        assert len(store.vaccines()) == len(CATALOG) + 1
    finally:
        store.close()
