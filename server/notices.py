"""Community notices (layer 2): what an administrator posts for the display's and kiosk's ticker.

A short list kept in the store (one JSON value: a handful of sentences, read on every
snapshot), each notice with an id, its words in Chinese and optionally English, when it was
posted and until when it is shown. Expired notices are left out of what screens get and
dropped at the next post.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from .store import Store

KEY = "notices"
MAX_NOTICES = 10


def _load(store: Store) -> list[dict[str, Any]]:
    raw = store.get_meta(KEY)
    try:
        value = json.loads(raw) if raw else []
    except ValueError:
        return []
    return [n for n in value if isinstance(n, dict)] if isinstance(value, list) else []


def _live(notice: dict[str, Any], now: datetime) -> bool:
    until = notice.get("until")
    if not until:
        return True
    try:
        return datetime.fromisoformat(until) > now
    except (TypeError, ValueError):
        return True


def current(store: Store, now: datetime) -> list[dict[str, Any]]:
    """The notices shown now, oldest first."""
    return [n for n in _load(store) if _live(n, now)]


def post(store: Store, now: datetime, *, text: str, text_en: str = "",
         until: datetime | None = None) -> dict[str, Any]:
    """Add a notice; the oldest go when there are more than MAX_NOTICES."""
    notice = {"id": "n_" + secrets.token_hex(4), "text": text, "text_en": text_en,
              "posted_at": now.isoformat(timespec="seconds"),
              "until": until.isoformat(timespec="seconds") if until else None}
    kept = current(store, now)[-(MAX_NOTICES - 1):] + [notice]
    store.set_meta(KEY, json.dumps(kept, ensure_ascii=False))
    return notice


def remove(store: Store, notice_id: str) -> dict[str, Any] | None:
    """Take a notice down; answers the notice removed, or None when there was none."""
    notices = _load(store)
    gone = next((n for n in notices if n.get("id") == notice_id), None)
    if gone is None:
        return None
    kept = [n for n in notices if n.get("id") != notice_id]
    store.set_meta(KEY, json.dumps(kept, ensure_ascii=False))
    return gone
