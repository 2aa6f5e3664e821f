"""Signed booking QR tokens (BK1): encode, decode, verify, check rules; pure domain code, no I/O.

Used by both sides: the central platform signs (`sign_booking`), the station
verifies offline (`verify_token`, then `check_rules`). The format is described
in docs/booking-token.md.

    token = "BK1:" + Base45(CBOR [body: bstr, signature: bstr(64)])
    body  = CBOR [version, key_id, booking_id, station_id, service, day,
                  [slot_start, slot_end], expires, masked_name, priority]
    signature = Ed25519(private_key, b"BK1" + body)

Errors: every refusal is a `TokenError` with a stable `code` and a message in
English and Chinese that a resident can read (`error.<code>` in the catalog). The stage
that raises it:

    TokenError
      decode_token:  token_empty, token_too_large, token_wrong_prefix,
                     token_bad_encoding, token_bad_cbor, token_bad_shape
      verify_token:  token_unknown_key, token_retired_key, token_bad_signature
      check_rules:   clock_suspect, booking_wrong_station, booking_wrong_day,
                     booking_expired, booking_cancelled
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import base45
import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from . import i18n

PREFIX = "BK1:"
SIGNING_CONTEXT = b"BK1"
VERSION = 1
MAX_TOKEN_CHARS = 200
# Anything longer is refused before it is read: a scanner or a hostile page
# must not make the kiosk decode megabytes.
MAX_INPUT_BYTES = 1024
EPOCH_DAY = date(1970, 1, 1)
# Field limits chosen so that the largest valid claims still give a token of
# at most MAX_TOKEN_CHARS (see docs/booking-token.md for the byte budget).
MAX_KEY_ID = 4
MAX_BOOKING_ID = 10
MAX_STATION_ID = 12
MAX_SERVICE = 2
MAX_MASKED_NAME = 3
_KEY_ID_RE = re.compile(rf"[A-Za-z0-9]{{1,{MAX_KEY_ID}}}")
_BOOKING_ID_RE = re.compile(rf"[A-Za-z0-9]{{1,{MAX_BOOKING_ID}}}")
_STATION_ID_RE = re.compile(rf"[a-z0-9-]{{1,{MAX_STATION_ID}}}")
_SERVICE_RE = re.compile(rf"[A-Z]{{1,{MAX_SERVICE}}}")
# A station clock before this is certainly wrong (dead RTC battery, 1970/2000).
CLOCK_FLOOR = datetime(2024, 1, 1, tzinfo=UTC)
# The platform books at most this far ahead; a code further in the future
# than this means the station's clock is behind, not that the code is early.
MAX_DAYS_AHEAD = 366


class TokenError(Exception):
    """A booking code refused: a stable code, and the parameters its words need.

    The words are `error.<code>` in the catalog (contracts/i18n.py); `message` and
    `message_zh` read them there.
    """

    def __init__(self, code: str, **params: str) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    @property
    def message(self) -> str:
        return i18n.text(f"error.{self.code}", "en", **self.params)

    @property
    def message_zh(self) -> str:
        return i18n.text(f"error.{self.code}", "zh", **self.params)


ERROR_CODES: tuple[str, ...] = (
    "token_empty", "token_too_large", "token_wrong_prefix", "token_bad_encoding",
    "token_bad_cbor", "token_bad_shape", "token_unknown_key", "token_retired_key",
    "token_bad_signature", "clock_suspect", "booking_wrong_station", "booking_wrong_day",
    "booking_expired", "booking_cancelled",
)


@dataclass(frozen=True)
class BookingClaims:
    """What a booking code asserts. `slot_*` are minutes since local midnight."""

    booking_id: str
    station_id: str
    service: str
    day: date
    slot_start: int
    slot_end: int
    expires: int  # unix seconds; the code is refused at and after this instant
    masked_name: str = ""
    priority: bool = False

    def validate(self) -> None:
        """Raise ValueError when a field is outside the documented limits."""
        problems = []
        if not _BOOKING_ID_RE.fullmatch(self.booking_id):
            problems.append("booking_id")
        if not _STATION_ID_RE.fullmatch(self.station_id):
            problems.append("station_id")
        if not _SERVICE_RE.fullmatch(self.service):
            problems.append("service")
        if not 0 <= (self.day - EPOCH_DAY).days < 65536:
            problems.append("day")
        if not 0 <= self.slot_start < self.slot_end <= 1440:
            problems.append("slot")
        if not 0 <= self.expires < 2**32:
            problems.append("expires")
        if len(self.masked_name) > MAX_MASKED_NAME:
            problems.append("masked_name")
        if problems:
            raise ValueError("booking claims out of range: " + ", ".join(problems))


@dataclass(frozen=True)
class KeyInfo:
    """A platform public key as the station knows it.

    `verify_until` (unix seconds) is set when the key is retired: it is the
    latest `expires` of any code the key signed. A code from this key that
    claims to be valid later than that cannot be one the platform issued
    (the platform signs nothing with a retired key), so it is refused as
    `token_retired_key`. `None` means the key is active.
    """

    key_id: str
    public_key: bytes  # raw 32-byte Ed25519 public key
    created_at: int | None = None
    retired_at: int | None = None
    verify_until: int | None = None
    _loaded: Ed25519PublicKey | None = field(default=None, repr=False, compare=False)

    @property
    def status(self) -> str:
        return "active" if self.retired_at is None else "retired"

    def ed25519(self) -> Ed25519PublicKey:
        # Cached on the frozen instance: loading costs more than verifying.
        if self._loaded is None:
            object.__setattr__(self, "_loaded", Ed25519PublicKey.from_public_bytes(self.public_key))
        assert self._loaded is not None
        return self._loaded

    def to_json(self) -> dict[str, Any]:
        return {
            "kid": self.key_id,
            "alg": "Ed25519",
            "public_key": base64.urlsafe_b64encode(self.public_key).decode().rstrip("="),
            "status": self.status,
            "created_at": self.created_at,
            "retired_at": self.retired_at,
            "verify_until": self.verify_until,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> KeyInfo:
        """Parse one entry of the platform's `GET /api/v1/keys` answer."""
        raw = str(doc["public_key"])
        public = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        if doc.get("alg", "Ed25519") != "Ed25519" or len(public) != 32:
            raise ValueError("not an Ed25519 public key")
        return cls(str(doc["kid"]), public, _opt_int(doc.get("created_at")),
                   _opt_int(doc.get("retired_at")), _opt_int(doc.get("verify_until")))


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def keys_from_json(doc: Mapping[str, Any]) -> dict[str, KeyInfo]:
    """The `{"keys": [...]}` document of `GET /api/v1/keys` as a key-id mapping."""
    keys = (KeyInfo.from_json(entry) for entry in doc["keys"])
    return {key.key_id: key for key in keys}


