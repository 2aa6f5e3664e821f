"""Web (layer 4): the throttles of server/throttle.py at the edge — a refusal becomes a 429
with `Retry-After` and words for the person in front of the screen."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import current_app, request

from ..throttle import LoginThrottle, Throttled, TokenBuckets
from .errors import RequestError
from .security import current_principal

T = TypeVar("T")


def _refused(code: str, err: Throttled) -> RequestError:
    seconds = err.retry_after
    return RequestError(code, headers={"Retry-After": str(seconds)}, seconds=seconds)


def guarded_login(username: str, check: Callable[[], T | None]) -> T | None:
    """Run the password's `check` under the login throttle (per address and per account);
    429 `login_throttled` while either waits."""
    throttle: LoginThrottle = current_app.extensions["clinicq.logins"]
    try:
        return throttle.attempt(username, request.remote_addr or "", check)
    except Throttled as err:
        raise _refused("login_throttled", err) from None


def spend_kiosk_budget() -> None:
    """A kiosk's check-in or walk-in spends a token of its bucket; 429 `too_many_requests`
    when it has none left (staff at a desk are not counted)."""
    who = current_principal()
    if who is None or who.kind != "device" or who.role != "kiosk":
        return
    buckets: TokenBuckets = current_app.extensions["clinicq.kiosk_budget"]
    try:
        buckets.take(who.id)
    except Throttled as err:
        raise _refused("too_many_requests", err) from None
