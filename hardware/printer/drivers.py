"""The Printer interface and its in-process drivers: recording fake, PNG preview (hardware layer).

Real devices are in `escpos_driver`; `open_printer` in `factory` picks one
from a spec string. Everything here records what it was given so tests and
the kiosk's demo mode can look at it.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from pathlib import Path
from typing import Protocol, runtime_checkable

from PIL import Image

from hardware.printer import raster
from hardware.printer.errors import PrinterError, PrinterUnavailable
from hardware.printer.escpos_bytes import Capabilities, ChineseMode, encode_ticket
from hardware.printer.layout import Logo, TicketLayout
from hardware.printer.status import PrinterStatus

log = logging.getLogger(__name__)


@runtime_checkable
class Printer(Protocol):
    """A ticket printer: prints a layout, reports its state."""

    def print_ticket(self, layout: TicketLayout) -> None:
        """Print one ticket. Raises a PrinterError subclass, never a vendor exception."""
        ...

    def status(self) -> PrinterStatus:
        """The printer's state now; "unknown" when it does not say."""
        ...


_logo_cache: dict[tuple[str, int, float], Image.Image] = {}


def logo_for(layout: TicketLayout, dots: int) -> Image.Image | None:
    """The layout's logo loaded for printing, or None (a missing logo must not stop a ticket)."""
    path = next((blk.path for blk in layout.blocks if isinstance(blk, Logo)), None)
    if path is None:
        return None
    try:
        key = (path, dots, Path(path).stat().st_mtime)
        if key not in _logo_cache:
            _logo_cache[key] = raster.load_logo(path, dots)
        return _logo_cache[key]
    except OSError as err:
        log.warning("ticket logo %s not printed: %s", path, err)
        return None


class FakePrinter:
    """Recording fake: keeps the layouts it was given (`printed`) and their exact bytes (`jobs`).

    The bytes are what a real printer would receive, encoded as `EscposPrinter`
    encodes them (python-escpos's Dummy plays the same part for its printers).

    `next_status` is what `status()` returns; `fail_with`, when set, is raised by
    the next `print_ticket` calls (to test how callers handle a jammed printer).
    """

    def __init__(
        self,
        *,
        chinese_mode: ChineseMode = "text",
        caps: Capabilities | None = None,
        status: PrinterStatus | None = None,
        fail_with: PrinterError | None = None,
    ) -> None:
        self.chinese_mode = chinese_mode
        self.caps = caps or Capabilities()
        self.next_status = status or PrinterStatus("ready", "dummy printer")
        self.fail_with = fail_with
        self.printed: list[TicketLayout] = []
        self.jobs: list[bytes] = []
        self._lock = threading.Lock()

    @property
    def output(self) -> bytes:
        """All bytes "sent" so far, in order."""
        return b"".join(self.jobs)

    def print_ticket(self, layout: TicketLayout) -> None:
        """Encode the ticket exactly as a real printer would receive it, and keep it."""
        if self.fail_with is not None:
            raise self.fail_with
        data = encode_ticket(
            layout, mode=self.chinese_mode, caps=self.caps, logo=logo_for(layout, layout.dots)
        )
        with self._lock:
            self.jobs.append(data)
            self.printed.append(layout)

    def status(self) -> PrinterStatus:
        """Whatever the test or demo set in `next_status`."""
        return self.next_status

    def clear(self) -> None:
        """Forget what was printed."""
        with self._lock:
            self.jobs.clear()
            self.printed.clear()


class PreviewPrinter:
    """Writes each ticket as a PNG that looks like the printout; `paths` lists the files written."""

    def __init__(self, directory: str | Path, *, font_path: str = raster.DEFAULT_FONT) -> None:
        self.directory = Path(directory)
        self.font_path = font_path
        self.printed: list[TicketLayout] = []
        self.paths: list[Path] = []
        self._lock = threading.Lock()

    def print_ticket(self, layout: TicketLayout) -> None:
        """Render the ticket with the raster renderer and save it as NNNN-LABEL.png."""
        image = raster.render_preview(
            layout, logo=logo_for(layout, layout.dots), font_path=self.font_path
        )
        safe = re.sub(r"[^A-Za-z0-9_-]", "_", layout.label)[:32] or "ticket"
        with self._lock:
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                seq = len(self.paths) + 1
                path = self.directory / f"{seq:04d}-{safe}.png"
                while path.exists():  # never overwrite an earlier session's preview
                    seq += 1
                    path = self.directory / f"{seq:04d}-{safe}.png"
                image.save(path, "PNG")
            except OSError as err:
                message = f"cannot write preview in {self.directory}: {err}"
                raise PrinterUnavailable(message) from err
            self.paths.append(path)
            self.printed.append(layout)

    def status(self) -> PrinterStatus:
        """Ready when the directory exists (or can be made) and is writable."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            return PrinterStatus("offline", f"preview directory unusable: {err}")
        if not os.access(self.directory, os.W_OK):
            return PrinterStatus("offline", f"preview directory not writable: {self.directory}")
        return PrinterStatus("ready", f"preview to {self.directory}")
