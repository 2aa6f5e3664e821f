"""Demo data of the reference central platform: station, services, vaccines, key, bookings.

The vaccine catalog is `contracts.demo.DEMO_VACCINES` and today's bookings are
`contracts.demo.demo_bookings` (same ids, names and slots): a demo station holds both too.

The demo signing key comes from a fixed, public seed so that a station server
can be seeded with the matching public key (`contracts.demo`); never use
it outside the demo.
"""

from __future__ import annotations

from datetime import timedelta

from central.inputs import NewBooking, minutes, parse_vaccine
from central.store import Store
from contracts.demo import (
    DEMO_BOOKING_COUNT,
    DEMO_KEY_ID,
    DEMO_NEIGHBOURS,
    DEMO_STATION_ID,
    DEMO_STATION_NAME,
    DEMO_STATION_PLACE,
    DEMO_STATION_TOKEN,
    DEMO_VACCINES,
    demo_bookings,
    demo_seed,
)

DEMO_ADMIN_TOKEN = "demo-central-admin-token"
DEMO_SERVICES: dict[str, tuple[str, str]] = {
    "V": ("接种", "vaccination"), "A": ("门诊", "clinic"), "B": ("体检", "exam"),
}
DEMO_BOOKINGS = DEMO_BOOKING_COUNT
# The neighbours have public demo tokens `demo-<id>-token` (demo only).


def seed_demo(store: Store, now: int, bookings: int = DEMO_BOOKINGS) -> int:
    """Add whatever of the demo is missing; returns how many bookings were created.

    Safe to run on every start: today's bookings are added only when the demo
    station has none for today yet.
    """
    demo = store.station(DEMO_STATION_ID)
    if demo is None:
        store.add_station(DEMO_STATION_ID, DEMO_STATION_NAME, DEMO_STATION_TOKEN,
                          DEMO_SERVICES, now, lat=DEMO_STATION_PLACE[0],
                          lon=DEMO_STATION_PLACE[1])
    elif demo["lat"] is None:  # registered before stations had a place
        store.place_station(DEMO_STATION_ID, *DEMO_STATION_PLACE)
    for station_id, name, lat, lon in DEMO_NEIGHBOURS:
        if store.station(station_id) is None:
            store.add_station(station_id, name, f"demo-{station_id}-token", DEMO_SERVICES,
                              now, lat=lat, lon=lon)
    # A demo product missing, or kept from before the catalog had trace prefixes, is put as
    # contracts.demo has it; one an administrator has since replaced is left alone.
    complete = {v["code"] for v in store.vaccines()}
    for product in DEMO_VACCINES:
        if product["code"] not in complete:
            store.put_vaccine(parse_vaccine(product["code"], product))
    if not any(k.key_id == DEMO_KEY_ID for k in store.public_keys(now)):
        store.rotate_key(DEMO_KEY_ID, demo_seed(), now)
    today = store.local_today(now)
    if store.bookings_for_day(DEMO_STATION_ID, today):
        return 0
    created = 0
    for booking in demo_bookings(today, bookings):
        vaccine = booking["vaccine"]
        new = NewBooking(
            station=DEMO_STATION_ID, service=booking["service"], day=today,
            slot_start=minutes(booking["slot_start"]), slot_end=minutes(booking["slot_end"]),
            name=booking["name"], phone=booking["phone"], birth_year=booking["birth_year"],
            priority=booking["priority"],
            vaccine_product=vaccine["product"] if vaccine else None,
            vaccine_dose=vaccine["dose"] if vaccine else None)
        store.create_booking(new, now, booking_id=booking["id"])
        created += 1
        if booking["status"] == "cancelled":
            store.cancel_booking(booking["id"], now + int(timedelta(minutes=1).total_seconds()))
    return created
