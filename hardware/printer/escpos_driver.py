"""Real ESC/POS printers over python-escpos connectors; translates vendor errors (hardware layer).

python-escpos is used for transport only (USB, network, serial, file, CUPS
and their profiles); the bytes come from `escpos_bytes`. Each job opens the
connection and closes it again: network printers usually accept one client
at a time, and a station must not hold the port between tickets.

Timeouts: connecting and status replies use `timeout` (≤ 2 s by default);
sending a ticket may take `write_timeout`, since a printer drains its
buffer only as fast as it prints.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from escpos import exceptions as escpos_errors
from escpos.capabilities import get_profile
from escpos.escpos import Escpos
from escpos.printer import Network

from hardware.printer.drivers import logo_for
from hardware.printer.errors import (
    PrinterConfigError,
    PrinterCoverOpen,
    PrinterError,
    PrinterNotReady,
    PrinterPaperOut,
    PrinterTimeout,
    PrinterUnavailable,
)
from hardware.printer.escpos_bytes import Capabilities, ChineseMode, encode_ticket
from hardware.printer.layout import TicketLayout
from hardware.printer.status import QUERIES, PrinterStatus, interpret, query

PRECHECK_TIMEOUT = 0.5  # status check before each ticket: short, a silent printer may still print


def capabilities(profile: str | None) -> Capabilities:
    """Capabilities of a python-escpos profile ("TM-T88V", "POS-5890", ...; None = default)."""
    try:
        prof = get_profile(profile)
    except KeyError as err:
        raise PrinterConfigError(f"unknown printer profile {profile!r}") from err
    features = prof.features
    pixels = prof.profile_data.get("media", {}).get("width", {}).get("pixels")
    return Capabilities(
        full_cut=bool(features.get("paperFullCut", True)),
        partial_cut=bool(features.get("paperPartCut", True)),
        native_qr=bool(features.get("qrCode", True)),
        native_barcode=bool(features.get("barcodeB", True)),
        max_dots=pixels if isinstance(pixels, int) and pixels > 0 else None,
    )


def _is_timeout(err: BaseException | None) -> bool:
    # socket.timeout is TimeoutError; pyusb and pyserial have their own *Timeout* classes.
    return isinstance(err, TimeoutError) or (
        err is not None and "timeout" in type(err).__name__.lower()
    )


@contextmanager
def vendor_errors(where: str) -> Iterator[None]:
    """Turn python-escpos, OS, socket, USB and serial errors into PrinterError subclasses."""
    try:
        yield
    except PrinterError:
        raise
    except escpos_errors.DeviceNotFoundError as err:
        # python-escpos wraps a connect timeout in DeviceNotFoundError; keep the distinction.
        if _is_timeout(err.__context__):
            raise PrinterTimeout(f"{where}: no answer while connecting") from err
        raise PrinterUnavailable(f"{where}: {err}") from err
    except escpos_errors.Error as err:
        raise PrinterError(f"{where}: {err}") from err
    except OSError as err:  # includes socket errors, usb.core.USBError, serial.SerialException
        if _is_timeout(err):
            raise PrinterTimeout(f"{where}: timed out ({err})") from err
        raise PrinterUnavailable(f"{where}: {err}") from err


def _set_timeout(conn: Escpos, seconds: float) -> None:
    dev: Any = conn.device
    if hasattr(dev, "settimeout"):  # socket
        dev.settimeout(seconds)
    elif hasattr(dev, "default_timeout"):  # pyusb device, milliseconds
        dev.default_timeout = max(1, int(seconds * 1000))
    elif hasattr(dev, "timeout"):  # pyserial
        dev.timeout = seconds
        dev.write_timeout = seconds


def _read_reply(conn: Escpos) -> bytes:
    dev: Any = conn.device
    if hasattr(dev, "recv"):
        return bytes(dev.recv(16))
    if hasattr(dev, "in_waiting"):
        return bytes(dev.read(1))  # escpos reads 16 bytes, which waits out the timeout
    return bytes(conn._read())


class ClosingNetwork(Network):  # type: ignore[misc]
    """python-escpos's Network, but a failed connect closes its socket and keeps the OSError.

    `Network.open` drops the socket unclosed when `connect` fails (a
    ResourceWarning per attempt on a kiosk that retries all day) and hides a
    connect timeout inside DeviceNotFoundError.
    """

    def open(self, raise_not_found: bool = True) -> None:
        """Connect with `socket.create_connection`, which closes the socket on failure."""
        if self._device:
            self.close()
        self.device = socket.create_connection((self.host, self.port), timeout=self.timeout)


class EscposPrinter:
    """A printer reached through a python-escpos connector made by `connect()`."""

    def __init__(
        self,
        connect: Callable[[], Escpos],
        *,
        name: str,
        chinese_mode: ChineseMode = "text",
        caps: Capabilities | None = None,
        timeout: float = 2.0,
        write_timeout: float = 15.0,
        can_read_status: bool = True,
        check_before_print: bool = True,
    ) -> None:
        self._connect = connect
        self.name = name
        self.chinese_mode = chinese_mode
        self.caps = caps or Capabilities()
        self.timeout = timeout
        self.write_timeout = max(write_timeout, timeout)
        self.can_read_status = can_read_status
        self.check_before_print = check_before_print and can_read_status
        self._answers_status: bool | None = None  # learnt: some printers never answer DLE EOT
        self._lock = threading.Lock()

    @contextmanager
    def _session(self) -> Iterator[Escpos]:
        with vendor_errors(f"printer {self.name}"):
            conn = self._connect()
            conn.open()
            try:
                yield conn
            finally:
                try:
                    conn.close()
                except (OSError, escpos_errors.Error):
                    pass  # closing a broken connection has nothing more to tell

    def _query(self, conn: Escpos, timeout: float) -> PrinterStatus:
        deadline = time.monotonic() + timeout
        replies: dict[int, int | None] = {}
        for n in QUERIES:
            if n == 3 and not (replies.get(2) or 0) & 0x40:
                continue  # the error cause only matters when the printer reports an error
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            _set_timeout(conn, remaining)
            conn._raw(query(n))
            try:
                data = _read_reply(conn)
            except NotImplementedError:
                return PrinterStatus("unknown", "this connection cannot read printer status")
            except OSError as err:
                if not _is_timeout(err):
                    raise
                data = b""
            if not data:
                break
            replies[n] = data[-1]
        result = interpret(replies)
        if 1 not in replies:
            result = PrinterStatus("unknown", f"no status reply within {timeout:g} s")
        return result

    def status(self) -> PrinterStatus:
        """Ask the printer (DLE EOT 1, 2, 4, and 3 on error) within `timeout` seconds in all."""
        if not self.can_read_status:
            return PrinterStatus("unknown", f"{self.name}: this connection cannot read status")
        try:
            with self._lock, self._session() as conn:
                result = self._query(conn, self.timeout)
        except PrinterTimeout as err:
            return PrinterStatus("unknown", str(err))
        except PrinterError as err:
            return PrinterStatus("offline", str(err))
        self._answers_status = 1 in dict(result.replies)
        return result

    def print_ticket(self, layout: TicketLayout) -> None:
        """Check the printer can print (when it answers status), then send the ticket bytes."""
        data = encode_ticket(
            layout,
            mode=self.chinese_mode,
            caps=self.caps,
            logo=logo_for(layout, min(layout.dots, self.caps.max_dots or layout.dots)),
        )
        with self._lock, self._session() as conn:
            if self.check_before_print and self._answers_status is not False:
                state = self._query(conn, min(self.timeout, PRECHECK_TIMEOUT))
                self._answers_status = 1 in dict(state.replies)
                _raise_if_cannot_print(state)
            _set_timeout(conn, self.write_timeout)
            conn._raw(data)  # python-escpos has no public "send these bytes" method


def _raise_if_cannot_print(state: PrinterStatus) -> None:
    if state.state == "paper_out":
        raise PrinterPaperOut(state.detail)
    if state.state == "cover_open":
        raise PrinterCoverOpen(state.detail)
    if state.state == "offline":
        raise PrinterNotReady(state.detail)
