"""Printer status values and decoding of DLE EOT real-time status replies (hardware layer, pure).

DLE EOT n asks an ESC/POS printer for one status byte; every valid reply has
bits 1 and 4 set and bits 0 and 7 clear (mask 0x93 == 0x12):

    n=1 printer status   0x08 offline
    n=2 offline cause    0x04 cover open, 0x08 feed button, 0x20 stopped: paper end, 0x40 error
    n=3 error cause      0x04 mechanical, 0x08 cutter, 0x20 unrecoverable, 0x40 auto-recoverable
    n=4 paper sensor     0x0C paper near end, 0x60 paper end

No reply, or a reply that is not a status byte, means "unknown", never "ready".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

State = Literal["ready", "paper_near_end", "paper_out", "cover_open", "offline", "unknown"]
STATES: tuple[State, ...] = (
    "ready", "paper_near_end", "paper_out", "cover_open", "offline", "unknown",
)
QUERIES = (1, 2, 4, 3)  # the order the drivers ask in; 3 only matters when 2 reports an error


@dataclass(frozen=True)
class PrinterStatus:
    """What a printer reported: a stable `state` id plus a human `detail`."""

    state: State
    detail: str = ""
    replies: tuple[tuple[int, int], ...] = ()  # (n, status byte) as received, for diagnostics

    @property
    def can_print(self) -> bool:
        """Whether a ticket may be sent: ready or near end, or unknown (it may still print)."""
        return self.state in ("ready", "paper_near_end", "unknown")

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (the console and `clinicq printer status` show this)."""
        out = asdict(self)
        out["replies"] = {str(n): f"0x{b:02x}" for n, b in self.replies}
        return out


def query(n: int) -> bytes:
    """The DLE EOT n command."""
    return b"\x10\x04" + bytes((n,))


def valid(byte: int) -> bool:
    """Whether `byte` has the fixed bits of a DLE EOT status reply."""
    return byte & 0x93 == 0x12


def interpret(replies: dict[int, int | None]) -> PrinterStatus:
    """Turn the status bytes received per query (None = no reply) into a PrinterStatus."""
    got = tuple((n, b) for n, b in sorted(replies.items()) if b is not None)
    first = replies.get(1)
    if first is None:
        return PrinterStatus("unknown", "no reply to status query", got)
    if not all(valid(b) for _, b in got):
        return PrinterStatus("unknown", "reply is not an ESC/POS status byte", got)
    cause = replies.get(2)
    paper = replies.get(4)
    error = replies.get(3)
    if cause is not None and cause & 0x04:
        return PrinterStatus("cover_open", "cover open", got)
    if (cause is not None and cause & 0x20) or (paper is not None and paper & 0x60 == 0x60):
        return PrinterStatus("paper_out", "paper end", got)
    if cause is not None and cause & 0x40:
        return PrinterStatus("offline", _error_text(error), got)
    if first & 0x08:
        if cause is None:
            return PrinterStatus("offline", "offline, cause not reported", got)
        if cause & 0x08:
            return PrinterStatus("offline", "paper being fed with the feed button", got)
        return PrinterStatus("offline", "offline", got)
    if paper is not None and paper & 0x0C == 0x0C:
        return PrinterStatus("paper_near_end", "paper near end", got)
    if paper is None:
        return PrinterStatus("ready", "online; paper sensor not reported", got)
    return PrinterStatus("ready", "", got)


def _error_text(error: int | None) -> str:
    if error is None:
        return "error, cause not reported"
    causes = [name for bit, name in (
        (0x04, "mechanical error"),
        (0x08, "auto-cutter error"),
        (0x20, "unrecoverable error"),
        (0x40, "auto-recoverable error (e.g. head too hot)"),
    ) if error & bit]
    return ", ".join(causes) or "error"
