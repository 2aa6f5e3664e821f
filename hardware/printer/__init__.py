"""Thermal ticket printing: layout, ESC/POS encoding, drivers and status (hardware layer).

    layout = TicketLayout.from_ticket(ticket, station_name=..., status_url=...)
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
