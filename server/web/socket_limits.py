"""Web (layer 4): how much one Socket.IO connection may ask — a token bucket for every event,
and at most one `resync` snapshot per `resync_every` seconds.

A refused event costs a dictionary look-up and an answer (`{"ok": false, "error":
"rate_limited", "retry_after": s}`); the page's LiveQueue asks again after `retry_after`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

EVENTS_BURST = 10  # events a connection may send at once
EVENTS_PER_SECOND = 2.0  # and then, on average (a page sends a resync per gap, a console a
# watch per counter chosen)
RESYNC_EVERY = 2.0  # seconds between two snapshots asked for by one connection


@dataclass
class _Bucket:
    tokens: float
    stamp: float
    last_resync: float = field(default=float("-inf"))


class SocketLimits:
    """Per connection (`sid`), forgotten when it disconnects."""

    def __init__(self, *, burst: int = EVENTS_BURST, rate: float = EVENTS_PER_SECOND,
                 resync_every: float = RESYNC_EVERY,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.burst = burst
        self.rate = rate
        self.resync_every = resync_every
        self._monotonic = monotonic
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def event(self, sid: str) -> float:
        """Take one event from `sid`'s bucket: 0 when allowed, else seconds until it would be."""
        now = self._monotonic()
        with self._lock:
            b = self._buckets.get(sid)
            if b is None:
                b = self._buckets[sid] = _Bucket(float(self.burst), now)
            b.tokens = min(float(self.burst), b.tokens + (now - b.stamp) * self.rate)
            b.stamp = now
            if b.tokens >= 1.0:
                b.tokens -= 1.0
                return 0.0
            return (1.0 - b.tokens) / self.rate

    def resync(self, sid: str) -> float:
        """A snapshot for `sid`: 0 when allowed (and counted), else seconds to wait."""
        now = self._monotonic()
        with self._lock:
            b = self._buckets.get(sid)
            if b is None:
                b = self._buckets[sid] = _Bucket(float(self.burst), now)
            wait = b.last_resync + self.resync_every - now
            if wait > 0:
                return wait
            b.last_resync = now
            return 0.0

    def forget(self, sid: str) -> None:
        with self._lock:
            self._buckets.pop(sid, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._buckets)
