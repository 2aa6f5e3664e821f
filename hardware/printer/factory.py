"""`open_printer(spec)`: builds the Printer a configuration string names (hardware layer).

Specs:
    usb:VID:PID            e.g. usb:0x0416:0x5011 (hex, 0x optional)
    network:HOST[:PORT]    port 9100 by default; IPv6 as network:[::1]:9100
    serial:DEV[@BAUD]      e.g. serial:/dev/ttyUSB0@19200 (9600 by default)
    file:PATH              e.g. file:/dev/usb/lp0 (cannot read status)
    cups:NAME              a CUPS raw queue (cannot read status; needs pycups)
    dummy | fake           recording fake (FakePrinter); both names accepted
    preview:DIR            one PNG per ticket in DIR

Nothing is opened here: a printer that is switched off must not stop the
kiosk from starting. Connection errors surface from print_ticket/status.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from escpos.escpos import Escpos

from hardware.printer.drivers import FakePrinter, PreviewPrinter, Printer
from hardware.printer.errors import PrinterConfigError, PrinterUnavailable
from hardware.printer.escpos_bytes import MODES, ChineseMode
from hardware.printer.escpos_driver import EscposPrinter, capabilities

DEFAULT_PORT = 9100


def _hex(value: str, what: str, spec: str) -> int:
    try:
        number = int(value, 16)
    except ValueError as err:
        raise PrinterConfigError(f"bad {what} {value!r} in printer spec {spec!r}") from err
    if not 0 <= number <= 0xFFFF:
        raise PrinterConfigError(f"{what} out of range in printer spec {spec!r}")
    return number


def _host_port(rest: str, spec: str) -> tuple[str, int]:
    match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\](?::(\d+))?|([^:\[\]]+)(?::(\d+))?", rest)
    if not match:
        raise PrinterConfigError(f"printer spec {spec!r} is not network:HOST[:PORT]")
    host = match.group(1) or match.group(3)
    port = int(match.group(2) or match.group(4) or DEFAULT_PORT)
    if not 0 < port < 65536:
        raise PrinterConfigError(f"port out of range in printer spec {spec!r}")
    return host, port


def _usable(cls: type[Escpos], package: str) -> Callable[[], None]:
    def check() -> None:
        if not cls.is_usable():
            raise PrinterUnavailable(f"the Python package {package} is not installed")

    return check


def open_printer(
    spec: str,
    *,
    profile: str | None = None,
    chinese_mode: str = "text",
    timeout: float = 2.0,
) -> Printer:
    """The Printer for `spec` (see module docstring). Raises PrinterConfigError for a bad spec."""
    if chinese_mode not in MODES:
        raise PrinterConfigError(f"chinese_mode must be one of {MODES}, not {chinese_mode!r}")
    if timeout <= 0:
        raise PrinterConfigError("timeout must be positive")
    mode: ChineseMode = "text" if chinese_mode == "text" else "raster"
    caps = capabilities(profile)
    kind, _, rest = spec.strip().partition(":")
    kind = kind.lower()

    if kind in ("dummy", "fake"):
        return FakePrinter(chinese_mode=mode, caps=caps)
    if kind == "preview":
        if not rest:
            raise PrinterConfigError("preview printer needs a directory: preview:DIR")
        return PreviewPrinter(rest)
    if not rest:
        raise PrinterConfigError(f"printer spec {spec!r} needs an address after {kind!r}")

    # Deferred imports keep each transport's optional dependency (pyusb, pyserial,
    # pycups) from being needed unless that transport is configured.
    connect: Callable[[], Escpos]
    readable = True
    if kind == "network":
        from hardware.printer.escpos_driver import ClosingNetwork

        host, port = _host_port(rest, spec)
        connect = lambda: ClosingNetwork(host, port, timeout=timeout, profile=profile)  # noqa: E731
    elif kind == "usb":
        from escpos.printer import Usb

        parts = rest.split(":")
        if len(parts) != 2:
            raise PrinterConfigError(f"printer spec {spec!r} is not usb:VID:PID")
        vid, pid = _hex(parts[0], "vendor id", spec), _hex(parts[1], "product id", spec)
        check = _usable(Usb, "pyusb")

        def connect() -> Escpos:
            check()
            return Usb(vid, pid, timeout=int(timeout * 1000), profile=profile)

    elif kind == "serial":
        from escpos.printer import Serial

        dev, _, baud = rest.partition("@")
        if baud and not baud.isdigit():
            raise PrinterConfigError(f"bad baud rate in printer spec {spec!r}")
        rate = int(baud or 9600)
        check = _usable(Serial, "pyserial")

        def connect() -> Escpos:
            check()
            return Serial(dev, baudrate=rate, timeout=timeout, profile=profile)

    elif kind == "file":
        from escpos.printer import File

        connect = lambda: File(rest, profile=profile)  # noqa: E731
        readable = False
    elif kind == "cups":
        from escpos.printer import CupsPrinter

        check = _usable(CupsPrinter, "pycups")

        def connect() -> Escpos:
            check()
            return CupsPrinter(rest, profile=profile)

        readable = False
    else:
        raise PrinterConfigError(
            f"unknown printer spec {spec!r}: use usb:, network:, serial:, file:, cups:, "
            "preview:, dummy or fake"
        )
    return EscposPrinter(
        connect,
        name=spec,
        chinese_mode=mode,
        caps=caps,
        timeout=timeout,
        can_read_status=readable,
    )
