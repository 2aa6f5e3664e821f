"""Platform sync, upward (layer 3, adapter): the outbox pushed to the platform, and the
heartbeat (docs/sync.md).

A daemon thread, woken by every commit (`wake`, a station listener), sends the events the
platform has not settled in batches and records its per-event answers; with the link up an
event reaches the platform well within a second. With the link down it backs off with jitter
(capped, 60 s by default, so a returning platform is caught up with within about a minute),
honours `Retry-After`, and survives any error. Nothing here runs on a request thread: a
check-in only sets an event.

The heartbeat (waiting counts and waits per service) goes every `heartbeat_seconds` and
sooner when a queue changed a lot since the last one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from contracts.backoff import Backoff

from .platform import PlatformClient, PlatformError, PlatformUnavailable
from .store import Store
from .store.outbox import Answer

log = logging.getLogger(__name__)

FIRST_BACKOFF = 1.0
MAX_RETRY_AFTER = 3600.0  # a platform asking for longer than this is probably wrong
CHANGE_CHECK_SECONDS = 5.0  # how often a wake may look for a large queue change
LARGE_CHANGE = 5  # waiting residents more or fewer in a service since the last heartbeat

HeartbeatSource = Callable[[], dict[str, Any]]


def _utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def large_change(last: dict[str, Any] | None, now: dict[str, Any]) -> bool:
    """Whether a heartbeat should go before its time: a service appeared or went, or its
    waiting count moved by `LARGE_CHANGE` or more."""
    if last is None:
        return True
    before = {s["service"]: s["waiting"] for s in last.get("services", [])}
    after = {s["service"]: s["waiting"] for s in now.get("services", [])}
    if before.keys() != after.keys():
        return True
    return any(abs(after[k] - before[k]) >= LARGE_CHANGE for k in after)


class Pusher:
    def __init__(self, store: Store, client: PlatformClient | None, *, batch_size: int = 200,
                 backoff_max: float = 60.0, heartbeat_seconds: float = 60.0,
                 heartbeat: HeartbeatSource | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.client = client
        self.batch_size = batch_size
        self.heartbeat_seconds = heartbeat_seconds
        self.heartbeat_source = heartbeat
        self._monotonic = monotonic
        self._backoff = Backoff(min(FIRST_BACKOFF, backoff_max), backoff_max, jitter=True)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_heartbeat: dict[str, Any] | None = None
        self._heartbeat_due = 0.0
        self._change_checked = 0.0
        self.last_error: str | None = None
        self.last_error_at: str | None = None
        self.last_heartbeat_at: str | None = None
        self.retry_at: float | None = None  # monotonic time of the next try after a failure
        # the last seq the backup holds (server/backup.py): nothing after it is sent, so the
        # platform never has an event a restored station lacks; None: no backup, no limit
        self.ceiling: Callable[[], int] | None = None

    # the station's listener: called on the committing thread, so it only sets a flag
    def wake(self, *_: Any) -> None:
        self._wake.set()

    def push_once(self) -> int:
        """Send everything pending, batch by batch; returns how many events were settled.
        Raises `PlatformError` when the platform cannot take them now."""
        if self.client is None:
            return 0
        settled = 0
        while not self._stop.is_set():
            batch = self.store.outbox(self.batch_size,
                                      self.ceiling() if self.ceiling is not None else None)
            if not batch:
                break
            results = self.client.push_events(batch)
            ids = {e["seq"]: e["id"] for e in batch}
            answers = [Answer(r["seq"], r["id"], r["result"], r.get("reason"))
                       for r in results if ids.get(r["seq"]) == r["id"]]
            before = batch[0]["seq"] - 1
            acked = self.store.settle(answers, _utcnow())
            for a in answers:
                if a.result in ("conflict", "rejected"):
                    log.warning("the platform answered %s for event %s (seq %d): %s",
                                a.result, a.event_id, a.seq, a.reason)
            if acked <= before:  # the platform answered nothing we could use
                raise PlatformUnavailable("the platform did not answer the first event")
            settled += acked - before
            if len(batch) < self.batch_size:
                break
        return settled

    def beat(self, *, force: bool = False) -> bool:
        """Send the heartbeat when it is due (or the queues changed a lot); True if sent."""
        if self.client is None or self.heartbeat_source is None:
            return False
        now = self._monotonic()
        if not force and now < self._heartbeat_due:
            if now - self._change_checked < CHANGE_CHECK_SECONDS:
                return False
            self._change_checked = now
            doc = self.heartbeat_source()
            if not large_change(self._last_heartbeat, doc):
                return False
        else:
            doc = self.heartbeat_source()
        self.client.heartbeat(doc)
        self._last_heartbeat = doc
        self._heartbeat_due = now + self.heartbeat_seconds
        self.last_heartbeat_at = _utcnow()
        return True

    def run_once(self) -> float | None:
        """One round: push, then the heartbeat. Returns the seconds to wait ignoring wakes
        (after a failure), or None to wait for the next commit or heartbeat."""
        try:
            self.push_once()
            self.beat()
        except PlatformError as err:
            return self._failed(err)
        self._backoff.reset()
        self.last_error = None
        self.retry_at = None
        return None

    def _failed(self, err: PlatformError) -> float:
        delay = self._backoff.delay()
        if isinstance(err, PlatformUnavailable) and err.retry_after:
            delay = max(delay, min(err.retry_after, MAX_RETRY_AFTER))  # never sooner than asked
        self.last_error = str(err)
        self.last_error_at = _utcnow()
        self.retry_at = self._monotonic() + delay
        log.warning("pushing to the platform failed (%d in a row, next try in %.1f s): %s",
                    self._backoff.failures, delay, err)
        return delay

    # the thread -----------------------------------------------------------------------------

    def start(self) -> None:
        if self.client is None or self._thread is not None:
            return
        self._stop.clear()
        self._wake.set()  # whatever is pending from before a restart goes at once
        self._thread = threading.Thread(target=self._loop, name="clinicq-push", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                pause = self.run_once()
            except Exception as exc:  # the worker must outlive a bug in one round
                log.exception("push round failed")
                pause = self._failed(PlatformError(f"internal error: {exc!r}"))
            if pause is not None:
                self._stop.wait(pause)  # commits during a backoff do not hammer the link
                continue
            wait = max(0.0, self._heartbeat_due - self._monotonic()) \
                if self.heartbeat_source is not None else None
            self._wake.wait(wait if wait is not None else 3600.0)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def status(self) -> dict[str, Any]:
        retry = None
        if self.retry_at is not None:
            retry = max(0.0, round(self.retry_at - self._monotonic(), 1))
        return {"last_push_error": self.last_error, "last_push_error_at": self.last_error_at,
                "last_heartbeat_at": self.last_heartbeat_at, "next_retry_seconds": retry,
                "backed_up_seq": self.ceiling() if self.ceiling is not None else None,
                **self.store.outbox_status()}
