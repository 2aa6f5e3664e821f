"""The Scanner interface and the policy all drivers share: dedupe, health, reconnect (hardware).

A driver is split in two: a `Source` does the I/O of one transport (open,
poll for codes, close) and raises ScannerUnavailable when its device goes
away; `SourceScanner` wraps any Source with the policy, so that dropping
repeats, keeping health and reconnecting with backoff live in one place.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from contracts.backoff import Backoff
from hardware.scanner.errors import ScannerUnavailable

Clock = Callable[[], float]
Report = Callable[[str], None]


@dataclass(frozen=True)
class ScanEvent:
    """One code read by a scanner. `at` is the scanner's clock (monotonic by default)."""

    text: str
    source: str
    at: float


@runtime_checkable
class Scanner(Protocol):
    """What the kiosk needs from any scanner."""

    def read(self, timeout: float = 1.0) -> ScanEvent | None:
        """Wait up to `timeout` seconds for the next new code; None when none came."""
        ...

    def health(self) -> dict[str, Any]:
        """State of the device: ok / lost / ended / closed, last error, last scan time."""
        ...

    def close(self) -> None: ...


class Source(Protocol):
    """The I/O half of a driver: one transport, no policy."""

    name: str

    def open(self) -> None:
        """Acquire the device; raise ScannerUnavailable if it is not there."""
        ...

    def poll(self, timeout: float, report: Report) -> list[str] | None:
        """Codes that arrived within `timeout` ([] if none); None once the input has ended.

        Raise ScannerUnavailable when the device is lost; hand non-fatal
        problems (a garbage line, a corrupt file) to `report` and carry on.
        """
        ...

    def close(self) -> None: ...


class Deduper:
    """Drops a code seen again within `window` seconds of its last sighting.

    The window slides: a code held in front of a camera for ten seconds is one
    scan, not one every `window` seconds. A different code always passes.
    """

    def __init__(self, window: float, clock: Clock = time.monotonic) -> None:
        self.window = window
        self._clock = clock
        self._last_seen: dict[str, float] = {}

    def accept(self, text: str) -> bool:
        now = self._clock()
        if len(self._last_seen) > 256:  # forget old codes so a long day stays small
            self._last_seen = {k: t for k, t in self._last_seen.items() if now - t < self.window}
        last = self._last_seen.get(text)
        self._last_seen[text] = now
        return last is None or now - last >= self.window


class SourceScanner:
    """A Scanner made of a Source plus dedupe, health and reconnect-with-backoff."""

    def __init__(
        self,
        source: Source,
        *,
        dedupe_seconds: float = 3.0,
        clock: Clock = time.monotonic,
        backoff: tuple[float, float] = (0.25, 5.0),
    ) -> None:
        self.source = source
        self._clock = clock
        self._dedupe = Deduper(dedupe_seconds, clock)
        self._backoff = Backoff(*backoff)
        self._pending: deque[str] = deque()
        self._lock = threading.Lock()
        self._state = "connecting"
        self._opened = False
        self._retry_at = 0.0  # time.monotonic(); waiting is real time even under a fake clock
        self._last_error: str | None = None
        self._last_error_at: float | None = None
        self._last_scan_at: float | None = None
        self._counts = {"scans": 0, "repeats_dropped": 0, "problems": 0, "reconnects": 0}

    # -- Scanner ---------------------------------------------------------------

    def read(self, timeout: float = 1.0) -> ScanEvent | None:
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            event = self._next_pending()
            if event is not None:
                return event
            remaining = deadline - time.monotonic()
            if self._state in ("ended", "closed"):
                return None
            if not self._opened and not self._try_open():
                wait = min(remaining, self._retry_at - time.monotonic())
                if wait > 0:
                    time.sleep(wait)
                if time.monotonic() >= deadline:
                    return None
                continue
            try:
                codes = self.source.poll(max(remaining, 0.0), self._report)
            except ScannerUnavailable as err:
                self._lost(err)
                codes = []
            if codes is None:
                self._set_state("ended")
                self._close_source()
                return None
            self._pending.extend(codes)
            if not self._pending and time.monotonic() >= deadline:
                return None

    def health(self) -> dict[str, Any]:
        with self._lock:
            return {
                "source": self.source.name,
                "state": self._state,
                "ok": self._state == "ok",
                "last_error": self._last_error,
                "last_error_at": self._last_error_at,
                "last_scan_at": self._last_scan_at,
                **self._counts,
            }

    def close(self) -> None:
        self._close_source()
        self._set_state("closed")

    # -- policy ----------------------------------------------------------------

    def _next_pending(self) -> ScanEvent | None:
        while self._pending:
            text = self._pending.popleft()
            if not text:
                continue
            if not self._dedupe.accept(text):
                with self._lock:
                    self._counts["repeats_dropped"] += 1
                continue
            now = self._clock()
            with self._lock:
                self._last_scan_at = now
                self._counts["scans"] += 1
            return ScanEvent(text=text, source=self.source.name, at=now)
        return None

    def _try_open(self) -> bool:
        if time.monotonic() < self._retry_at:
            return False
        try:
            self.source.open()
        except ScannerUnavailable as err:
            self._lost(err)
            return False
        if self._last_error is not None:
            with self._lock:
                self._counts["reconnects"] += 1
        self._opened = True
        self._backoff.reset()
        self._set_state("ok")
        return True

    def _lost(self, err: ScannerUnavailable) -> None:
        self._close_source()
        self._retry_at = time.monotonic() + self._backoff.delay()
        with self._lock:
            self._state = "lost"
            self._last_error = str(err)
            self._last_error_at = self._clock()

    def _report(self, problem: str) -> None:
        with self._lock:
            self._last_error = problem
            self._last_error_at = self._clock()
            self._counts["problems"] += 1

    def _close_source(self) -> None:
        if self._opened:
            self._opened = False
            try:
                self.source.close()
            except ScannerUnavailable:
                pass  # closing a device that is already gone has nothing left to do

    def _set_state(self, state: str) -> None:
        with self._lock:
            self._state = state

    def __enter__(self) -> SourceScanner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
