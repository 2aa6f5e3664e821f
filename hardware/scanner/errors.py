"""Errors of the scanner package (hardware layer); vendor exceptions become these once, at the edge.

ScannerError                  base of everything this package raises
├── ScannerConfigError        a bad spec such as "camera:x" or an unknown engine
├── ScannerUnavailable        the device (or folder, port, camera) is missing or was lost
│   └── EngineUnavailable     a decode engine is missing (no libzbar0 for pyzbar, ...)
└── UnreadableImage           an image file that cannot be loaded (corrupt, missing, not an image)
"""

from __future__ import annotations


class ScannerError(Exception):
    """Base of the scanner layer's errors."""


class ScannerConfigError(ScannerError, ValueError):
    """A scanner spec or option that makes no sense."""


class ScannerUnavailable(ScannerError):
    """The device cannot be opened or stopped answering (unplugged, no permission, no frames)."""


class EngineUnavailable(ScannerUnavailable):
    """A decode engine cannot be loaded on this machine."""


class UnreadableImage(ScannerError):
    """An image file that cannot be loaded or is not an image."""
