"""What a queue ticket says and where, independent of any printer (hardware layer, pure: no I/O).

`TicketLayout.from_ticket` turns a ticket dict into a tuple of blocks (text
lines already wrapped to the paper's columns, a QR code, an optional Code 128
and logo). Encoders (`escpos_bytes`, `raster`) only walk the blocks, so every
decision about content, order, wrapping and size lives here.

Widths are counted in cells of Font A (12 x 24 dots): a CJK or full-width
character takes two cells, everything else one. 58 mm paper has 32 cells
(384 dots), 80 mm has 48 cells (576 dots).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

Align = Literal["left", "center", "right"]

PAPER: dict[int, tuple[int, int]] = {58: (32, 384), 80: (48, 576)}  # mm -> (cells, dots)
CELL_DOTS = 12  # Font A is 12 dots wide per half-width cell
QR_MODULE_DOTS = {58: 6, 80: 8}  # preferred dots per module: ~25-30 mm codes scan from a phone
BIG_MAX_SCALE = {58: 4, 80: 5}  # GS ! magnification of the ticket number
MAX_SCALE = 8  # ESC/POS GS ! allows 1..8

# Characters that must not start a line (CJK line-breaking rule, kinsoku).
_NO_LINE_START = set("，。、；：！？）」』】》〉”’,.;:!?)]}%")


def cell_width(ch: str) -> int:
    """Cells a character occupies on the printer: 2 for wide and ambiguous, 0 for combining."""
    if unicodedata.combining(ch):
        return 0
    # Ambiguous-width characters (—, ·, Greek, Cyrillic) print full-width in GB fonts.
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F", "A") else 1


def text_width(text: str) -> int:
    """Cells a string occupies."""
    return sum(cell_width(ch) for ch in text)


def clean_text(value: Any) -> str:
    """One line of printable text: NFC, control and format characters dropped, whitespace collapsed.

    Control characters matter: an ESC or GS inside a name would otherwise reach the
    printer as a command.
    """
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in "\t\r\n\v\f\u2028\u2029" or cat == "Zs":
            out.append(" ")
        elif cat in ("Cc", "Cf", "Cs"):
            continue
        else:
            out.append(ch)
    return " ".join("".join(out).split())


def wrap(text: str, width: int) -> list[str]:
    """Wrap to at most `width` cells per line; breaks at spaces or around CJK, never overflows."""
    width = max(width, 2)  # a wide character needs two cells
    lines: list[str] = []
    line = ""
    used = 0
    brk = -1  # index in `line` after which a break is allowed
    for ch in text:
        w = cell_width(ch)
        if used + w > width:
            if ch == " ":
                lines.append(line.rstrip())
                line, used, brk = "", 0, -1
                continue
            if 0 <= brk < len(line) - 1 and line[brk + 1] not in _NO_LINE_START:
                head, tail = line[: brk + 1], line[brk + 1 :]
            elif ch in _NO_LINE_START and len(line) > 1:
                head, tail = line[:-1], line[-1]  # carry one character so punctuation is not alone
            else:
                head, tail = line, ""
            lines.append(head.rstrip())
            line = tail.lstrip()
            used = text_width(line)
            brk = -1
        if not line and ch == " ":
            continue
        line += ch
        used += w
        if ch == " " or w == 2:
            brk = len(line) - 1
        elif len(line) > 1 and cell_width(line[-2]) == 2:
            brk = len(line) - 2
    if line.strip():
        lines.append(line.rstrip())
    return lines


@dataclass(frozen=True)
class Text:
    """Lines already wrapped to fit the paper at this scale."""

    lines: tuple[str, ...]
    align: Align = "left"
    scale: int = 1  # width and height magnification (GS ! / font size)
    bold: bool = False


@dataclass(frozen=True)
class Rule:
    """A dashed separator across the paper."""


@dataclass(frozen=True)
class Feed:
    """Blank lines."""

    lines: int = 1


@dataclass(frozen=True)
class Qr:
    """A QR code printed with the printer's native command."""

    payload: str
    module_dots: int  # 1..16, chosen so the symbol fits the paper


@dataclass(frozen=True)
class Barcode:
    """A Code 128 (code set B) with its human-readable text below."""

    data: str


@dataclass(frozen=True)
class Logo:
    """An image file printed above the station name; loading it is the driver's job."""

    path: str


Block = Text | Rule | Feed | Qr | Barcode | Logo


def _as_int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def _issued_text(value: Any) -> str:
    if not value:
        return ""
    try:
        return datetime.fromisoformat(str(value)).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return clean_text(value)[:32]  # show what we got rather than nothing


# Byte-mode capacity of QR versions 1..40 at error correction M (ISO/IEC 18004 table 7).
_QR_BYTES_M = (
    14, 26, 42, 62, 84, 106, 122, 152, 180, 213, 251, 287, 331, 362, 412, 450, 504, 560, 624,
    666, 711, 779, 857, 911, 997, 1059, 1125, 1190, 1264, 1370, 1452, 1538, 1628, 1722, 1809,
    1911, 1989, 2099, 2213, 2331,
)