def public_key_bytes(private_key: Ed25519PrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def _encode_body(claims: BookingClaims, key_id: str) -> bytes:
    return cbor2.dumps([
        VERSION, key_id, claims.booking_id, claims.station_id, claims.service,
        (claims.day - EPOCH_DAY).days, [claims.slot_start, claims.slot_end],
        claims.expires, claims.masked_name, claims.priority,
    ])


def sign_booking(booking: BookingClaims, private_key: Ed25519PrivateKey, key_id: str) -> str:
    """The QR text for a booking; ValueError if a claim is outside the limits."""
    booking.validate()
    if not _KEY_ID_RE.fullmatch(key_id):
        raise ValueError("key_id must be 1-4 ASCII letters or digits")
    body = _encode_body(booking, key_id)
    signature = private_key.sign(SIGNING_CONTEXT + body)
    encoded: bytes = base45.b45encode(cbor2.dumps([body, signature]))
    token = PREFIX + encoded.decode("ascii")
    # The limits above make this impossible; keep the promise checked anyway.
    if len(token) > MAX_TOKEN_CHARS:
        raise ValueError(f"token is {len(token)} characters, over {MAX_TOKEN_CHARS}")
    return token


def _strict_cbor(data: bytes) -> Any:
    """Decode exactly one CBOR item and nothing after it."""
    stream = io.BytesIO(data)
    # built outside the try: a decoder that cannot be built is our bug, not a damaged QR code
    # (these options need cbor2 >= 6.0, see pyproject.toml)
    decoder = cbor2.CBORDecoder(stream, read_size=1, max_depth=4, allow_indefinite=False)
    try:
        value = decoder.decode()
    # cbor2 can raise many types on hostile input (ValueError, TypeError,
    # OverflowError, its own errors...); all of them mean "not our CBOR".
    except Exception as exc:
        raise TokenError("token_bad_cbor") from exc
    if stream.tell() != len(data):
        raise TokenError("token_bad_cbor")
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _claims_from_body(items: Any) -> tuple[BookingClaims, str]:
    if not isinstance(items, list) or len(items) != 10:
        raise TokenError("token_bad_shape")
    version, key_id, booking_id, station_id, service, day, slot, expires, name, prio = items
    ok = (
        _is_int(version) and version == VERSION
        and all(isinstance(v, str) for v in (key_id, booking_id, station_id, service, name))
        and _is_int(day) and _is_int(expires) and isinstance(prio, bool)
        and isinstance(slot, list) and len(slot) == 2 and all(_is_int(m) for m in slot)
    )
    if not ok or not _KEY_ID_RE.fullmatch(key_id) or not 0 <= day < 65536:
        raise TokenError("token_bad_shape")
    claims = BookingClaims(booking_id, station_id, service, EPOCH_DAY + timedelta(days=day),
                           slot[0], slot[1], expires, name, prio)
    try:
        claims.validate()
    except ValueError as exc:
        raise TokenError("token_bad_shape") from exc
    return claims, key_id


def decode_token(text: str | bytes) -> tuple[BookingClaims, str, bytes, bytes]:
    """Parse a scanned code without checking its signature.

    Returns (claims, key_id, body_bytes, signature). Size and prefix are
    checked before anything is decoded; surrounding whitespace (scanners
    send a trailing CR/LF) is ignored.
    """
    if not isinstance(text, str | bytes | bytearray):
        raise TokenError("token_bad_encoding")
    if len(text) > MAX_INPUT_BYTES:
        raise TokenError("token_too_large")
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    if len(raw) > MAX_INPUT_BYTES:
        raise TokenError("token_too_large")
    raw = raw.strip(b" \t\r\n")
    if not raw:
        raise TokenError("token_empty")
    if not raw.startswith(PREFIX.encode()):
        raise TokenError("token_wrong_prefix")
    try:
        payload = base45.b45decode(raw[len(PREFIX):].decode("ascii"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise TokenError("token_bad_encoding") from exc
    outer = _strict_cbor(payload)
    if not (isinstance(outer, list) and len(outer) == 2
            and isinstance(outer[0], bytes) and isinstance(outer[1], bytes)
            and len(outer[1]) == 64):
        raise TokenError("token_bad_shape")
    body, signature = outer
    claims, key_id = _claims_from_body(_strict_cbor(body))
    return claims, key_id, body, signature


def verify_token(text: str | bytes, keys: Mapping[str, KeyInfo]) -> BookingClaims:
    """Decode and check the signature against the platform's published keys."""
    claims, key_id, body, signature = decode_token(text)
    key = keys.get(key_id)
    if key is None:
        raise TokenError("token_unknown_key")
    try:
        key.ed25519().verify(signature, SIGNING_CONTEXT + body)
    except (InvalidSignature, ValueError) as exc:
        raise TokenError("token_bad_signature") from exc
    # Checked after the signature so that a forged code never learns which
    # keys are retired; a retired key vouches only for what it signed.
    if key.verify_until is not None and claims.expires > key.verify_until:
        raise TokenError("token_retired_key")
    return claims


def check_rules(
    claims: BookingClaims,
    *,
    station_id: str,
    today: date,
    now: datetime,
    cancelled: Collection[str] | Callable[[str], bool] = (),
) -> None:
    """Station-side rules for a verified booking; raises TokenError if refused.

    `today` is the station's local date, `now` the current instant (aware, or
    naive local time). `cancelled` holds the cancelled booking ids the station
    has synced, or answers for one id. Order: a wrong clock first (every other
    answer would be misleading), then station, day, expiry, cancellation.
    """
    if now.timestamp() < CLOCK_FLOOR.timestamp() or (claims.day - today).days > MAX_DAYS_AHEAD:
        raise TokenError("clock_suspect")
    if claims.station_id != station_id:
        raise TokenError("booking_wrong_station", station=claims.station_id)
    if claims.day != today:
        raise TokenError("booking_wrong_day", day=claims.day.isoformat())
    if now.timestamp() >= claims.expires:
        raise TokenError("booking_expired")
    is_cancelled = cancelled(claims.booking_id) if callable(cancelled) else (
        claims.booking_id in cancelled)
    if is_cancelled:
        raise TokenError("booking_cancelled")
