"""Staff accounts (layer 2): the administrator lists staff, adds them, resets a password,
disables and enables an account; each change is saved with its ledger row in one
transaction. A disabled account's session is refused on its next request
(`Accounts.staff`)."""

from __future__ import annotations

import re
import threading
from datetime import datetime
from typing import Any

from werkzeug.security import generate_password_hash

from . import ledger
from .auth import STAFF_ROLES
from .engine.errors import DomainError
from .store import Store

USERNAME_PATTERN = r"^[a-z0-9._-]{2,32}$"
PASSWORD_MIN = 8
PASSWORD_MAX = 128
NAME_MAX = 40

_USERNAME = re.compile(USERNAME_PATTERN)
# one change at a time: "is the name free?" and "is another admin left?" stay true until saved
_lock = threading.Lock()


def public(user: dict[str, Any]) -> dict[str, Any]:
    """An account as the admin pages see it: never its password hash."""
    return {"username": user["username"], "display_name": user["display_name"],
            "role": user["role"], "created_at": user["created_at"],
            "disabled": bool(user["disabled"])}


def listing(store: Store) -> list[dict[str, Any]]:
    return [public(u) for u in store.users()]


def _name(display_name: str) -> str:
    name = " ".join(display_name.split())
    if not name or len(name) > NAME_MAX:
        raise DomainError("field_invalid", field="display_name")
    return name


def _password(password: str) -> str:
    if not (PASSWORD_MIN <= len(password) <= PASSWORD_MAX) or not password.strip():
        raise DomainError("field_invalid", field="password")
    return generate_password_hash(password)


def _existing(store: Store, username: str) -> dict[str, Any]:
    user = store.user(username)
    if user is None:
        raise DomainError("user_unknown", username=username)
    return user


def _detail(user: dict[str, Any]) -> dict[str, Any]:
    return {"role": user["role"], "display_name": user["display_name"]}


def add(store: Store, *, by: str, now: datetime, username: str, display_name: str, role: str,
        password: str) -> dict[str, Any]:
    if not _USERNAME.fullmatch(username):
        raise DomainError("field_invalid", field="username")
    name = _name(display_name)
    if role not in STAFF_ROLES:
        raise DomainError("field_invalid", field="role")
    user = {"username": username, "password_hash": _password(password), "role": role,
            "display_name": name, "created_at": now.isoformat(timespec="seconds"),
            "disabled": 0}
    with _lock:
        if store.user(username) is not None:
            raise DomainError("username_taken", username=username)
        store.save_user(user, ledger.entry(now, by, "staff.added", username, **_detail(user)))
    return public(user)


def reset_password(store: Store, *, by: str, now: datetime, username: str,
                   password: str) -> dict[str, Any]:
    password_hash = _password(password)
    with _lock:
        user = {**_existing(store, username), "password_hash": password_hash}
        store.save_user(user, ledger.entry(now, by, "staff.password_reset", username,
                                           **_detail(user)))
    return public(user)


def set_disabled(store: Store, *, by: str, now: datetime, username: str,
                 disabled: bool) -> dict[str, Any]:
    """Disable or enable an account. An admin cannot disable themself, nor the last enabled
    admin: someone must be left to run the station. Asking for the state it has is no
    change and writes no row."""
    with _lock:
        user = _existing(store, username)
        if bool(user["disabled"]) == disabled:
            return public(user)
        if disabled and username == by:
            raise DomainError("cannot_disable_self")
        if disabled and user["role"] == "admin" and not any(
                u["role"] == "admin" and not u["disabled"] and u["username"] != username
                for u in store.users()):
            raise DomainError("last_admin", username=username)
        user = {**user, "disabled": int(disabled)}
        action = "staff.disabled" if disabled else "staff.enabled"
        store.save_user(user, ledger.entry(now, by, action, username, **_detail(user)))
    return public(user)
