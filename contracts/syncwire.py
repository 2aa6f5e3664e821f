"""The sync wire's shared arithmetic (docs/sync.md): canonical event bytes, an event's hash,
and a day's reconciliation digest. Station and platform both call these, so the two digests
can only differ when the events do."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

MAX_BATCH = 500  # events per POST /events; more is 413 batch_too_large
RESULTS = ("stored", "duplicate", "conflict", "rejected")


def canonical(event: Mapping[str, Any]) -> bytes:
    """The bytes that name an event's content: sorted keys, no spaces, UTF-8."""
    return json.dumps(event, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def event_sha256(event: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(event)).hexdigest()


def day_of(event: Mapping[str, Any]) -> str:
    """The station's local date of an event (its `at` is local time with the UTC offset)."""
    return str(event["at"])[:10]


def reconciliation(items: Iterable[tuple[int, str, str]], day: str, *,
                   with_items: bool = False) -> dict[str, Any]:
    """`items` are (seq, id, sha256) of the day's events, any order."""
    rows = sorted(items)
    text = "\n".join(f"{seq} {eid} {sha}" for seq, eid, sha in rows)
    answer: dict[str, Any] = {"day": day, "events": len(rows),
                              "digest": hashlib.sha256(text.encode("utf-8")).hexdigest()}
    if with_items:
        answer["items"] = [{"seq": s, "id": i, "sha256": h} for s, i, h in rows]
    return answer