def qr_modules(payload: str) -> int:
    """Modules per side of the printer's QR code (byte mode, level M: an upper bound)."""
    size = len(payload.encode("utf-8"))
    version = next((v for v, cap in enumerate(_QR_BYTES_M, 1) if cap >= size), 40)
    return 17 + 4 * version


def _qr_module_dots(payload: str, paper_mm: int, dots: int) -> int:
    # Size the code from its module count so long URLs still fit the paper.
    fit = dots // (qr_modules(payload) + 2)
    return max(1, min(QR_MODULE_DOTS.get(paper_mm, 6), fit, 16))


_BARCODE_OK = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-")


@dataclass(frozen=True)
class TicketLayout:
    """Everything a printer needs for one ticket, as a tuple of blocks."""

    number: str
    status_url: str
    paper_mm: int
    columns: int
    dots: int
    blocks: tuple[Block, ...]
    ticket_id: str = ""

    @classmethod
    def from_ticket(
        cls,
        ticket: dict[str, Any],
        *,
        station_name: str,
        status_url: str,
        paper_mm: int = 80,
        english: bool = True,
        logo_path: str | None = None,
        show_barcode: bool = False,
        columns: int | None = None,
        dots: int | None = None,
    ) -> TicketLayout:
        """Lay out a ticket; `columns`/`dots` override the paper defaults (42-column models)."""
        if paper_mm not in PAPER:
            raise ValueError(f"paper_mm must be one of {sorted(PAPER)}, not {paper_mm!r}")
        cols = columns or PAPER[paper_mm][0]
        width_dots = dots or PAPER[paper_mm][1]
        b = _Builder(cols)

        if logo_path:
            b.blocks.append(Logo(str(logo_path)))
        b.text(station_name, align="center", bold=True)
        b.rule()

        service = clean_text(ticket.get("service_name")) or clean_text(ticket.get("service"))
        b.text(service, align="center", scale=2, bold=True)
        if english:
            b.text(ticket.get("service_name_en"), align="center")

        number = clean_text(ticket.get("number")) or "?"
        big = max(1, min(BIG_MAX_SCALE[paper_mm], cols // max(text_width(number), 1)))
        b.text(number, align="center", scale=big, bold=True)
        if ticket.get("priority"):
            b.text("优先" + (" / Priority" if english else ""), align="center", bold=True)
        b.text(ticket.get("name_masked"), align="center")
        b.rule()

        position = _as_int(ticket.get("position"))
        if position is not None and position > 0:
            b.pair(f"排队位置：第 {position} 位", f"Position in queue: {position}", english)
        eta = _as_int(ticket.get("eta_minutes"))
        if eta is not None and eta >= 0:
            if eta == 0:
                b.pair("预计等候：即将叫号", "Estimated wait: shortly", english)
            else:
                b.pair(f"预计等候：约 {eta} 分钟", f"Estimated wait: about {eta} min", english)
        issued = _issued_text(ticket.get("issued_at"))
        if issued:
            b.pair(f"取号时间：{issued}", f"Issued: {issued}", english)
        slot = clean_text(ticket.get("slot"))
        if slot:
            b.pair(f"预约时段：{slot}", f"Booked slot: {slot}", english)

        url = clean_text(status_url).replace(" ", "")
        if url:
            b.rule()
            b.pair("扫码查看排队进度", "Scan to follow your place in the queue", english, "center")
            b.blocks.append(Qr(url, _qr_module_dots(url, paper_mm, width_dots)))
        if show_barcode and number and set(number) <= _BARCODE_OK and len(number) <= 20:
            b.blocks.append(Barcode(number))
        b.rule()
        b.pair(
            "过号请到服务台。请保留此票。",
            "Missed your call? Please go to the service desk. Keep this ticket.",
            english,
            "center",
        )
        return cls(
            number=number,
            status_url=url,
            paper_mm=paper_mm,
            columns=cols,
            dots=width_dots,
            blocks=tuple(b.blocks),
            ticket_id=clean_text(ticket.get("id")),
        )

    def text(self) -> str:
        """Plain text of all text blocks, one line each (for logs and tests)."""
        return "\n".join(line for blk in self.blocks if isinstance(blk, Text) for line in blk.lines)


class _Builder:
    def __init__(self, columns: int) -> None:
        self.columns = columns
        self.blocks: list[Block] = []

    def text(
        self, value: Any, *, align: Align = "left", scale: int = 1, bold: bool = False
    ) -> None:
        text = clean_text(value)
        if not text:
            return
        scale = max(1, min(scale, MAX_SCALE, self.columns // 2))
        lines = wrap(text, self.columns // scale)
        self.blocks.append(Text(tuple(lines), align, scale, bold))

    def pair(self, zh: str, en: str, english: bool, align: Align = "left") -> None:
        self.text(zh, align=align)
        if english:
            self.text(en, align=align)

    def rule(self) -> None:
        self.blocks.append(Rule())
