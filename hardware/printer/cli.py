"""`clinicq printer ...`: print a sample ticket or show a printer's status (hardware layer, CLI).

The sample ticket is handed in by the caller (`clinicq` passes the kiosk's, from
kiosk/ticket.py), since what a ticket says is not this package's to decide.

Exit codes: 0 success (for `status`: the printer is ready or paper is near
its end), 1 printer error or printer not ready, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from hardware.printer.errors import PrinterError
from hardware.printer.factory import open_printer
from hardware.printer.layout import TicketLayout

SampleTicket = Callable[[int, bool], TicketLayout]  # (paper_mm, with_barcode) -> layout


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used by the tests that check every command has help)."""
    parser = argparse.ArgumentParser(
        prog="clinicq printer", description="Test a ticket printer and read its status."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    printer_help = (
        "printer spec: usb:VID:PID, network:HOST[:PORT], serial:DEV[@BAUD], file:PATH, "
        "cups:NAME, preview:DIR, dummy"
    )

    test = sub.add_parser(
        "test",
        help="print a sample ticket (Chinese and English, QR code, cut)",
        description="Print a sample ticket as the kiosk prints one (Chinese and English, "
        "its QR code), then cut.",
    )
    test.add_argument("--printer", required=True, metavar="SPEC", help=printer_help)
    test.add_argument("--paper", type=int, choices=(58, 80), default=80, help="paper width in mm")
    test.add_argument(
        "--mode",
        choices=("text", "raster"),
        default="text",
        help="Chinese as the printer's font (text) or as an image (raster)",
    )
    test.add_argument("--profile", help="python-escpos printer profile, e.g. TM-T88V, POS-5890")
    test.add_argument("--barcode", action="store_true", help="also print the number as Code 128")

    status = sub.add_parser(
        "status",
        help="query the printer's status and print it as JSON",
        description="Ask the printer for its status (DLE EOT) and print JSON on stdout.",
    )
    status.add_argument("--printer", required=True, metavar="SPEC", help=printer_help)
    status.add_argument("--profile", help="python-escpos printer profile")
    status.add_argument(
        "--timeout", type=float, default=2.0, help="seconds to wait for an answer (default 2)"
    )
    return parser


def main(argv: list[str], *, sample: SampleTicket) -> int:
    """Run `clinicq printer` with `argv` (without the program name); return the exit code.

    `sample` lays out the ticket that `test` prints.
    """
    args = build_parser().parse_args(argv)
    try:
        if args.command == "test":
            printer = open_printer(args.printer, profile=args.profile, chinese_mode=args.mode)
            layout = sample(args.paper, args.barcode)
            printer.print_ticket(layout)
            print(f"printed sample ticket {layout.label} on {args.printer}")
            return 0
        printer = open_printer(args.printer, profile=args.profile, timeout=args.timeout)
        state = printer.status()
        print(json.dumps({"printer": args.printer, **state.to_dict()}, ensure_ascii=False))
        return 0 if state.state in ("ready", "paper_near_end") else 1
    except PrinterError as err:
        print(f"printer error: {err}", file=sys.stderr)
        return 1
