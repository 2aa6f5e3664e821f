"""Scanner driver decoding OpenCV camera frames (or a video file / stream URL) (hardware layer)."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from hardware.scanner.base import Report
from hardware.scanner.decode import decode_codes
from hardware.scanner.errors import ScannerError, ScannerUnavailable


class CameraSource:
    """`target` is a camera index (0 = /dev/video0) or anything cv2.VideoCapture opens."""

    def __init__(self, target: int | str, *, engine: str = "zxing", max_empty: int = 25) -> None:
        self.target = target
        self.engine = engine
        self.name = f"camera:{target}"
        # a USB camera that stops delivering frames is as gone as an unplugged one
        self._max_empty = max_empty
        self._empty = 0
        self._cap: Any = None

    def open(self) -> None:
        if isinstance(self.target, int) and sys.platform == "linux":
            node = f"/dev/video{self.target}"
            if not os.path.exists(node):
                # checked first so retries every few seconds do not make OpenCV log warnings
                raise ScannerUnavailable(f"{self.name}: {node} does not exist (camera unplugged?)")
        import cv2

        try:
            if isinstance(self.target, int) and sys.platform == "linux":
                cap = cv2.VideoCapture(self.target, cv2.CAP_V4L2)
            else:
                cap = cv2.VideoCapture(self.target)
            opened = cap.isOpened()
        except cv2.error as err:
            raise ScannerUnavailable(f"{self.name}: cannot open: {err}") from err
        if not opened:
            cap.release()
            raise ScannerUnavailable(f"{self.name}: cannot open (no such camera, or no permission)")
        self._cap = cap
        self._empty = 0

    def poll(self, timeout: float, report: Report) -> list[str] | None:
        import cv2

        try:
            ok, frame = self._cap.read()
        except cv2.error as err:
            raise ScannerUnavailable(f"{self.name}: read failed: {err}") from err
        if not ok or frame is None:
            self._empty += 1
            if self._empty >= self._max_empty:
                raise ScannerUnavailable(f"{self.name}: camera returns no frames")
            time.sleep(min(timeout, 0.04))
            return []
        self._empty = 0
        try:
            return decode_codes(frame, engine=self.engine)
        except ScannerError as err:
            report(f"{self.name}: {err}")
            return []

    def close(self) -> None:
        cap, self._cap = self._cap, None
        if cap is not None:
            cap.release()
