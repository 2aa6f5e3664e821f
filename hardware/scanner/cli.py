"""`clinicq scan FILE...`: decode image files as the camera would, one JSON line each (hardware)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TextIO

from hardware.scanner.decode import ENGINES, decode_codes
from hardware.scanner.errors import ScannerError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clinicq scan",
        description="Decode QR Code and Code 128 barcodes in image files, as the kiosk camera "
        'would. Prints one JSON line per file: {"file", "codes", "ms"} or an "error".',
    )
    parser.add_argument(
        "files", nargs="+", metavar="FILE", help="image files (png, jpg, webp, ...)"
    )
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="zxing",
        help="decoder: zxing (zxing-cpp, default) or pyzbar (needs libzbar0)",
    )
    parser.add_argument(
        "--no-fallbacks", action="store_true", help="run only the engine's plain pass (to compare)"
    )
    return parser


def scan_main(argv: list[str], out: TextIO | None = None) -> int:
    """Return 0 when every file was read (with or without codes), 1 if any could not be."""
    args = build_parser().parse_args(argv)
    out = out if out is not None else sys.stdout
    failed = 0
    for name in args.files:
        start = time.perf_counter()
        line: dict[str, object] = {"file": name}
        try:
            line["codes"] = decode_codes(name, engine=args.engine, fallbacks=not args.no_fallbacks)
        except ScannerError as err:
            failed += 1
            line["error"] = str(err)
        line["ms"] = round((time.perf_counter() - start) * 1000, 2)
        print(json.dumps(line, ensure_ascii=False), file=out, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(scan_main(sys.argv[1:]))
