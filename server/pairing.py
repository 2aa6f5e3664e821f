"""Device pairing (layer 2): a new kiosk or display gets its own token without a file edited.

1. The device, started without a token, asks (`start`): it gets a short `code` to show and a
   secret `poll` to keep. Codes are 6 letters and digits that cannot be misread (no 0/O, 1/I),
   live `TTL` and are single-use; a station keeps at most `MAX_PENDING` open at once.
2. An admin types the code on the devices page, naming the device and choosing its kind
   (`approve`).
3. The device polls with its secret (`collect`): pending until approved; then, once only, a
   fresh random token (192 bits) whose hash alone is stored, scoped to the kind chosen.

The token is made at collection, so it never rests in plain anywhere; the poll secret is kept
only as its hash. A guessed code is refused like an expired one (and the web layer throttles
guesses).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from .auth import DEVICE_KINDS, token_hash
from .engine.errors import DomainError
from .store import Store, StoreError

ALPHABET = "ACDEFGHJKLMNPQRTUVWXY34679"  # no 0 O, 1 I L, 2 Z, 5 S, 8 B: read aloud, typed right
CODE_LENGTH = 6
TTL = timedelta(minutes=10)
MAX_PENDING = 20
NAME_MAX = 40


@dataclass(frozen=True)
class Started:
    code: str
    poll: str
    expires_at: datetime


@dataclass(frozen=True)
class Collected:
    device_id: str
    kind: str
    name: str
    token: str


def normalise_code(typed: str) -> str:
    """What an admin types: any case, spaces or a dash in the middle."""
    return re.sub(r"[\s\-]", "", typed).upper()


def shown(code: str) -> str:
    """The code as a device shows it: two groups of three."""
    return f"{code[:3]}-{code[3:]}"


def _poll_hash(poll: str) -> str:
    return hashlib.sha256(poll.encode("utf-8")).hexdigest()


def start(store: Store, now: datetime, *, kind: str | None, remote: str | None) -> Started:
    if kind is not None and kind not in DEVICE_KINDS:
        raise DomainError("field_invalid", field="kind")
    if len(store.pending_pairings(now.isoformat())) >= MAX_PENDING:
        raise DomainError("pairing_busy")
    poll = secrets.token_urlsafe(24)
    expires = now + TTL
    for _ in range(5):  # a clash of two open codes is rare: draw again
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        try:
            store.add_pairing({"code": code, "poll_hash": _poll_hash(poll), "kind": kind,
                               "remote": remote, "created_at": now.isoformat(),
                               "expires_at": expires.isoformat()})
        except StoreError:
            continue
        store.forget_pairings((now - timedelta(days=1)).isoformat())
        return Started(code, poll, expires)
    raise DomainError("pairing_busy")  # pragma: no cover - 26^6 codes


def _live(row: dict | None, now: datetime) -> dict:
    if row is None or row["claimed_at"] is not None or \
            datetime.fromisoformat(row["expires_at"]) <= now:
        raise DomainError("pairing_unknown")
    return row


def _next_id(store: Store, kind: str) -> str:
    taken = {d["id"] for d in store.devices()}
    n = 1
    while f"{kind}-{n}" in taken:
        n += 1
    return f"{kind}-{n}"


def approve(store: Store, typed_code: str, *, name: str, kind: str, by: str,
            now: datetime) -> dict:
    """The admin's approval of the code a device shows; the device collects its token next."""
    if kind not in DEVICE_KINDS:
        raise DomainError("field_invalid", field="kind")
    name = " ".join(name.split())[:NAME_MAX]
    if not name:
        raise DomainError("field_missing", field="name")
    row = _live(store.pairing(code=normalise_code(typed_code)), now)
    if row["approved_at"] is not None:
        raise DomainError("pairing_unknown")  # approved once: the code is spent
    device_id = _next_id(store, kind)
    store.update_pairing(row["code"], approved_at=now.isoformat(), approved_by=by,
                         device_id=device_id, name=name, kind=kind)
    return {"id": device_id, "kind": kind, "name": name, "status": "approved"}


def collect(store: Store, poll: str, now: datetime) -> Collected | None:
    """None while the admin has not approved; the token once approved; `pairing_expired`
    for an unknown, expired or already collected request."""
    row = store.pairing(poll_hash=_poll_hash(poll))
    if row is None or row["claimed_at"] is not None or \
            datetime.fromisoformat(row["expires_at"]) <= now:
        raise DomainError("pairing_expired")
    if row["approved_at"] is None:
        return None
    token = secrets.token_urlsafe(24)
    device = {"id": row["device_id"], "kind": row["kind"], "name": row["name"],
              "token_hash": token_hash(token), "created_at": now.isoformat(),
              "revoked_at": None, "last_seen_at": None, "health": None}
    if not store.claim_pairing(row["code"], device, now.isoformat()):
        raise DomainError("pairing_expired")
    return Collected(row["device_id"], row["kind"], row["name"], token)
