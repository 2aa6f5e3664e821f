"""Thermal ticket printing: layout, ESC/POS encoding, drivers and status (hardware layer).

What a ticket says is decided by its caller (kiosk/ticket.py); this package lays
out the items it is given for the paper and prints them:

    items = [Line("V012", "center", scale=2), QrCode(url), Rule()]  # from .layout
    layout = TicketLayout.build(items, paper_mm=80, label="V012")
    printer = open_printer("network:192.168.1.50", chinese_mode="text")
    printer.print_ticket(layout)
    printer.status().state   # "ready", "paper_near_end", "paper_out", ...
"""

from hardware.printer.drivers import FakePrinter, PreviewPrinter, Printer
from hardware.printer.errors import (
    PrinterConfigError,
    PrinterCoverOpen,
    PrinterError,
    PrinterNotReady,
    PrinterPaperOut,
    PrinterTimeout,
    PrinterUnavailable,
)
from hardware.printer.factory import open_printer
from hardware.printer.layout import TicketLayout
from hardware.printer.status import PrinterStatus

__all__ = [
    "FakePrinter",
    "PreviewPrinter",
    "Printer",
    "PrinterConfigError",
    "PrinterCoverOpen",
    "PrinterError",
    "PrinterNotReady",
    "PrinterPaperOut",
    "PrinterStatus",
    "PrinterTimeout",
    "PrinterUnavailable",
    "TicketLayout",
    "open_printer",
]
