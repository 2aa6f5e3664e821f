"""Web (layer 4): who is asking — staff sessions with a CSRF token, or a device's bearer token."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request, session

from ..auth import Accounts, Principal
from .errors import RequestError

F = TypeVar("F", bound=Callable[..., Any])
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def accounts() -> Accounts:
    return current_app.extensions["clinicq"].accounts  # type: ignore[no-any-return]


def principal_from(auth_header: str | None, token: str | None = None) -> Principal | None:
    """A device from `Authorization: Bearer <token>` (or an explicit token), else the session's
    staff member, else None."""
    if token is None and auth_header:
        scheme, _, value = auth_header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            token = value.strip()
    if token:
        return accounts().device(token)
    username = session.get("user")
    return accounts().staff(username) if username else None


def current_principal() -> Principal | None:
    if "principal" not in g:
        g.principal = principal_from(request.headers.get("Authorization"))
        g.bearer = request.headers.get("Authorization", "").lower().startswith("bearer ")
    return g.principal  # type: ignore[no-any-return]


def start_session(principal: Principal) -> str:
    session.clear()
    session["user"] = principal.id
    session["csrf"] = secrets.token_urlsafe(24)
    session.permanent = True
    return session["csrf"]  # type: ignore[no-any-return]


def csrf_token() -> str | None:
    return session.get("csrf")


def requires(permission: str) -> Callable[[F], F]:
    """Refuse the view unless the caller holds `permission`; staff also need the CSRF header on
    unsafe methods (a bearer token is not sent by browsers on their own, so it needs none)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            who = current_principal()
            if who is None:
                raise RequestError("unauthorized")
            if who.kind == "staff" and request.method not in SAFE_METHODS:
                sent = request.headers.get("X-CSRF-Token", "")
                expected = session.get("csrf", "")
                if not expected or not secrets.compare_digest(sent, expected):
                    raise RequestError("csrf_failed")
            if not who.can(permission):
                raise RequestError("forbidden")
            return view(*args, **kwargs)

        wrapper.permission = permission  # type: ignore[attr-defined]  # read by openapi.py
        return wrapper  # type: ignore[return-value]

    return decorate
