"""A recording fake scanner fed from code, for tests and demos (hardware layer)."""

from __future__ import annotations

import threading
import time
from collections import deque

from hardware.scanner.base import Clock, Report, ScanEvent, SourceScanner
from hardware.scanner.errors import ScannerUnavailable


class FakeSource:
    """A Source whose codes come from `feed()` and whose device can be unplugged."""

    name = "fake"

    def __init__(self) -> None:
        self._queue: deque[str] = deque()
        self._arrived = threading.Condition()
        self.plugged = True
        self.opened = 0

    def feed(self, text: str) -> None:
        with self._arrived:
            self._queue.append(text)
            self._arrived.notify_all()

    def open(self) -> None:
        if not self.plugged:
            raise ScannerUnavailable("fake scanner unplugged")
        self.opened += 1

    def poll(self, timeout: float, report: Report) -> list[str] | None:
        with self._arrived:
            if not self._queue and self.plugged:
                self._arrived.wait(timeout)
            if not self.plugged:
                raise ScannerUnavailable("fake scanner unplugged")
            codes = list(self._queue)
            self._queue.clear()
            return codes

    def close(self) -> None:
        pass


class FakeScanner(SourceScanner):
    """`scanner.feed("BK1:...")` then `scanner.read()`; keeps everything it was fed and emitted."""

    source: FakeSource

    def __init__(self, *, dedupe_seconds: float = 3.0, clock: Clock = time.monotonic) -> None:
        super().__init__(
            FakeSource(), dedupe_seconds=dedupe_seconds, clock=clock, backoff=(0.0, 0.0)
        )
        self.fed: list[str] = []
        self.emitted: list[ScanEvent] = []

    def feed(self, *texts: str) -> None:
        for text in texts:
            self.fed.append(text)
            self.source.feed(text)

    def unplug(self) -> None:
        self.source.plugged = False
        with self.source._arrived:
            self.source._arrived.notify_all()

    def replug(self) -> None:
        self.source.plugged = True

    def read(self, timeout: float = 0.0) -> ScanEvent | None:
        event = super().read(timeout)
        if event is not None:
            self.emitted.append(event)
        return event
