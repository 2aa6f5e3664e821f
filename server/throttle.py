"""Throttles (layer 2): failed logins per address and per account, and check-ins per kiosk.

Logins. An address that has failed `ADDRESS_LIMIT` times waits before its next try, 30 s,
then twice as long after each further failure, at most `MAX_WAIT`; while it waits, even the
right password is refused (it is not even checked, so a burst costs no hashing). An account
is throttled the same way once it has failed `ACCOUNT_LIMIT` times counted over all
addresses, each address counting at most `ADDRESS_LIMIT`: one attacker's address is stopped
by its own limit and never locks the nurse out from her desk; only guesses from several
addresses at once slow the account's logins for everyone, and then by minutes, not for good.
Failures are forgotten `FORGET` after the last one; the right password forgives the
account's failures (and, at that address, that account's own typos).

Why a store-backed counter and not `limits` (which throttles pairing): its windows are
fixed rates, where this wait grows with each failure and a success resets one account's
count; it reads its own clock, where these read the station's (tests set it); and a restart
of the station does not hand an attacker a fresh set of guesses. Failed logins are few, so
a row written per failure costs nothing.

Check-ins. Each kiosk has a token bucket (config.toml's `kiosk_checkins_per_minute`, 60, in
bursts of `kiosk_checkin_burst`, 20): a queue of residents at one kiosk never meets it, a
stuck scanner or a script does. It lives in memory: it is about the last minute, and a
restart may well forget it.
"""

from __future__ import annotations

import math
import threading
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from .store import Store

T = TypeVar("T")

ADDRESS_LIMIT = 5
ACCOUNT_LIMIT = 10
FIRST_WAIT = 30.0  # seconds
MAX_WAIT = 300.0
FORGET = timedelta(minutes=15)
KIOSK_RATE = 60.0  # check-ins and walk-ins a minute, per kiosk
KIOSK_BURST = 20


class Throttled(Exception):
    """Refused for now: try again after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _wait(failures: int, limit: int) -> float:
    if failures < limit:
        return 0.0
    return min(FIRST_WAIT * 2 ** (failures - limit), MAX_WAIT)


class LoginThrottle:
    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock
        # one address's tries one at a time, so that a burst cannot slip past the count
        # between the check and the failure (striped: a bounded set of locks)
        self._locks = [threading.Lock() for _ in range(64)]
        self._forgot_at: datetime | None = None

    def retry_after(self, username: str, address: str) -> int:
        """Seconds before `username` may try again from `address`; 0: now."""
        now = self.clock()
        rows = self.store.login_failures(username, address, _iso(now - FORGET))
        by_address = [r for r in rows if r["scope"] == "address"]
        by_account = [r for r in rows if r["scope"] == "account"]
        waits = [0.0]
        for group, limit in ((by_address, ADDRESS_LIMIT), (by_account, ACCOUNT_LIMIT)):
            if not group:
                continue
            failures = sum(min(r["failures"], ADDRESS_LIMIT) if r["scope"] == "account"
                           else r["failures"] for r in group)
            last = max(datetime.fromisoformat(r["last_at"]) for r in group)
            until = last + timedelta(seconds=_wait(failures, limit))
            waits.append((until - now).total_seconds())
        return math.ceil(max(waits))

    def attempt(self, username: str, address: str, check: Callable[[], T | None]) -> T | None:
        """Run `check` (the password's) unless throttled (raises Throttled); a None answer
        counts as a failure, anything else forgives."""
        with self._locks[zlib.crc32(address.encode("utf-8")) % len(self._locks)]:
            wait = self.retry_after(username, address)
            if wait > 0:
                raise Throttled(wait)
            result = check()
            now = self.clock()
            if result is None:
                self.store.count_login_failure(username, address, _iso(now),
                                               _iso(now - FORGET))
                if self._forgot_at is None or now - self._forgot_at >= FORGET:
                    self._forgot_at = now  # the table keeps only what is remembered
                    self.forget()
            else:
                self.store.forgive_login_failures(username, address)
            return result

    def forget(self) -> int:
        """Drop the failures nobody remembers any more."""
        return self.store.forget_login_failures(_iso(self.clock() - FORGET))


class TokenBuckets:
    """One bucket per key: `rate` tokens a minute, at most `burst` saved up."""

    def __init__(self, clock: Callable[[], datetime], *, rate: float = KIOSK_RATE,
                 burst: int = KIOSK_BURST) -> None:
        self.clock = clock
        self.per_second = rate / 60.0
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, datetime]] = {}  # key -> (tokens, when)
        self._lock = threading.Lock()

    def take(self, key: str) -> None:
        """Spend one token of `key`'s bucket, or raise Throttled saying when one is back."""
        now = self.clock()
        with self._lock:
            tokens, then = self._buckets.get(key, (self.burst, now))
            # a clock set back gives nothing and takes nothing
            elapsed = max((now - then).total_seconds(), 0.0)
            tokens = min(self.burst, tokens + elapsed * self.per_second)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                raise Throttled(max(1, math.ceil((1.0 - tokens) / self.per_second)))
            self._buckets[key] = (tokens - 1.0, now)
