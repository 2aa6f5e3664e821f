"""Staff sessions (layer 2): server-side, in the station's SQLite, so that ending one ends it.

The browser holds only a random id (the cookie); the store keeps its SHA-256, the user, the
session's CSRF token and when it began and was last used. A session ends

- after `idle` without use (sliding: each use moves it on, but the store is written at most
  once a `TOUCH_EVERY`, not on every request), or `absolute` after it began, whichever comes
  first;
- at logout, a password reset or when the account is disabled: every session of that user
  at once (`end_user`).

Whoever keeps something per session (the Socket.IO connections) registers with `on_end` and
is told the keys of the sessions that ended, whatever ended them; a sweeper thread ends the
stale ones even when nobody asks.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .store import Store

log = logging.getLogger(__name__)

TOUCH_EVERY = timedelta(minutes=1)
Listener = Callable[[list[str]], None]


def session_key(token: str) -> str:
    # the id is 32 random bytes: a fast hash is enough to keep it secret at rest
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _iso(moment: datetime) -> str:
    # one fixed format in UTC, so the store compares times as strings
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Session:
    key: str  # the stored hash of the cookie's id
    user: str
    csrf: str
    created_at: datetime
    seen_at: datetime


class Sessions:
    def __init__(self, store: Store, clock: Callable[[], datetime], *,
                 idle: timedelta = timedelta(minutes=30),
                 absolute: timedelta = timedelta(hours=12)) -> None:
        self.store = store
        self.clock = clock
        self.idle = idle
        self.absolute = absolute
        self._listeners: list[Listener] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def on_end(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _ended(self, keys: list[str]) -> list[str]:
        if keys:
            for listener in self._listeners:
                try:
                    listener(keys)
                except Exception:  # one listener's bug must not keep a session alive
                    log.exception("a listener of ended sessions failed")
        return keys

    def begin(self, user: str, replaces: str | None = None) -> tuple[str, Session]:
        """A new session for `user`: answers the cookie's value (never stored) and the
        session. The browser's session before the login (`replaces`, its cookie's value), if
        any, ends: an id from before a login is never the id after it."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        session = Session(session_key(token), user, secrets.token_urlsafe(24), now, now)
        old = session_key(replaces) if replaces else None
        self.store.add_session({"key": session.key, "user": user, "csrf": session.csrf,
                                "created_at": _iso(now), "seen_at": _iso(now)}, replaces=old)
        if old is not None:
            self._ended([old])
        return token, session

    def find(self, token: str, *, touch: bool = True) -> Session | None:
        """The session of a cookie's value; None when there is none or it has expired (and
        then it ends). `touch` counts this as a use (not for a page's background polls)."""
        return self.by_key(session_key(token), touch=touch)

    def by_key(self, key: str, *, touch: bool = False) -> Session | None:
        row = self.store.session(key)
        if row is None:
            return None
        now = self.clock()
        session = Session(row["key"], row["user"], row["csrf"],
                          datetime.fromisoformat(row["created_at"]),
                          datetime.fromisoformat(row["seen_at"]))
        if now - session.seen_at >= self.idle or now - session.created_at >= self.absolute:
            self._ended(self.store.end_sessions(key=key))
            return None
        if touch and now - session.seen_at >= TOUCH_EVERY:
            self.store.touch_session(key, _iso(now))
        return session

    def end(self, token: str) -> list[str]:
        return self._ended(self.store.end_sessions(key=session_key(token)))

    def end_user(self, user: str, keep: str | None = None) -> list[str]:
        """End every session of `user` (logout, a new password, a disabled account), but
        the one whose key is `keep`."""
        return self._ended(self.store.end_sessions(user=user, keep=keep))

    def sweep(self) -> list[str]:
        """End the sessions that have expired; answers their keys."""
        now = self.clock()
        return self._ended(self.store.end_stale_sessions(_iso(now - self.idle),
                                                         _iso(now - self.absolute)))

    def start(self, interval: float = 30.0) -> None:
        """Sweep every `interval` seconds in a daemon thread, so that a console left open
        (its Socket.IO connection still up) stops receiving staff data once it has expired."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(interval,),
                                        name="clinicq-sessions", daemon=True)
        self._thread.start()

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.sweep()
            except Exception:  # the sweeper must outlive one bad round
                log.exception("ending expired sessions failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
