"""Contracts (shared): what the demo platform and a demo station both know.

The station id and station token, and the booking-code signing key from a fixed public seed:
the reference platform signs demo bookings with it and a demo station trusts its public half,
so demo codes verify with no platform running. Never use any of it outside the demo.
"""

from __future__ import annotations

import hashlib
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .bookingcode import KeyInfo, public_key_bytes

DEMO_STATION_ID = "demo-station"
DEMO_STATION_TOKEN = "demo-station-token"
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
