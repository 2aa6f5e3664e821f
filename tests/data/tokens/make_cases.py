"""Generates the booking-token conformance cases in this folder; test data tooling.

Run `python tests/data/tokens/make_cases.py` from the repository root. Keys come
from fixed seeds and Ed25519 signing is deterministic, so the output is the
same on every run; tests/test_bookingcode.py checks the files are current.

Each case is one JSON file:
    {"description", "token" | "token_hex", "keys": {"keys": [...]},
     "context": {"station_id", "today", "now", "cancelled"},
     "claims": {...} (when the token decodes),
     "expected": {"decode": "ok" | code, "verify": "ok" | code | null,
                  "rules": "ok" | code | null}}
`null` means the stage is not reached. `token_hex` holds raw bytes input.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import base45
import cbor2
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from contracts.bookingcode import BookingClaims, KeyInfo, public_key_bytes, sign_booking  # noqa: E402

STATION = "test-station"
TODAY = date(2026, 3, 16)
NOW = "2026-03-16T09:12:00+08:00"
END_OF_TODAY = 1773676800  # 2026-03-17T00:00:00+08:00
RETIRED_AT = 1773504000  # 2026-03-15T00:00:00+08:00


def test_key(key_id: str) -> Ed25519PrivateKey:
    """A fixed, public test key; never use these seeds anywhere else."""
    seed = hashlib.sha256(b"clinicq conformance test key " + key_id.encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def key_set() -> dict[str, Any]:
    active = KeyInfo("t2", public_key_bytes(test_key("t2")), created_at=RETIRED_AT)
    # t1 was retired yesterday; the latest code it signed expires at the end of today.
    retired = KeyInfo("t1", public_key_bytes(test_key("t1")), created_at=1767196800,
                      retired_at=RETIRED_AT, verify_until=END_OF_TODAY)
    return {"keys": [active.to_json(), retired.to_json()]}


BASE = BookingClaims(
    booking_id="B7K2M9QX", station_id=STATION, service="V", day=TODAY,
    slot_start=9 * 60, slot_end=9 * 60 + 30, expires=END_OF_TODAY,
    masked_name="张*三", priority=True,
)


def claims_json(claims: BookingClaims) -> dict[str, Any]:
    return {
        "booking_id": claims.booking_id, "station_id": claims.station_id,
        "service": claims.service, "day": claims.day.isoformat(),
        "slot_start": claims.slot_start, "slot_end": claims.slot_end,
        "expires": claims.expires, "masked_name": claims.masked_name,
        "priority": claims.priority,
    }


def wrap(body: bytes, signature: bytes) -> str:
    return "BK1:" + base45.b45encode(cbor2.dumps([body, signature])).decode()


def unwrap(token: str) -> tuple[bytes, bytes]:
    body, signature = cbor2.loads(base45.b45decode(token[4:]))
    return body, signature


def signed(claims: BookingClaims = BASE, key_id: str = "t2") -> str:
    return sign_booking(claims, test_key(key_id), key_id)


def case(description: str, token: str | bytes, expected: tuple[str, str | None, str | None],
         claims: BookingClaims | None = None, now: str = NOW,
         cancelled: tuple[str, ...] = ()) -> dict[str, Any]:
    doc: dict[str, Any] = {"description": description}
    if isinstance(token, bytes):
        doc["token_hex"] = token.hex()
    else:
        doc["token"] = token
    doc["keys"] = key_set()
    doc["context"] = {"station_id": STATION, "today": TODAY.isoformat(), "now": now,
                      "cancelled": list(cancelled)}
    if claims is not None:
        doc["claims"] = claims_json(claims)
    doc["expected"] = dict(zip(("decode", "verify", "rules"), expected, strict=True))
    return doc


def build_cases() -> dict[str, dict[str, Any]]:
    body, sig = unwrap(signed())
    # Change the slot from 09:00 to 10:00 inside the signed body.
    later = replace(BASE, slot_start=600, slot_end=630)
    later_body, _ = unwrap(signed(later))
    bad_sig = bytes([sig[0] ^ 0x01]) + sig[1:]
    nine_items = cbor2.dumps(cbor2.loads(body)[:9])
    other_station = replace(BASE, station_id="east-station")
    tomorrow = replace(BASE, day=date(2026, 3, 17), expires=END_OF_TODAY + 86400)
    early_expiry = replace(BASE, expires=END_OF_TODAY - 86400 + 3600 * 8)  # 08:00 today
    ok = ("ok", "ok", "ok")
    return {
        "01-valid": case("A genuine code for today at this station.", signed(), ok, BASE),
        "02-valid-retired-key": case(
            "Signed by the retired key before it was retired; still accepted.",
            signed(key_id="t1"), ok, BASE),
        "03-tampered-body": case(
            "The body was edited (slot moved to 10:00) and the old signature kept.",
            wrap(later_body, sig), ("ok", "token_bad_signature", None), later),
        "04-tampered-signature": case(
            "One bit of the signature flipped.", wrap(body, bad_sig),
            ("ok", "token_bad_signature", None), BASE),
        "05-unknown-key": case(
            "Signed by a key id the station has never seen.", signed(key_id="t9"),
            ("ok", "token_unknown_key", None), BASE),
        "06-retired-key": case(
            "Signed by the retired key for a validity it never granted (after retirement).",
            signed(tomorrow, key_id="t1"), ("ok", "token_retired_key", None), tomorrow),
        "07-another-station": case(
            "A genuine code for another station.", signed(other_station),
            ("ok", "ok", "booking_wrong_station"), other_station),
        "08-another-day": case(
            "A genuine code for tomorrow.", signed(tomorrow),
            ("ok", "ok", "booking_wrong_day"), tomorrow),
        "09-expired": case(
            "A genuine code for today that expired at 08:00.", signed(early_expiry),
            ("ok", "ok", "booking_expired"), early_expiry),
        "10-cancelled": case(
            "A genuine code whose booking was cancelled.", signed(),
            ("ok", "ok", "booking_cancelled"), BASE, cancelled=(BASE.booking_id,)),
        "11-clock-suspect": case(
            "A genuine code read by a station whose clock says 2000.", signed(),
            ("ok", "ok", "clock_suspect"), BASE, now="2000-01-01T00:05:00+08:00"),
        "12-wrong-prefix": case(
            "An EU health certificate prefix instead of BK1.", "HC1:" + signed()[4:],
            ("token_wrong_prefix", None, None)),
        "13-bad-base45": case(
            "Characters outside the Base45 alphabet.", "BK1:ab!?",
            ("token_bad_encoding", None, None)),
        "14-bad-cbor": case(
            "Valid Base45 that is not CBOR (a truncated array).",
            "BK1:" + base45.b45encode(b"\x82\x58\x40\x00").decode(),
            ("token_bad_cbor", None, None)),
        "15-wrong-shape": case(
            "A signed body with 9 items instead of 10.",
            wrap(nine_items, test_key("t2").sign(b"BK1" + nine_items)),
            ("token_bad_shape", None, None)),
        "16-oversized": case(
            "2 KB of Base45 characters: refused without being decoded.", "BK1:" + "0" * 2048,
            ("token_too_large", None, None)),
        "17-empty": case("An empty scan (only the scanner's CR/LF).", "\r\n",
                         ("token_empty", None, None)),
        "18-binary-junk": case(
            "Binary bytes from a misread barcode.",
            bytes(range(0, 256, 7)), ("token_wrong_prefix", None, None)),
    }


def main() -> int:
    for old in HERE.glob("*.json"):
        old.unlink()
    for name, doc in build_cases().items():
        text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
        (HERE / f"{name}.json").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
