"""Lays out a printout for a paper width, whatever it says (hardware layer, pure: no I/O).

The caller decides the content as a sequence of items (`Line`, `BigText`,
`QrCode`, `Barcode`, `Rule`, `Feed`, `Logo`); `TicketLayout.build` turns them
into blocks that fit the paper (text wrapped to its columns, magnification
capped, the QR module size chosen so the code fits). Encoders (`escpos_bytes`,
`raster`) only walk the blocks. What a queue ticket says is the kiosk's
business (kiosk/ticket.py); nothing here knows a ticket field or a word.

Widths are counted in cells of Font A (12 x 24 dots): a CJK or full-width
character takes two cells, everything else one. 58 mm paper has 32 cells
(384 dots), 80 mm has 48 cells (576 dots).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

Align = Literal["left", "center", "right"]

PAPER: dict[int, tuple[int, int]] = {58: (32, 384), 80: (48, 576)}  # mm -> (cells, dots)
CELL_DOTS = 12  # Font A is 12 dots wide per half-width cell
QR_MODULE_DOTS = {58: 6, 80: 8}  # preferred dots per module: ~25-30 mm codes scan from a phone
BIG_MAX_SCALE = {58: 4, 80: 5}  # GS ! magnification cap of BigText (a ticket number)
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


# -- blocks: what the encoders walk, every decision taken ---------------------------------


@dataclass(frozen=True)
class Text:
    """Lines already wrapped to fit the paper at this scale."""

    lines: tuple[str, ...]
    align: Align = "left"
    scale: int = 1  # width and height magnification (GS ! / font size)
    bold: bool = False


@dataclass(frozen=True)
class Rule:
    """A dashed separator across the paper (an item and a block: nothing to decide)."""


@dataclass(frozen=True)
class Feed:
    """Blank lines (an item and a block)."""

    lines: int = 1


@dataclass(frozen=True)
class Qr:
    """A QR code printed with the printer's native command."""

    payload: str
    module_dots: int  # 1..16, chosen so the symbol fits the paper


@dataclass(frozen=True)
class Barcode:
    """A Code 128 (code set B) with its human-readable text below (an item and a block)."""

    data: str


@dataclass(frozen=True)
class Logo:
    """An image file printed paper-wide at most; loading it is the driver's job (item and block)."""

    path: str


Block = Text | Rule | Feed | Qr | Barcode | Logo


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


# -- items: what the caller asks for --------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """Text to print; wrapped to the paper, so one item may become several printed lines.

    `scale` is the magnification asked for, capped by the paper; text that is
    empty once cleaned prints nothing.
    """

    text: str
    align: Align = "left"
    scale: int = 1
    bold: bool = False


@dataclass(frozen=True)
class BigText:
    """Text as large as fits on one line (at most BIG_MAX_SCALE), centred and bold."""

    text: str


@dataclass(frozen=True)
class QrCode:
    """A QR code, its module size chosen to fit the paper; an empty payload prints nothing."""

    payload: str


Item = Line | BigText | QrCode | Barcode | Rule | Feed | Logo

# Code 128 set B encodes all of printable ASCII, but only short runs of letters, digits and "-"
# print as a barcode that every reader takes; other data leaves the barcode out, not a bad one.
_BARCODE_OK = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-")
_BARCODE_MAX = 20


@dataclass(frozen=True)
class TicketLayout:
    """One printout laid out for a paper width: the blocks to print, nothing left to decide."""

    paper_mm: int
    columns: int
    dots: int
    blocks: tuple[Block, ...]
    label: str = ""  # names the printout in preview file names and logs, never printed

    @classmethod
    def build(
        cls,
        items: Iterable[Item],
        *,
        paper_mm: int = 80,
        columns: int | None = None,
        dots: int | None = None,
        label: str = "",
    ) -> TicketLayout:
        """Lay out `items` in order; `columns`/`dots` override the paper's (42-column models)."""
        if paper_mm not in PAPER:
            raise ValueError(f"paper_mm must be one of {sorted(PAPER)}, not {paper_mm!r}")
        cols = columns or PAPER[paper_mm][0]
        width_dots = dots or PAPER[paper_mm][1]
        blocks: list[Block] = []
        for item in items:
            block = _block(item, paper_mm, cols, width_dots)
            if block is not None:
                blocks.append(block)
        return cls(paper_mm, cols, width_dots, tuple(blocks), clean_text(label))

    def text(self) -> str:
        """Plain text of all text blocks, one line each (for logs and tests)."""
        return "\n".join(line for blk in self.blocks if isinstance(blk, Text) for line in blk.lines)

    def qr_payloads(self) -> list[str]:
        """What the QR codes hold, in order (for logs and tests)."""
        return [blk.payload for blk in self.blocks if isinstance(blk, Qr)]


def _text(value: str, columns: int, align: Align, scale: int, bold: bool) -> Text | None:
    text = clean_text(value)
    if not text:
        return None
    scale = max(1, min(scale, MAX_SCALE, columns // 2))
    return Text(tuple(wrap(text, columns // scale)), align, scale, bold)


def _block(item: Item, paper_mm: int, columns: int, dots: int) -> Block | None:
    if isinstance(item, Line):
        return _text(item.text, columns, item.align, item.scale, item.bold)
    if isinstance(item, BigText):
        text = clean_text(item.text)
        big = max(1, min(BIG_MAX_SCALE[paper_mm], columns // max(text_width(text), 1)))
        return _text(text, columns, "center", big, True)
    if isinstance(item, QrCode):
        if not item.payload:
            return None
        return Qr(item.payload, _qr_module_dots(item.payload, paper_mm, dots))
    if isinstance(item, Barcode):
        ok = item.data and set(item.data) <= _BARCODE_OK and len(item.data) <= _BARCODE_MAX
        return item if ok else None
    return item  # Rule, Feed and Logo are blocks as they are
