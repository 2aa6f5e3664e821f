"""SQLite store (layer 3): the administrators' ledger of changes, the station's layout
(services and counters, as set on the admin pages) and the staff list."""

from __future__ import annotations

import json
import threading
from contextlib import AbstractContextManager
from typing import Any

from sqlite_utils import Database

from ..engine.model import State
from . import codec

_INSERT_CHANGE = ("INSERT INTO changes(at, user, action, subject, detail) "
                  "VALUES (:at, :user, :action, :subject, :detail)")
_UPSERT_META = ("INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value")


def _change_row(change: dict[str, Any]) -> dict[str, Any]:
    return {"at": change["at"], "user": change["user"], "action": change["action"],
            "subject": change.get("subject") or "",
            "detail": json.dumps(change.get("detail") or {}, ensure_ascii=False,
                                 sort_keys=True)}


class ChangesStore:
    """Mixed into Store: the `changes` table, meta `layout`, and the users list."""

    db: Database
    _lock: threading.RLock

    def _write(self) -> AbstractContextManager[Database]:  # pragma: no cover - Store's
        raise NotImplementedError

    def record_change(self, change: dict[str, Any]) -> None:
        """One row of the ledger: `at`, `user`, `action`, `subject`, `detail` (a dict)."""
        with self._write() as db:
            db.execute(_INSERT_CHANGE, _change_row(change))

    def changes(self, limit: int = 100, before: int | None = None) -> list[dict[str, Any]]:
        """The newest changes first; `before` a seq to page back from."""
        where, args = ("seq < ?", [before]) if before else (None, [])
        with self._lock:
            rows = list(self.db["changes"].rows_where(where, args, order_by="seq DESC",
                                                      limit=limit))
        for row in rows:
            row["detail"] = json.loads(row["detail"] or "{}")
        return rows

    def layout(self) -> dict[str, Any] | None:
        """The services and counters last saved, as config.toml's tables; None before the
        first start has seeded them."""
        with self._lock:
            row = self.db.execute("SELECT value FROM meta WHERE key = 'layout'").fetchone()
        return None if row is None else json.loads(row[0])  # type: ignore[no-any-return]

    def save_layout(self, document: dict[str, Any], change: dict[str, Any],
                    state: State | None = None) -> None:
        """The new layout, its ledger row and (when given) the engine state it led to, in one
        transaction: a change is made whole or not at all."""
        with self._write() as db:
            db.execute(_UPSERT_META, ("layout", json.dumps(document, ensure_ascii=False)))
            db.execute(_INSERT_CHANGE, _change_row(change))
            if state is not None:
                db.execute(_UPSERT_META, ("engine", codec.engine_meta(state)))

    def users(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.db["users"].rows_where(order_by="role, username"))

    def save_user(self, user: dict[str, Any], change: dict[str, Any]) -> None:
        """A staff account added or changed, with its ledger row, in one transaction."""
        with self._write() as db:
            db["users"].upsert(user, pk="username")
            db.execute(_INSERT_CHANGE, _change_row(change))
