"""Accounts (layer 2): staff logins, paired device tokens, and who may do what."""

from __future__ import annotations

import functools
import hashlib
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from werkzeug.security import check_password_hash, generate_password_hash

from .store import Store

ROLES = ("nurse", "doctor", "admin", "kiosk", "display")
STAFF_ROLES = ("nurse", "doctor", "admin")
DEVICE_KINDS = ("kiosk", "display")  # a kiosk's screen and its agent share its token

# permission -> roles that hold it. A display can only watch. A doctor does what a nurse does,
# and also reviews flagged screenings and may override a dose's interval.
PERMISSIONS: dict[str, frozenset[str]] = {
    "watch": frozenset({"nurse", "doctor", "admin", "kiosk", "display"}),
    "ticket.read": frozenset({"nurse", "doctor", "admin", "kiosk"}),
    "checkin": frozenset({"nurse", "doctor", "admin", "kiosk"}),
    "walkin": frozenset({"nurse", "doctor", "admin", "kiosk"}),
    "serve": frozenset({"nurse", "doctor", "admin"}),
    # search bookings, check in without a code
    "bookings.assist": frozenset({"nurse", "doctor", "admin"}),
    "devices": frozenset({"admin"}),
    "device.report": frozenset({"kiosk", "display"}),
    "devices.status": frozenset({"nurse", "doctor", "admin"}),  # the console's kiosk status line
    "kiosk.notify": frozenset({"kiosk"}),  # the agent asks its own screen to show a notice
    # send a ticket to a kiosk's printer again
    "ticket.reprint": frozenset({"nurse", "doctor", "admin"}),
    "vaccines.read": frozenset({"nurse", "doctor", "admin", "kiosk"}),
    "screening.answer": frozenset({"nurse", "doctor", "kiosk"}),  # kiosk screen or desk
    "screening.review": frozenset({"doctor"}),  # clear a flag, defer a vaccination
    "vaccinate": frozenset({"nurse", "doctor"}),  # record a dose, a reaction, an early leave
    "layout": frozenset({"admin"}),  # change the services and counters (the admin pages)
    "notices": frozenset({"admin"}),  # post and remove the community notices of the ticker
    "display.report": frozenset({"display"}),  # a display's health (its sound on or off)
    "sync.read": frozenset({"nurse", "doctor", "admin"}),  # the console's sync status line
    "staff": frozenset({"admin"}),  # add staff, reset passwords, disable and enable accounts
    "changes": frozenset({"admin"}),  # read the administrators' ledger of changes
    "reports": frozenset({"admin"}),  # the day's and the range's figures, and their CSVs
}


@functools.cache
def _dummy_hash() -> str:
    """A hash to check against when the user does not exist, so that a login costs the same
    either way (made on first use: hashing takes a tenth of a second, not for start-up)."""
    return generate_password_hash("not-a-real-password")


@dataclass(frozen=True)
class Principal:
    kind: str  # "staff" or "device"
    id: str
    role: str
    name: str

    def can(self, permission: str) -> bool:
        return self.role in PERMISSIONS[permission]


def token_hash(token: str) -> str:
    # device tokens are long random strings, so a fast hash is enough to keep them secret at rest
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Accounts:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._devices: dict[str, Principal] = {}  # token hash -> device, filled on first use
        self._lock = threading.Lock()

    def add_user(self, username: str, password: str, role: str, *,
                 display_name: str | None = None) -> None:
        if role not in STAFF_ROLES:
            raise ValueError(f"unknown staff role {role!r}")
        self.store.upsert_user({
            "username": username, "password_hash": generate_password_hash(password),
            "role": role, "display_name": display_name or username,
            "created_at": datetime.now(UTC).isoformat(), "disabled": 0,
        })

    def login(self, username: str, password: str) -> Principal | None:
        user = self.store.user(username)
        if user is None or user["disabled"]:
            check_password_hash(_dummy_hash(), password)
            return None
        if not check_password_hash(user["password_hash"], password):
            return None
        return Principal("staff", user["username"], user["role"], user["display_name"])

    def staff(self, username: str) -> Principal | None:
        user = self.store.user(username)
        if user is None or user["disabled"]:
            return None
        return Principal("staff", user["username"], user["role"], user["display_name"])

    def pair_device(self, device_id: str, kind: str, name: str, *,
                    token: str | None = None) -> str:
        """Pair (or re-pair) a kiosk or display; returns its token, shown once."""
        if kind not in DEVICE_KINDS:
            raise ValueError(f"unknown device kind {kind!r}")
        token = token or secrets.token_urlsafe(24)
        self.store.upsert_device({
            "id": device_id, "kind": kind, "name": name, "token_hash": token_hash(token),
            "created_at": datetime.now(UTC).isoformat(), "revoked_at": None,
        })
        with self._lock:
            self._devices.clear()
        return token

    def revoke_device(self, device_id: str) -> None:
        self.store.update_device(device_id, revoked_at=datetime.now(UTC).isoformat())
        with self._lock:
            self._devices.clear()

    def rename_device(self, device_id: str, name: str) -> None:
        self.store.update_device(device_id, name=name)
        with self._lock:
            self._devices.clear()

    def device(self, token: str) -> Principal | None:
        digest = token_hash(token)
        with self._lock:
            cached = self._devices.get(digest)
        if cached is not None:
            return cached
        row = self.store.device_by_token_hash(digest)
        if row is None:
            return None
        principal = Principal("device", row["id"], row["kind"], row["name"])
        with self._lock:
            self._devices[digest] = principal
        return principal
