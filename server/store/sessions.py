"""SQLite store (layer 3): staff sessions and failed logins (server/sessions.py and
server/throttle.py say the rules)."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from typing import Any

from sqlite_utils import Database

_COUNT_FAILURE = (
    "INSERT INTO login_failures(scope, key, address, failures, last_at) VALUES (?, ?, ?, 1, ?) "
    "ON CONFLICT(scope, key, address) DO UPDATE SET last_at = excluded.last_at, "
    "failures = CASE WHEN login_failures.last_at < ? THEN 1 ELSE login_failures.failures + 1 END"
)


class SessionStore:
    """Mixed into Store: the `sessions` and `login_failures` tables."""

    db: Database
    _lock: threading.RLock

    def _write(self) -> AbstractContextManager[Database]:  # pragma: no cover - Store's
        raise NotImplementedError

    # sessions -------------------------------------------------------------------------------

    def add_session(self, row: dict[str, Any], replaces: str | None = None) -> None:
        """A new session; the one it `replaces` (the browser's before a login) ends with it."""
        with self._write() as db:
            if replaces is not None:
                db.execute("DELETE FROM sessions WHERE key = ?", [replaces])
            db["sessions"].insert(row)

    def session(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self.db.execute("SELECT key, user, csrf, created_at, seen_at FROM sessions "
                                  "WHERE key = ?", [key]).fetchone()
        if row is None:
            return None
        return dict(zip(("key", "user", "csrf", "created_at", "seen_at"), row, strict=True))

    def touch_session(self, key: str, seen_at: str) -> None:
        with self._write() as db:
            db.execute("UPDATE sessions SET seen_at = ? WHERE key = ?", [seen_at, key])

    def end_sessions(self, *, key: str | None = None, user: str | None = None,
                     keep: str | None = None) -> list[str]:
        """End one session (`key`) or every session of `user` but `keep`; answers the keys
        ended."""
        if key is not None:
            where, values = "key = ?", [key]
        else:
            where, values = "user = ? AND key IS NOT ?", [user, keep]
        with self._write() as db:
            return [r[0] for r in db.execute(f"DELETE FROM sessions WHERE {where} RETURNING key",
                                             values).fetchall()]

    def end_stale_sessions(self, seen_before: str, created_before: str) -> list[str]:
        """End the sessions idle since before `seen_before` or begun before `created_before`."""
        with self._write() as db:
            return [r[0] for r in db.execute(
                "DELETE FROM sessions WHERE seen_at < ? OR created_at < ? RETURNING key",
                [seen_before, created_before]).fetchall()]

    # failed logins --------------------------------------------------------------------------

    def login_failures(self, username: str, address: str, since: str) -> list[dict[str, Any]]:
        """The rows counting against `address` and against `username`, failed since `since`."""
        with self._lock:
            rows = self.db.execute(
                "SELECT scope, key, address, failures, last_at FROM login_failures "
                "WHERE last_at >= ? AND ((scope = 'address' AND key = ?) OR "
                "(scope = 'account' AND key = ?))", [since, address, username]).fetchall()
        return [dict(zip(("scope", "key", "address", "failures", "last_at"), r, strict=True))
                for r in rows]

    def count_login_failure(self, username: str, address: str, at: str, since: str) -> None:
        """One more failure for the address and for the account from that address (a count
        whose last failure is older than `since` starts again at one)."""
        with self._write() as db:
            db.execute(_COUNT_FAILURE, ["address", address, "", at, since])
            db.execute(_COUNT_FAILURE, ["account", username, address, at, since])

    def forgive_login_failures(self, username: str, address: str) -> None:
        """A right password: the account's failures go, and the address keeps only those that
        were not this account's from it (a nurse's own typos, not an attacker's guesses)."""
        with self._write() as db:
            own = db.execute("SELECT failures FROM login_failures WHERE scope = 'account' AND "
                             "key = ? AND address = ?", [username, address]).fetchone()
            db.execute("DELETE FROM login_failures WHERE scope = 'account' AND key = ?",
                       [username])
            if own is not None:
                db.execute("UPDATE login_failures SET failures = max(failures - ?, 0) "
                           "WHERE scope = 'address' AND key = ?", [own[0], address])

    def forget_login_failures(self, before: str) -> int:
        with self._write() as db:
            return db.execute("DELETE FROM login_failures WHERE last_at < ?",
                              [before]).rowcount
