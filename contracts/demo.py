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
