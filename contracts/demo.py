"""Contracts (shared): what the demo platform and a demo station both know.

Today's demo bookings (`demo_bookings`): the platform seeds them, signed, and a demo station
seeds the same rows, so they are one set with one name each, offline or synced.
The station id and station token, and the booking-code signing key from a fixed public seed:
the reference platform signs demo bookings with it and a demo station trusts its public half,
so demo codes verify with no platform running. Never use any of it outside the demo.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .bookingcode import KeyInfo, public_key_bytes
from .names import mask_name

DEMO_STATION_ID = "demo-station"
DEMO_STATION_NAME = "幸福社区卫生服务站"
DEMO_STATION_TOKEN = "demo-station-token"
# Where the demo stations are: community health stations of one city (Hangzhou), the demo
# station and its neighbours (id, name, lat, lon). The platform registers them all; a demo
# station knows their names, to say where a booking of another station belongs.
DEMO_STATION_PLACE = (30.2741, 120.1551)
DEMO_NEIGHBOURS: tuple[tuple[str, str, float, float], ...] = (
    ("hz-wulin", "武林街道社区卫生服务站", 30.2765, 120.1638),
    ("hz-xihu", "西湖区北山街道卫生服务站", 30.2591, 120.1370),
    ("hz-gongshu", "拱墅区米市巷社区卫生服务站", 30.3006, 120.1596),
    ("hz-binjiang", "滨江区长河社区卫生服务站", 30.1936, 120.2100),
    ("hz-xiaoshan", "萧山区城厢街道卫生服务站", 30.1674, 120.2656),
)
DEMO_KEY_ID = "d1"


def demo_seed(key_id: str = DEMO_KEY_ID) -> bytes:
    return hashlib.sha256(b"clinicq demo signing key " + key_id.encode()).digest()


def demo_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(demo_seed())


def demo_public_keys() -> dict[str, KeyInfo]:
    """The key set a station needs to verify demo booking codes, by key id."""
    return {DEMO_KEY_ID: KeyInfo(DEMO_KEY_ID, public_key_bytes(demo_private_key()))}


def demo_keys_json() -> dict[str, Any]:
    """The same keys in the form of `GET /api/v1/keys`."""
    return {"keys": [key.to_json() for key in demo_public_keys().values()]}


# The demo vaccine catalog, as `GET /api/v1/vaccines` carries it (platform and station alike).
# A trace code (追溯码) is the product's 7-digit `trace_prefix` and 13 more digits; a lot lists
# the range of those 13 digits its boxes carry (`serials`), so a scanned code names its lot.
# `observation_minutes` is how long a resident stays in observation after this vaccine.
DEMO_VACCINES: tuple[dict[str, Any], ...] = (
    {"code": "HepB", "name": "乙型肝炎疫苗", "name_en": "Hepatitis B vaccine",
     "maker": "华北制药", "doses": 3, "interval_days": 28, "trace_prefix": "8612001",
     "observation_minutes": 30,
     "lots": [{"lot": "202603A", "expires": "2027-09-30",
               "serials": ["2026030000000", "2026039999999"]},
              {"lot": "202401C", "expires": "2025-12-31",
               "serials": ["2024010000000", "2024019999999"]}]},
    {"code": "Flu4", "name": "四价流感病毒裂解疫苗", "name_en": "Quadrivalent influenza vaccine",
     "maker": "华兰生物", "doses": 1, "interval_days": 0, "trace_prefix": "8612002",
     "observation_minutes": 30,
     "lots": [{"lot": "202608F", "expires": "2027-06-30",
               "serials": ["2026080000000", "2026089999999"]}]},
    {"code": "HPV9", "name": "九价人乳头瘤病毒疫苗", "name_en": "9-valent HPV vaccine",
     "maker": "默沙东", "doses": 3, "interval_days": 60, "trace_prefix": "8612003",
     "observation_minutes": 30,
     "lots": [{"lot": "202605H", "expires": "2028-05-31",
               "serials": ["2026050000000", "2026059999999"]}]},
    {"code": "PPV23", "name": "23价肺炎球菌多糖疫苗", "name_en": "23-valent pneumococcal vaccine",
     "maker": "沃森生物", "doses": 1, "interval_days": 0, "trace_prefix": "8612004",
     "observation_minutes": 30, "lots": []},
    {"code": "RZV", "name": "重组带状疱疹疫苗", "name_en": "Recombinant zoster vaccine",
     "maker": "葛兰素史克", "doses": 2, "interval_days": 60, "trace_prefix": "8612005",
     "observation_minutes": 30,
     "lots": [{"lot": "202607Z", "expires": "2027-12-31",
               "serials": ["2026070000000", "2026079999999"]}]},
)
# A box of the current HepB lot, for the README's walk-through and the tests.
DEMO_TRACE_CODE = "8612001" + "2026030000123"


# -- today's demo bookings ------------------------------------------------------------------

DEMO_BOOKING_COUNT = 40
DEMO_SERVICE_CODES = ("V", "A", "B")
# Ages that fit each product (HPV for the young, pneumococcal and zoster for the old), so the
# desk's age check reads like a real day: (youngest, span of years).
_AGES = {"HepB": (18, 40), "Flu4": (6, 75), "HPV9": (16, 11), "PPV23": (65, 25),
         "RZV": (50, 35), None: (20, 60)}
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def demo_booking_id(day: date, number: int) -> str:
    """`D261203001`: the day and the booking's number; a booking id is at most 10 letters and
    digits (contracts/bookingcode.py), so a day has at most 999 demo bookings."""
    if not 1 <= number <= 999:
        raise ValueError(f"demo booking number {number} is not 1-999")
    return f"D{day:%y%m%d}{number:03d}"


def demo_bookings(day: date, count: int = DEMO_BOOKING_COUNT) -> list[dict[str, Any]]:
    """The day's demo bookings of `DEMO_STATION_ID`, across services and 30-minute slots from
    08:00 to 17:00: the one set the platform signs (`central/demo.py`) and a demo station
    seeds (`server/demo.py`).

    Each has the platform's booking `id`, the `code` typed at a kiosk (`DEMO-V001`), `service`,
    `slot_start`/`slot_end` ("08:00"), the resident's `name`, `phone` and `birth_year`,
    `priority`, `status` ("booked" or "cancelled") and `vaccine` (`{"product", "name", "dose"}`
    and, for a later dose, `previous_dose_on`: the station's record of the dose before; the
    platform keeps no such record) or None.
    """
    rows = []
    for i in range(count):
        number = i + 1
        service = DEMO_SERVICE_CODES[i % len(DEMO_SERVICE_CODES)]
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
        start = 8 * 60 + 30 * ((i * 7) % 18)  # 08:00 … 16:30, spread over the day
        name = _SURNAMES[i % len(_SURNAMES)] + _GIVEN[(i * 3) % len(_GIVEN)] + \
            (_GIVEN[(i * 5 + 1) % len(_GIVEN)] if i % 3 else "")
        last4 = f"{(1234 + i * 37) % 10000:04d}"
        rows.append({
            "id": demo_booking_id(day, number), "code": f"DEMO-{service}{number:03d}",
            "station": DEMO_STATION_ID, "service": service, "day": day.isoformat(),
            "slot_start": _hhmm(start), "slot_end": _hhmm(start + 30),
            "name": name, "name_masked": mask_name(name),
            "phone": f"138{number:04d}{last4}", "phone_last4": last4,
            "birth_year": day.year - youngest - (i * 7) % span,
            "priority": i % 9 == 4,
            "status": "cancelled" if i % 13 == 12 else "booked",
            "vaccine": vaccine,
        })
    return rows


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
