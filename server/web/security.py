"""Web (layer 4): who is asking — staff by their session cookie (server/sessions.py: kept
in the station's SQLite, with its CSRF token), or a device by its bearer token."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, current_app, g, request
from flask.wrappers import Response

from ..auth import Accounts, Principal
from ..sessions import Session, Sessions
from .errors import RequestError

F = TypeVar("F", bound=Callable[..., Any])
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
COOKIE = "clinicq_session"


def accounts() -> Accounts:
    return current_app.extensions["clinicq"].accounts  # type: ignore[no-any-return]


def sessions() -> Sessions:
    return current_app.extensions["clinicq.sessions"]  # type: ignore[no-any-return]


def passive(view: F) -> F:
    """Mark a view a page calls by itself (a status line polled every few seconds): it does
    not count as a use of the staff session, so an unattended console still times out."""
    view.passive = True  # type: ignore[attr-defined]
    return view


def staff_session() -> Session | None:
    """The session of this request's cookie, once per request; remembers when the cookie
    named a session that has ended (the answer then says `session_expired`)."""
    if "staff_session" not in g:
        token = request.cookies.get(COOKIE)
        view = current_app.view_functions.get(request.endpoint or "")
        found = sessions().find(token, touch=not getattr(view, "passive", False)) \
            if token else None
        g.staff_session = found
        g.session_gone = bool(token) and found is None
    return g.staff_session  # type: ignore[no-any-return]


def principal_from(auth_header: str | None, token: str | None = None) -> Principal | None:
    """A device from `Authorization: Bearer <token>` (or an explicit token), else the session's
    staff member, else None."""
    if token is None and auth_header:
        scheme, _, value = auth_header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            token = value.strip()
    if token:
        return accounts().device(token)
    session = staff_session()
    return accounts().staff(session.user) if session else None


def current_principal() -> Principal | None:
    if "principal" not in g:
        g.principal = principal_from(request.headers.get("Authorization"))
        g.bearer = request.headers.get("Authorization", "").lower().startswith("bearer ")
    return g.principal  # type: ignore[no-any-return]


def start_session(principal: Principal) -> str:
    """Log `principal` in: a new session (the browser's old one, if any, ends); answers its
    CSRF token. The cookie is set on the way out."""
    token, session = sessions().begin(principal.id, replaces=request.cookies.get(COOKIE))
    g.staff_session, g.session_gone = session, False
    g.principal = principal
    g.set_cookie = token
    return session.csrf


def end_sessions(username: str, *, but_this_one: bool = False) -> int:
    """End every session of `username` (their sockets are dropped by the sessions'
    listener); `but_this_one` keeps this request's own session (an admin who sets their own
    password stays logged in here, and nowhere else)."""
    own = g.get("staff_session")
    mine = own is not None and own.user == username
    ended = sessions().end_user(username, keep=own.key if mine and but_this_one else None)
    if mine and not but_this_one:
        g.set_cookie = ""
    return len(ended)


def csrf_token() -> str | None:
    session = staff_session()
    return session.csrf if session else None


def init_app(app: Flask) -> None:
    """Set or clear the session cookie as the request decided."""

    @app.after_request
    def session_cookie(response: Response) -> Response:
        token = g.get("set_cookie")
        if token is None and g.get("session_gone"):
            token = ""  # the cookie names a session that has ended: the browser forgets it
        if token is None:
            return response
        secure = request.is_secure or \
            current_app.extensions["clinicq"].settings.public_url.startswith("https://")
        if token:
            max_age = int(sessions().absolute.total_seconds())
            response.set_cookie(COOKIE, token, max_age=max_age, httponly=True, secure=secure,
                                samesite="Strict", path="/")
        else:
            response.delete_cookie(COOKIE, httponly=True, secure=secure, samesite="Strict",
                                   path="/")
        return response


def requires(permission: str) -> Callable[[F], F]:
    """Refuse the view unless the caller holds `permission`; staff also need the CSRF header on
    unsafe methods (a bearer token is not sent by browsers on their own, so it needs none)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            who = current_principal()
            if who is None:
                # a cookie of a session that ended: say so (the console asks to log in again)
                raise RequestError("session_expired" if g.get("session_gone")
                                   else "unauthorized")
            if who.kind == "staff" and request.method not in SAFE_METHODS:
                sent = request.headers.get("X-CSRF-Token", "")
                session = staff_session()
                expected = session.csrf if session else ""
                if not expected or not secrets.compare_digest(sent, expected):
                    raise RequestError("csrf_failed")
            if not who.can(permission):
                raise RequestError("forbidden")
            return view(*args, **kwargs)

        wrapper.permission = permission  # type: ignore[attr-defined]  # read by openapi.py
        return wrapper  # type: ignore[return-value]

    return decorate
