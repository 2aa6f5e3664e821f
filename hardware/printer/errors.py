"""Errors of the ticket printer drivers (hardware layer).

Vendor exceptions (python-escpos errors, OSError, socket timeouts, pyusb and
pyserial errors) are translated into these once, at the driver edge, with
``raise ... from err``; nothing above ``hardware.printer`` sees a vendor type.

    PrinterError
    ├── PrinterConfigError   bad printer spec, unknown profile or mode (also a ValueError)
    ├── PrinterUnavailable   cannot reach or open the device, or a library is missing
    ├── PrinterTimeout       the device took longer than the driver's timeout
    └── PrinterNotReady      the printer answered but cannot print now
        ├── PrinterPaperOut
        └── PrinterCoverOpen
"""

from __future__ import annotations


class PrinterError(Exception):
    """Base of every error raised by hardware.printer."""


class PrinterConfigError(PrinterError, ValueError):
    """The printer spec, profile or mode is not valid."""


class PrinterUnavailable(PrinterError):
    """The printer cannot be reached or opened."""


class PrinterTimeout(PrinterError):
    """The printer did not accept data or answer within the timeout."""


class PrinterNotReady(PrinterError):
    """The printer reported a state in which it cannot print."""


class PrinterPaperOut(PrinterNotReady):
    """The paper roll is empty."""


class PrinterCoverOpen(PrinterNotReady):
    """The printer cover is open."""
