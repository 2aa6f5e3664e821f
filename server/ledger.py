"""The administrators' ledger (layer 2): one row for each change an administrator makes —
when, who, what and to what — read back newest first. A row never holds a secret: no
password, hash or token goes into `detail`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .store import Store

PAGE_MAX = 200


def entry(now: datetime, user: str, action: str, subject: str, **detail: Any) -> dict[str, Any]:
    """A ledger row as `Store.record_change` and `Store.save_user` take it."""
    return {"at": now.isoformat(timespec="seconds"), "user": user, "action": action,
            "subject": subject, "detail": detail}


def record(store: Store, now: datetime, user: str, action: str, subject: str,
           **detail: Any) -> None:
    store.record_change(entry(now, user, action, subject, **detail))


def page(store: Store, limit: int, before: int | None = None) -> tuple[list[dict[str, Any]],
                                                                        int | None]:
    """Up to `limit` rows older than seq `before`, newest first, and the seq to ask `before`
    for the next page (None when there is no older row)."""
    limit = max(1, min(limit, PAGE_MAX))
    rows = store.changes(limit=limit + 1, before=before)
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1]["seq"] if more else None)
