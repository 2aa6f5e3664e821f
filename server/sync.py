"""Platform sync (layer 3, adapter): the cached key ring, the booking-feed pull, the vaccine
catalog's pull (server/catalog.py), the worker thread; the push of events and the heartbeat
are `server/push.py`'s, started and reported with it.

The station never waits for the platform: keys, the vaccine catalog and bookings are cached
in SQLite, check-in and vaccination read the cache, and the worker refreshes it in the
background (with backoff and jitter when the link is down). Only an unknown key id makes a
check-in ask the platform, once, with a short timeout, and at most once per
`key_retry_seconds`; an unknown vaccine product does the same (`Sync.refresh_vaccines`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Flask

from contracts.backoff import Backoff
from contracts.bookingcode import KeyInfo
from contracts.demo import DEMO_STATION_TOKEN

from .catalog import VaccineCatalog
from .config import Settings
from .platform import PlatformClient, PlatformError, PlatformRefused, PlatformUnavailable
from .push import HeartbeatSource, Pusher
from .store import Store

log = logging.getLogger(__name__)

FEED_CURSOR = "feed_cursor"  # meta key: the last feed cursor applied locally
LAST_PULL_AT = "last_pull_at"  # meta key: when the feed was last read to its end
FEED_PAGE_SIZE = 200
MAX_PAGES_PER_PULL = 100  # a pull ends even if the platform keeps saying "has_more"
KEYS_EVERY = 24 * 3600.0  # the key list is refreshed daily (and on an unknown key id)
VACCINES_EVERY = 24 * 3600.0  # the vaccine catalog too (and on an unknown product)
STATIONS_EVERY = 24 * 3600.0  # and the names of the other stations


def _utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _birth_year(resident: object) -> int | None:
    """`resident.birth_year` of a feed entry, when it is a year (the full name and phone stay
    at the platform: only what the desk checks is kept)."""
    year = resident.get("birth_year") if isinstance(resident, Mapping) else None
    return year if isinstance(year, int) and not isinstance(year, bool) else None


def key_row(key: KeyInfo) -> dict[str, Any]:
    doc = key.to_json()
    return {"kid": key.key_id, "public_key": doc["public_key"], "status": doc["status"],
            "created_at": key.created_at, "retired_at": key.retired_at,
            "verify_until": key.verify_until, "fetched_at": _utcnow()}


class KeyRing:
    """The platform's public keys as this station knows them: SQLite, cached in memory."""

    def __init__(self, store: Store, client: PlatformClient | None = None, *,
                 retry_seconds: float = 30.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.client = client
        self.retry_seconds = retry_seconds
        self._monotonic = monotonic
        self._keys: dict[str, KeyInfo] | None = None
        self._last_fetch: float | None = None
        self._fetch_lock = threading.Lock()

    def connect(self, client: PlatformClient | None, retry_seconds: float) -> None:
        self.client = client
        self.retry_seconds = retry_seconds

    def keys(self) -> Mapping[str, KeyInfo]:
        keys = self._keys
        if keys is None:
            keys = self.reload()
        return keys

    def reload(self) -> dict[str, KeyInfo]:
        keys: dict[str, KeyInfo] = {}
        for row in self.store.platform_keys():
            try:
                keys[row["kid"]] = KeyInfo.from_json(row)
            except (KeyError, ValueError):  # a damaged row must not hide the others
                log.warning("ignoring a cached platform key that does not parse: %s", row["kid"])
        self._keys = keys
        return keys

    def add(self, keys: Mapping[str, KeyInfo]) -> None:
        """Add keys without dropping others (demo seed)."""
        self.store.add_platform_keys(key_row(k) for k in keys.values())
        self.reload()

    def replace(self, keys: Mapping[str, KeyInfo]) -> None:
        """The platform's list as published: keys it no longer lists are revoked."""
        if not keys:
            # An empty list would stop every check-in; more likely a broken platform than
            # a revocation of everything, so keep what we have and say so.
            log.warning("the platform published no keys; keeping the cached ones")
            return
        self.store.replace_platform_keys(key_row(k) for k in keys.values())
        self.reload()

    def refresh(self, *, force: bool = False) -> bool:
        """Fetch the key list now, unless fetched within `retry_seconds` (or no platform is
        configured). True when a fresh list was applied."""
        if self.client is None:
            return False
        with self._fetch_lock:
            now = self._monotonic()
            if (not force and self._last_fetch is not None
                    and now - self._last_fetch < self.retry_seconds):
                # Someone fetched a moment ago (perhaps while we waited for the lock):
                # the cache is as fresh as the rate limit allows.
                self.reload()
                return False
            self._last_fetch = now
            try:
                keys = self.client.keys()
            except PlatformError as err:
                log.warning("could not fetch the platform's keys: %s", err)
                return False
            self.replace(keys)
            return True


def feed_row(entry: Mapping[str, Any], station_id: str) -> dict[str, Any]:
    """One booking of the platform's feed as a row of the local `bookings` table.

    The full name is not in the feed (only the masked one), so `name` is left as it is.
    """
    slot = entry.get("slot") or {}
    vaccine = entry.get("vaccine")
    changed = entry.get("updated_at")
    return {
        "id": str(entry["id"]), "code": str(entry.get("token") or f"feed:{entry['id']}"),
        "station": station_id, "service": str(entry["service"]), "day": str(entry["day"]),
        "slot_start": slot.get("start"), "slot_end": slot.get("end"),
        "name_masked": entry.get("name_masked"), "phone_last4": entry.get("phone_last4"),
        "priority": int(bool(entry.get("priority"))), "status": str(entry["status"]),
        "vaccine": json.dumps(vaccine, ensure_ascii=False) if vaccine else None,
        "changed_at": int(changed) if isinstance(changed, int) else None,
        "birth_year": _birth_year(entry.get("resident")),
        "updated_at": _utcnow(),
    }


def keep_local(row: dict[str, Any], known: Mapping[str, Any] | None) -> dict[str, Any]:
    """A feed row over a booking the station already has keeps what only the station knows:
    its typed code (a demo station's `DEMO-V001`; the feed has only the signed one), and the
    date of the dose before when the feed books the same product and dose (the platform keeps
    no such record)."""
    if known is None:
        return row
    row = {**row, "code": known["code"]}
    if row["vaccine"] and known.get("vaccine"):
        try:
            mine, theirs = json.loads(known["vaccine"]), json.loads(row["vaccine"])
        except ValueError:
            return row
        previous = mine.get("previous_dose_on") if isinstance(mine, dict) else None
        if previous and isinstance(theirs, dict) and "previous_dose_on" not in theirs and (
                mine.get("product"), mine.get("dose")) == (theirs.get("product"),
                                                            theirs.get("dose")):
            row["vaccine"] = json.dumps({**theirs, "previous_dose_on": previous},
                                        ensure_ascii=False)
    return row


class Sync:
    """Keeps the key ring, the vaccine catalog and the bookings table in step with the platform."""

    def __init__(self, settings: Settings, store: Store, keyring: KeyRing,
                 client: PlatformClient | None, *, page_size: int = FEED_PAGE_SIZE,
                 catalog: VaccineCatalog | None = None, pusher: Pusher | None = None) -> None:
        self.settings = settings
        self.page_size = page_size
        self.store = store
        self.keyring = keyring
        self.client = client
        self.catalog = catalog
        self.pusher = pusher or Pusher(store, None)
        self.last_pull_at: str | None = store.get_meta(LAST_PULL_AT)
        self.last_keys_at: str | None = None
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # jitter: stations that lost the platform together do not come back in step
        # capped low, so that a platform that returns is caught up with within about a minute
        self._backoff = Backoff(min(settings.sync_interval, 5.0), settings.backoff_max,
                                jitter=True)
        self._keys_due = 0.0
        self._vaccines_due = 0.0
        self._stations_due = 0.0

    @property
    def configured(self) -> bool:
        return self.client is not None

    def pull_feed(self) -> int:
        """Apply feed pages until the platform has no more; returns the bookings applied.

        Each page and the cursor after it are written in one transaction, so a page applied
        twice (a crash, a retry) changes nothing and no page is ever skipped.
        """
        if self.client is None:
            return 0
        applied = 0
        cursor = self.store.get_meta(FEED_CURSOR) or ""
        for _ in range(MAX_PAGES_PER_PULL):
            page = self.client.feed_page(cursor, self.page_size)
            rows = []
            for entry in page.bookings:
                try:
                    rows.append(feed_row(entry, self.settings.station_id))
                except (KeyError, TypeError, ValueError):
                    log.warning("skipping a feed entry that does not parse: %.200r", entry)
            known = self.store.bookings_by_id(row["id"] for row in rows)
            rows = [keep_local(row, known.get(row["id"])) for row in rows]
            self.store.apply_feed_page(rows, FEED_CURSOR, page.next_cursor)
            applied += len(rows)
            cursor = page.next_cursor
            if not page.has_more or not page.bookings:
                break
        self.last_pull_at = _utcnow()
        self.store.set_meta(LAST_PULL_AT, self.last_pull_at)
        return applied

    def pull_station_names(self) -> bool:
        """Store the platform's station directory (names of the other stations). True when
        done, or when the platform has no directory (its refusal: asked again the next day);
        False when it could not be reached (asked again the next round)."""
        if self.client is None:
            return False
        try:
            names = self.client.station_names()
        except PlatformRefused as err:
            log.info("the platform has no station directory: %s", err)
            return True
        except PlatformError as err:
            log.warning("could not fetch the platform's station directory: %s", err)
            return False
        self.store.put_station_names(names, _utcnow())
        return True

    def run_once(self) -> float:
        """One round (keys when due, then the feed); returns seconds until the next round."""
        if self.client is None:
            return self.settings.sync_interval
        try:
            if time.monotonic() >= self._keys_due:
                if self.keyring.refresh(force=True):
                    self.last_keys_at = _utcnow()
                    self._keys_due = time.monotonic() + KEYS_EVERY
            if self.catalog is not None and time.monotonic() >= self._vaccines_due:
                if self.catalog.refresh(force=True):
                    self._vaccines_due = time.monotonic() + VACCINES_EVERY
            if time.monotonic() >= self._stations_due and self.pull_station_names():
                self._stations_due = time.monotonic() + STATIONS_EVERY
            self.pull_feed()
        except PlatformError as err:
            self.last_error = str(err)
            delay = self._backoff.delay()
            log.warning("sync with the platform failed (%d in a row): %s",
                        self._backoff.failures, err)
            if isinstance(err, PlatformUnavailable) and err.retry_after:
                delay = max(delay, err.retry_after)  # after the jitter: never sooner than asked
            return delay
        self._backoff.reset()
        self.last_error = None
        return self.settings.sync_interval

    def refresh_vaccines(self) -> bool:
        """Ask the platform for its vaccine catalog now (a vaccination met a product the station
        does not know); at most once per `key_retry_seconds`. True when a fresh catalog came."""
        return self.catalog is not None and self.catalog.refresh()

    def start(self) -> None:
        """Sync now and then every `sync_interval` seconds, in a daemon thread."""
        if self.client is None or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="clinicq-sync", daemon=True)
        self._thread.start()
        self.pusher.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                delay = self.run_once()
            except Exception:  # the worker must outlive a bug in one round
                log.exception("sync round failed")
                delay = self.settings.sync_interval
            self._stop.wait(delay)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.pusher.stop(timeout)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        # the HTTP connections too (a later start opens new ones)
        for client in (self.client, self.pusher.client):
            close = getattr(client.transport, "close", None) if client is not None else None
            if close is not None:
                close()

    def status(self) -> dict[str, Any]:
        catalog = self.catalog.status() if self.catalog is not None else {
            "last_vaccines_at": None, "vaccines": None}
        return {"state": "ok" if self.configured and not self.last_error else
                ("not_configured" if not self.configured else "error"),
                "last_pull_at": self.last_pull_at, "last_keys_at": self.last_keys_at,
                "last_error": self.last_error, "keys": len(self.keyring.keys()), **catalog,
                **self.pusher.status()}


