"""SQLite store (layer 3): the audit log of staff actions (`audit`, m020), read together with
the administrators' ledger of settings changes (`changes`, m018). Both are append-only: this
module only inserts and reads, and the database's triggers refuse any UPDATE or DELETE."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Any

from sqlite_utils import Database

INSERT_AUDIT = ("INSERT INTO audit(at, actor, role, action, subject, detail) "
                "VALUES (:at, :actor, :role, :action, :subject, :detail)")
# One log in time order: the staff actions and the settings changes. `at` is the station's
# local time with its offset (ISO 8601), so a day is a range of text.
_READ = (
    "SELECT * FROM ("
    " SELECT 'action' AS source, seq, at, actor, role, action, subject, detail FROM audit"
    "  WHERE at >= :start AND at < :end"
    " UNION ALL"
    " SELECT 'settings', seq, at, user, NULL, action, subject, detail FROM changes"
    "  WHERE at >= :start AND at < :end"
    ") ORDER BY at DESC, source DESC, seq DESC LIMIT :limit OFFSET :offset"
)


def audit_row(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry (`at`, `actor`, `role`, `action`, `subject`, `detail` a dict) as its row."""
    return {"at": entry["at"], "actor": entry["actor"], "role": entry.get("role"),
            "action": entry["action"], "subject": entry.get("subject") or "",
            "detail": json.dumps(entry.get("detail") or {}, ensure_ascii=False,
                                 sort_keys=True)}


class AuditStore:
    """Mixed into Store: the `audit` table."""

    db: Database
    _lock: threading.RLock

    def _write(self) -> AbstractContextManager[Database]:  # pragma: no cover - Store's
        raise NotImplementedError

    def record_audit(self, entries: Iterable[dict[str, Any]]) -> None:
        """Append entries to the audit log, in one transaction."""
        rows = [audit_row(e) for e in entries]
        if rows:
            with self._write() as db:
                db.conn.executemany(INSERT_AUDIT, rows)

    def audit_log(self, start: str, end: str, *, limit: int,
                  offset: int = 0) -> list[dict[str, Any]]:
        """Staff actions and settings changes from `start` (a day, `YYYY-MM-DD`) to before
        `end` (the day after the last), newest first; `detail` decoded."""
        with self._lock:
            cursor = self.db.execute(_READ, {"start": start, "end": end, "limit": limit,
                                             "offset": offset})
            names = [c[0] for c in cursor.description]
            rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
        for row in rows:
            row["detail"] = json.loads(row["detail"] or "{}")
        return rows
