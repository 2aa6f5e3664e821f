"""Builds a Scanner from a spec like "camera:0" or "serial:/dev/ttyACM0:9600" (hardware layer)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from hardware.scanner.base import Clock, Scanner, SourceScanner
from hardware.scanner.decode import ENGINES
from hardware.scanner.errors import ScannerConfigError

SPECS = (
    "camera:N (or camera:VIDEO-FILE-OR-URL)",
    "hid:/dev/input/eventN",
    "serial:DEV[:BAUD]",
    "stdin",
    "images:DIR",
    "fake",
)


def open_scanner(
    spec: str,
    *,
    dedupe_seconds: float = 3.0,
    engine: str = "zxing",
    clock: Clock = time.monotonic,
    stdin: TextIO | None = None,
) -> Scanner:
    """Return a Scanner for `spec`; opening is lazy, so a missing device shows in health()."""
    if engine not in ENGINES:
        raise ScannerConfigError(f"unknown decode engine {engine!r}; choose one of {ENGINES}")
    kind, _, arg = spec.partition(":")
    kind = kind.strip().lower()

    def wrap(source: object) -> SourceScanner:
        return SourceScanner(source, dedupe_seconds=dedupe_seconds, clock=clock)  # type: ignore[arg-type]

    if kind == "fake" and not arg:
        from hardware.scanner.fake import FakeScanner

        return FakeScanner(dedupe_seconds=dedupe_seconds, clock=clock)
    if kind == "stdin" and not arg:
        from hardware.scanner.stdin import StdinSource

        return wrap(StdinSource(stdin if stdin is not None else sys.stdin))
    if kind == "camera" and arg:
        from hardware.scanner.camera import CameraSource

        target: int | str = int(arg) if arg.isdigit() else arg
        return wrap(CameraSource(target, engine=engine))
    if kind == "hid" and arg:
        from hardware.scanner.hid import HidSource

        return wrap(HidSource(arg))
    if kind == "serial" and arg:
        from hardware.scanner.serialport import SerialSource

        port, _, baud = arg.rpartition(":")
        if port and baud.isdigit():
            return wrap(SerialSource(port, int(baud)))
        return wrap(SerialSource(arg))
    if kind == "images" and arg:
        from hardware.scanner.images import ImagesSource

        return wrap(ImagesSource(arg, engine=engine))
    raise ScannerConfigError(f"unknown scanner spec {spec!r}; expected one of: {', '.join(SPECS)}")
