"""Scanner driver for serial (RS-232 / USB-CDC) scanners through pyserial (hardware layer)."""

from __future__ import annotations

import re
import time
from typing import Any

from hardware.scanner.base import Report
from hardware.scanner.errors import ScannerUnavailable

_LINE_END = re.compile(rb"[\r\n]")
_MAX_LINE = 4096
# C0 controls other than TAB and GS (the GS1 field separator) mean line noise, not a code
_NOISE = re.compile(r"[\x00-\x08\x0a-\x1c\x1e\x1f\x7f]")


class SerialSource:
    """Reads CR/LF-terminated codes; bad lines are reported and dropped, never raised."""

    def __init__(self, port: str, baudrate: int = 9600) -> None:
        self.port = port
        self.baudrate = baudrate
        self.name = f"serial:{port}"
        self._ser: Any = None
        self._buf = bytearray()

    def open(self) -> None:
        import serial

        try:
            # exclusive: a second reader on the same port would steal half the bytes
            self._ser = serial.Serial(self.port, self.baudrate, timeout=0, exclusive=True)
        except (serial.SerialException, OSError, ValueError) as err:
            raise ScannerUnavailable(f"{self.name}: cannot open: {err}") from err
        self._buf.clear()  # half a code from before the unplug is garbage now

    def poll(self, timeout: float, report: Report) -> list[str] | None:
        import serial

        deadline = time.monotonic() + timeout
        while True:
            codes = self._take_lines(report)
            if codes:
                return codes
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            try:
                self._ser.timeout = min(remaining, 0.5)
                chunk = self._ser.read(max(1, self._ser.in_waiting))
            except (serial.SerialException, OSError, TypeError) as err:
                # TypeError: pyserial's fd turns None when the port vanishes mid-read
                raise ScannerUnavailable(f"{self.name}: lost: {err}") from err
            self._buf += chunk

    def _take_lines(self, report: Report) -> list[str]:
        codes: list[str] = []
        while (m := _LINE_END.search(self._buf)) is not None:
            raw = bytes(self._buf[: m.start()])
            del self._buf[: m.end()]
            if raw.strip():
                text = self._clean(raw, report)
                if text is not None:
                    codes.append(text)
        if len(self._buf) > _MAX_LINE:
            report(f"{self.name}: dropped {len(self._buf)} bytes without a line end")
            self._buf.clear()
        return codes

    def _clean(self, raw: bytes, report: Report) -> str | None:
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            report(f"{self.name}: dropped a line that is not UTF-8: {raw[:40]!r}")
            return None
        if _NOISE.search(text):
            report(f"{self.name}: dropped a line with control bytes: {raw[:40]!r}")
            return None
        return text

    def close(self) -> None:
        import serial

        ser, self._ser = self._ser, None
        if ser is not None:
            try:
                ser.close()
            except (serial.SerialException, OSError) as err:
                raise ScannerUnavailable(f"{self.name}: close failed: {err}") from err