def platform_client(settings: Settings) -> PlatformClient | None:
    """A client of the configured platform (each thread that talks to it has its own)."""
    if not settings.central_url:
        return None
    token = settings.central_token
    if not token and settings.demo:
        token = DEMO_STATION_TOKEN
    return PlatformClient(settings.central_url, settings.station_id, token,
                          timeout=settings.central_timeout)


def init_app(app: Flask, settings: Settings, store: Store, keyring: KeyRing, *,
             heartbeat: HeartbeatSource | None = None) -> Sync:
    """Connect the key ring and the vaccine catalog to the platform (when configured) and keep
    the worker at `app.extensions["clinicq.sync"]` (its `catalog` and `refresh_vaccines()` are
    for the vaccination desk, its `pusher.wake` listens to the station's commits).
    `clinicq serve` starts them, tests start what they need."""
    client = platform_client(settings)
    keyring.connect(client, settings.key_retry_seconds)
    catalog = VaccineCatalog(store, client, retry_seconds=settings.key_retry_seconds)
    # its own client: the pusher's thread does not share the puller's HTTP session
    pusher = Pusher(store, platform_client(settings), batch_size=settings.push_batch_size,
                    backoff_max=settings.backoff_max, heartbeat_seconds=settings.heartbeat_seconds,
                    heartbeat=heartbeat)
    sync = Sync(settings, store, keyring, client, catalog=catalog, pusher=pusher)
    app.extensions["clinicq.sync"] = sync
    return sync
