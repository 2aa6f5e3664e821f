"""Demo data (adapter): staff logins, paired devices and today's bookings for `--demo`."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from contracts.bookingcode import mask_name
from contracts.demo import DEMO_VACCINES, demo_public_keys

from .auth import Accounts
from .config import Settings
from .store import Store
from .sync import key_row

DEMO_USERS = (("demo-nurse", "demo-nurse", "nurse", "演示护士"),
              ("demo-doctor", "demo-doctor", "doctor", "演示医生"),
              ("demo-admin", "demo-admin", "admin", "演示管理员"))
DEMO_DEVICES = (("kiosk-1", "kiosk", "大厅自助机 1", "demo-kiosk-token"),
                ("display-1", "display", "候诊大屏", "demo-display-token"))

# Ages that fit each product (HPV for the young, pneumococcal and zoster for the old), so the
# desk's age check reads like a real day: (youngest, span of years).
_AGES = {"HepB": (18, 40), "Flu4": (6, 75), "HPV9": (16, 11), "PPV23": (65, 25),
         "RZV": (50, 35), None: (20, 60)}
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def demo_bookings(settings: Settings, day: date) -> list[dict]:
    """About forty bookings across services and 30-minute slots from 08:00 to 17:00."""
    rows = []
    services = [code for code in ("V", "A", "B") if code in settings.services] or \
        list(settings.services)
    for i in range(40):
        service = services[i % len(services)]
        vaccine: dict[str, Any] | None = None
        product: dict[str, Any] | None = None
        if service == "V":  # a catalog product and dose; every other one had a dose before
            product = DEMO_VACCINES[(i // 3) % len(DEMO_VACCINES)]
            dose = 1 + (i // 3) % product["doses"]
            vaccine = {"product": product["code"], "name": product["name"], "dose": dose}
            if dose > 1:
                # long enough ago for the interval, except for the HPV bookings
                days = product["interval_days"] + (-10 if product["code"] == "HPV9" else 30)
                vaccine["previous_dose_on"] = (day - timedelta(days=days)).isoformat()
        youngest, span = _AGES[product["code"] if product else None]
        slot_index = (i * 7) % 18
        start = f"{8 + slot_index // 2:02d}:{(slot_index % 2) * 30:02d}"
        end_min = 8 * 60 + slot_index * 30 + 30
        end = f"{end_min // 60:02d}:{end_min % 60:02d}"
        name = _SURNAMES[i % len(_SURNAMES)] + _GIVEN[(i * 3) % len(_GIVEN)] + \
            (_GIVEN[(i * 5 + 1) % len(_GIVEN)] if i % 3 else "")
        rows.append({
            "id": f"demo-{day:%Y%m%d}-{i + 1:03d}",
            "code": f"DEMO-{service}{i + 1:03d}",
            "station": settings.station_id, "service": service, "day": day.isoformat(),
            "slot_start": start, "slot_end": end, "name": name, "name_masked": mask_name(name),
            "phone_last4": f"{(1234 + i * 37) % 10000:04d}",
            "priority": int(i % 9 == 4),
            "status": "cancelled" if i % 13 == 12 else "booked",
            "updated_at": None,
            "vaccine": json.dumps(vaccine, ensure_ascii=False) if vaccine else None,
            "birth_year": day.year - youngest - (i * 7) % span,
        })
    return rows


def seed(settings: Settings, store: Store, accounts: Accounts, day: date) -> None:
    for username, password, role, display_name in DEMO_USERS:
        if store.user(username) is None:
            accounts.add_user(username, password, role, display_name=display_name)
    for device_id, kind, name, token in DEMO_DEVICES:
        accounts.pair_device(device_id, kind, name, token=token)
    store.upsert_bookings(demo_bookings(settings, day))
    seed_keys(store)
    if not store.vaccines():  # the platform's own catalog, once pulled, is not overwritten
        store.replace_vaccines([dict(v) for v in DEMO_VACCINES])


def seed_keys(store: Store) -> None:
    """The reference platform's demo public key, so demo codes verify with no platform running."""
    store.add_platform_keys(key_row(k) for k in demo_public_keys().values())
