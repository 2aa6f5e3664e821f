"""`clinicq printer ...`: print a sample ticket or show a printer's status (hardware layer, CLI).

Exit codes: 0 success (for `status`: the printer is ready or paper is near
its end), 1 printer error or printer not ready, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timedelta, timezone

from hardware.printer.errors import PrinterError
from hardware.printer.factory import open_printer
from hardware.printer.layout import TicketLayout

SAMPLE_TICKET = {
    "id": "t_sample",
    "number": "V012",
    "service": "V",
    "service_name": "接种",
    "service_name_en": "Vaccination",
    "status": "waiting",
    "position": 3,
    "eta_minutes": 12,
    "counter": None,
    "booking_id": "b123",
    "slot": "09:00-09:30",
    "priority": False,
    "name_masked": "张*三",
}
SAMPLE_STATION = "幸福社区卫生服务站"
SAMPLE_URL = "http://127.0.0.1:5000/t/AbC123xyz"


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
        description="Print a sample ticket: 幸福社区卫生服务站, 接种, V012, with its QR code.",
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


def main(argv: list[str]) -> int:
    """Run `clinicq printer` with `argv` (without the program name); return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "test":
            printer = open_printer(args.printer, profile=args.profile, chinese_mode=args.mode)
            ticket = dict(SAMPLE_TICKET)
            now = datetime.now(timezone(timedelta(hours=8)))
            ticket["issued_at"] = now.isoformat(timespec="seconds")
            layout = TicketLayout.from_ticket(
                ticket,
                station_name=SAMPLE_STATION,
                status_url=SAMPLE_URL,
                paper_mm=args.paper,
                show_barcode=args.barcode,
            )
            printer.print_ticket(layout)
            print(f"printed sample ticket {layout.number} on {args.printer}")
            return 0
        printer = open_printer(args.printer, profile=args.profile, timeout=args.timeout)
        state = printer.status()
        print(json.dumps({"printer": args.printer, **state.to_dict()}, ensure_ascii=False))
        return 0 if state.state in ("ready", "paper_near_end") else 1
    except PrinterError as err:
        print(f"printer error: {err}", file=sys.stderr)
        return 1
