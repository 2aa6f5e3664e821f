"""Kiosk barcode scanners: decoding, drivers behind one Scanner interface, scan CLI (hardware).

Heavy vendor modules (cv2, zxingcpp, pyzbar, serial, evdev) are imported only
inside this package, and only when a driver or engine that needs them is used.
"""

from hardware.scanner.base import ScanEvent, Scanner, SourceScanner
from hardware.scanner.decode import decode_codes
from hardware.scanner.errors import (
    EngineUnavailable,
    ScannerConfigError,
    ScannerError,
    ScannerUnavailable,
    UnreadableImage,
)
from hardware.scanner.factory import open_scanner

__all__ = [
    "EngineUnavailable",
    "ScanEvent",
    "Scanner",
    "ScannerConfigError",
    "ScannerError",
    "ScannerUnavailable",
    "SourceScanner",
    "UnreadableImage",
    "decode_codes",
    "open_scanner",
]
