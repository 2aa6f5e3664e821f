"""SQLite store (layer 3): the event ledger read as the outbox (docs/sync.md).

Every event up to `meta.push_acked` is settled: the platform answered it `stored` or
`duplicate` (sent), or `conflict` or `rejected` (kept in `sync_problems`, counted and shown,
never blocking the events behind it). `seq` has no gaps, so what is pending is simply the
events after the watermark.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any, NamedTuple

from sqlite_utils import Database

PUSH_ACKED = "push_acked"
LAST_PUSH_AT = "last_push_at"
PROBLEMS = ("conflict", "rejected")


class Answer(NamedTuple):
    """The platform's word on one event."""

    seq: int
    event_id: str
    result: str  # stored | duplicate | conflict | rejected
    reason: str | None = None


def wire_event(row: dict[str, Any]) -> dict[str, Any]:
    """An `events` row as the platform receives it; the same row gives the same bytes."""
    return {"id": row["id"], "seq": row["seq"], "type": row["type"], "at": row["at"],
            "counter": row["counter"], "reason": row["reason"],
            "ticket": json.loads(row["ticket"]),
            "detail": json.loads(row["detail"]) if row["detail"] is not None else None}


_COLUMNS = "id, seq, type, at, counter, reason, ticket, detail"
_KEYS = _COLUMNS.split(", ")


class OutboxStore:
    """Mixed into `Store`: needs its `db`, `_lock` and `_write`."""

    db: Database
    _lock: threading.RLock

    def _write(self) -> AbstractContextManager[Database]:  # pragma: no cover - Store's
        raise NotImplementedError

    def _acked(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [PUSH_ACKED]).fetchone()
        return int(row[0]) if row else 0

    def outbox(self, limit: int, upto: int | None = None) -> list[dict[str, Any]]:
        """The next `limit` events not yet settled with the platform, in seq order (none
        after `upto`: what the backup does not hold yet, server/backup.py)."""
        with self._lock:
            acked = self._acked()
            rows = self.db.execute(
                f"SELECT {_COLUMNS} FROM events WHERE seq > ? AND seq <= ? ORDER BY seq "
                "LIMIT ?", [acked, upto if upto is not None else 2**62, limit]).fetchall()
        return [wire_event(dict(zip(_KEYS, r, strict=True))) for r in rows]

    def last_seq(self) -> int:
        with self._lock:
            row = self.db.execute("SELECT max(seq) FROM events").fetchone()
        return int(row[0] or 0)

    def settle(self, answers: Iterable[Answer], answered_at: str) -> int:
        """Record the platform's answers; returns the new watermark. Only the unbroken run
        of answered events after the watermark moves it: an event the platform did not
        answer stays pending, and so do the ones after it (they are sent again, and a
        repeat is answered `duplicate`)."""
        by_seq = {a.seq: a for a in answers}
        with self._write() as db:
            acked = self._acked()
            problems = []
            while acked + 1 in by_seq:
                answer = by_seq[acked + 1]
                if answer.result in PROBLEMS:
                    problems.append((answer.seq, answer.event_id, answer.result,
                                     answer.reason, answered_at))
                acked += 1
            db.conn.executemany(
                "INSERT OR REPLACE INTO sync_problems (seq, event_id, result, reason, "
                "answered_at) VALUES (?, ?, ?, ?, ?)", problems)
            db.conn.executemany(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [(PUSH_ACKED, str(acked)), (LAST_PUSH_AT, answered_at)])
        return acked

    def outbox_status(self) -> dict[str, Any]:
        with self._lock:
            acked = self._acked()
            last = self.db.execute("SELECT max(seq) FROM events").fetchone()[0] or 0
            counts = dict(self.db.execute(
                "SELECT result, count(*) FROM sync_problems GROUP BY result").fetchall())
            row = self.db.execute("SELECT value FROM meta WHERE key = ?",
                                  [LAST_PUSH_AT]).fetchone()
        return {"pending": max(0, last - acked), "acked_seq": acked, "last_seq": last,
                "conflicts": counts.get("conflict", 0), "rejected": counts.get("rejected", 0),
                "last_push_at": row[0] if row else None}

    def sync_problems(self, limit: int = 100) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.db["sync_problems"].rows_where(order_by="seq desc", limit=limit))

    def day_events(self, day: str) -> Iterator[dict[str, Any]]:
        """The events of a local day (their `at` starts with `day`), as sent, in seq order."""
        with self._lock:
            rows = self.db.execute(
                f"SELECT {_COLUMNS} FROM events WHERE at >= ? AND at < ? ORDER BY seq",
                [day, day + "U"]).fetchall()  # 'U' follows the 'T' of an ISO time
        for r in rows:
            yield wire_event(dict(zip(_KEYS, r, strict=True)))
