"""SQLite store (layer 3): pairing requests of new devices (server/pairing.py says the rules)."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from typing import Any

from sqlite_utils import Database


class PairingStore:
    """Mixed into Store: the `pairings` table."""

    db: Database
    _lock: threading.RLock

    def _write(self) -> AbstractContextManager[Database]:  # pragma: no cover - Store's
        raise NotImplementedError

    def add_pairing(self, row: dict[str, Any]) -> None:
        with self._write() as db:
            db["pairings"].insert(row)

    def pairing(self, *, code: str | None = None, poll_hash: str | None = None
                ) -> dict[str, Any] | None:
        where, value = ("code = ?", code) if code is not None else ("poll_hash = ?", poll_hash)
        with self._lock:
            rows = list(self.db["pairings"].rows_where(where, [value], limit=1))
        return rows[0] if rows else None

    def pending_pairings(self, now_iso: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.db["pairings"].rows_where(
                "expires_at > ? AND claimed_at IS NULL", [now_iso], order_by="created_at"))

    def update_pairing(self, code: str, **values: Any) -> None:
        with self._write() as db:
            db["pairings"].update(code, values)

    def claim_pairing(self, code: str, device: dict[str, Any], claimed_at: str) -> bool:
        """Mark the pairing collected and create its device in one transaction; False when it
        was collected already (two polls at once: one wins)."""
        with self._write() as db:
            done = db.execute("UPDATE pairings SET claimed_at = ? WHERE code = ? AND "
                              "claimed_at IS NULL", [claimed_at, code]).rowcount
            if not done:
                return False
            db["devices"].upsert(device, pk="id")
            return True

    def forget_pairings(self, before_iso: str) -> int:
        """Drop pairings that ended before `before_iso` (expired or collected long ago)."""
        with self._write() as db:
            return db.execute("DELETE FROM pairings WHERE expires_at < ?",
                              [before_iso]).rowcount
