"""Tests for contracts/bookingcode.py: the conformance cases, properties, size limits."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.bookingcode import (
    ERROR_CODES,
    MAX_TOKEN_CHARS,
    BookingClaims,
    KeyInfo,
    TokenError,
    check_rules,
    decode_token,
    keys_from_json,
    public_key_bytes,
    sign_booking,
    verify_token,
)

CASES_DIR = Path(__file__).parent / "data" / "tokens"
CASE_FILES = sorted(CASES_DIR.glob("*.json"))
KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"unit test key").digest())
KEYS = {"u1": KeyInfo("u1", public_key_bytes(KEY))}


def load_case(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def case_token(doc: dict[str, Any]) -> str | bytes:
    return bytes.fromhex(doc["token_hex"]) if "token_hex" in doc else doc["token"]


def outcome(stage: Any) -> str:
    try:
        stage()
    except TokenError as err:
        return err.code
    return "ok"


def claims_json(claims: BookingClaims) -> dict[str, Any]:
    return {**claims.__dict__, "day": claims.day.isoformat()}


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_conformance_case(path: Path) -> None:
    doc = load_case(path)
    token = case_token(doc)
    expected = doc["expected"]
    keys = keys_from_json(doc["keys"])
    ctx = doc["context"]
    assert outcome(lambda: decode_token(token)) == expected["decode"]
    if expected["decode"] != "ok":
        return
    assert claims_json(decode_token(token)[0]) == doc["claims"]
    assert outcome(lambda: verify_token(token, keys)) == expected["verify"]
    if expected["verify"] != "ok":
        return
    claims = verify_token(token, keys)
    rules = outcome(lambda: check_rules(
        claims, station_id=ctx["station_id"], today=date.fromisoformat(ctx["today"]),
        now=datetime.fromisoformat(ctx["now"]), cancelled=set(ctx["cancelled"])))
    assert rules == expected["rules"]


def test_conformance_files_are_current() -> None:
    spec = importlib.util.spec_from_file_location("make_cases", CASES_DIR / "make_cases.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built = module.build_cases()
    assert sorted(built) == [p.stem for p in CASE_FILES]
    for path in CASE_FILES:
        assert built[path.stem] == load_case(path), f"{path.name} is stale: run make_cases.py"


def test_every_error_code_has_a_case() -> None:
    seen = set()
    for path in CASE_FILES:
        seen.update(v for v in load_case(path)["expected"].values() if v not in (None, "ok"))
    assert seen == set(ERROR_CODES)


def test_messages_are_bilingual() -> None:
    with pytest.raises(TokenError) as info:
        check_rules(BIGGEST, station_id="elsewhere", today=BIGGEST.day,
                    now=datetime(2026, 1, 1).astimezone())
    assert info.value.code == "booking_wrong_station"
    # the station's id stays a parameter (for staff and logs); a resident reads no raw id
    assert info.value.params["station"] == "demo-station"
    assert "demo-station" not in info.value.message + info.value.message_zh
    assert any("\u4e00" <= ch <= "\u9fff" for ch in info.value.message_zh)


BIGGEST = BookingClaims(
    booking_id="Z" * 10, station_id="demo-station", service="VV", day=date(2140, 1, 1),
    slot_start=1439, slot_end=1440, expires=2**32 - 1,
    masked_name="\U00020000*\U0002a6d6", priority=True,
)


def test_largest_claims_fit_limits_and_qr_version_10() -> None:
    token = sign_booking(BIGGEST, KEY, "abcd")
    assert len(token) <= MAX_TOKEN_CHARS
    assert segno.make(token, error="m", micro=False).version <= 10


def test_typical_token_is_qr_version_8() -> None:
    claims = BookingClaims("B7K2M9QX", "demo-station", "V", date(2026, 3, 16), 540, 570,
                           1773676800, "张*三", False)
    token = sign_booking(claims, KEY, "u1")
    assert segno.make(token, error="m", micro=False).version <= 8


def test_scanner_line_endings_are_ignored() -> None:
    claims = replace_day(date(2026, 3, 16))
    token = sign_booking(claims, KEY, "u1")
    assert verify_token(token + "\r\n", KEYS) == claims
    assert verify_token(token.encode(), KEYS) == claims


def replace_day(day: date) -> BookingClaims:
    return BookingClaims("B1", "demo-station", "A", day, 480, 510, 1773676800)


def test_sign_refuses_out_of_range_claims() -> None:
    with pytest.raises(ValueError):
        sign_booking(BookingClaims("B1", "Demo Station!", "V", date(2026, 3, 16), 480, 510, 0),
                     KEY, "u1")
    with pytest.raises(ValueError):
        sign_booking(replace_day(date(2026, 3, 16)), KEY, "toolong")


def test_cancelled_accepts_callable_and_clock_far_behind() -> None:
    claims = replace_day(date(2026, 3, 16))
    now = datetime(2026, 3, 16, 9, 0).astimezone()
    with pytest.raises(TokenError, match="booking_cancelled"):
        check_rules(claims, station_id="demo-station", today=claims.day, now=now,
                    cancelled=lambda booking_id: booking_id == "B1")
    with pytest.raises(TokenError, match="clock_suspect"):
        check_rules(claims, station_id="demo-station", today=claims.day - timedelta(days=800),
                    now=now)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300),
                 st.text(max_size=300).map(lambda s: "BK1:" + s),
                 st.binary(max_size=200).map(lambda b: b"BK1:" + b)))
def test_arbitrary_input_raises_only_token_error(text: str | bytes) -> None:
    try:
        verify_token(text, KEYS)
    except TokenError as err:
        assert err.code in ERROR_CODES


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=150))
def test_arbitrary_base45_payload_raises_only_token_error(payload: bytes) -> None:
    import base45

    try:
        verify_token("BK1:" + base45.b45encode(payload).decode(), KEYS)
    except TokenError as err:
        assert err.code in ERROR_CODES


_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
claims_strategy = st.builds(
    BookingClaims,
    booking_id=st.text(_ALNUM, min_size=1, max_size=10),
    station_id=st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12),
    service=st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=2),
    day=st.dates(min_value=date(1970, 1, 1), max_value=date(2149, 6, 1)),
    slot_start=st.integers(0, 1439),
    slot_end=st.just(1440),
    expires=st.integers(0, 2**32 - 1),
    masked_name=st.text(max_size=3).filter(lambda s: "\x00" not in s),
    priority=st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(claims_strategy, st.text(_ALNUM, min_size=1, max_size=4))
def test_sign_verify_round_trip(claims: BookingClaims, key_id: str) -> None:
    token = sign_booking(claims, KEY, key_id)
    assert len(token) <= MAX_TOKEN_CHARS
    assert verify_token(token, {key_id: KeyInfo(key_id, public_key_bytes(KEY))}) == claims
    assert decode_token(token)[1] == key_id
