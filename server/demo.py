"""Demo data (adapter): staff logins, paired devices and today's bookings for `--demo`."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from contracts.demo import (
    DEMO_NEIGHBOURS,
    DEMO_STATION_ID,
    DEMO_STATION_NAME,
    DEMO_VACCINES,
    demo_public_keys,
)
from contracts.demo import demo_bookings as shared_demo_bookings

from .auth import Accounts
from .config import Settings
from .store import Store
from .sync import keep_local, key_row

DEMO_USERS = (("demo-nurse", "demo-nurse", "nurse", "演示护士"),
              ("demo-doctor", "demo-doctor", "doctor", "演示医生"),
              ("demo-admin", "demo-admin", "admin", "演示管理员"))
DEMO_DEVICES = (("kiosk-1", "kiosk", "大厅自助机 1", "demo-kiosk-token"),
                ("display-1", "display", "候诊大屏", "demo-display-token"))
# what a station's `bookings` row keeps of a demo booking as it is (the full phone stays at the
# platform, as it does for a booking of the feed)
_COLUMNS = ("id", "code", "service", "day", "slot_start", "slot_end", "name", "name_masked",
            "phone_last4", "status", "birth_year")


def demo_bookings(settings: Settings, day: date) -> list[dict]:
    """The day's demo bookings (`contracts.demo.demo_bookings`, the set the reference platform
    signs) as rows of the station's `bookings` table."""
    rows = []
    for booking in shared_demo_bookings(day):
        vaccine = booking["vaccine"]
        rows.append({
            **{key: booking[key] for key in _COLUMNS},
            "station": settings.station_id, "priority": int(booking["priority"]),
            "updated_at": None,
            "vaccine": json.dumps(vaccine, ensure_ascii=False) if vaccine else None,
        })
    return rows


def seed(settings: Settings, store: Store, accounts: Accounts, day: date) -> None:
    for username, password, role, display_name in DEMO_USERS:
        if store.user(username) is None:
            accounts.add_user(username, password, role, display_name=display_name)
    for device_id, kind, name, token in DEMO_DEVICES:
        accounts.pair_device(device_id, kind, name, token=token)
    rows = demo_bookings(settings, day)
    # A booking the station has already (seeded at an earlier start, or pulled from the
    # platform's feed) stays as it is, for the platform may have changed it since and its feed
    # will not say so again; it only gets its typed code and its full name.
    known = store.bookings_by_id(row["id"] for row in rows)
    rows = [row if row["id"] not in known else
            {**keep_local(known[row["id"]], row), "name": known[row["id"]]["name"] or row["name"]}
            for row in rows]
    # the typed codes are the same every day: an earlier day's row gives its code up
    store.upsert_bookings(rows, take_codes=True)
    # rows of the demo set a station seeded before it was the platform's set (`demo-20261203-001`)
    store.delete_unused_bookings("demo-________-___")
    seed_keys(store)
    store.put_station_names({DEMO_STATION_ID: DEMO_STATION_NAME} | {
        station_id: name for station_id, name, _, _ in DEMO_NEIGHBOURS},
        datetime.now(UTC).isoformat(timespec="seconds"))
    if not store.vaccines():  # the platform's own catalog, once pulled, is not overwritten
        store.replace_vaccines([dict(v) for v in DEMO_VACCINES])


def seed_keys(store: Store) -> None:
    """The reference platform's demo public key, so demo codes verify with no platform running."""
    store.add_platform_keys(key_row(k) for k in demo_public_keys().values())
