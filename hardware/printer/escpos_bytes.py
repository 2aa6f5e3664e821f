"""Encodes a TicketLayout as ESC/POS bytes, in text or raster Chinese mode (hardware layer, no I/O).

Written by hand rather than through python-escpos's `Escpos.text()`, whose
automatic code-page encoder turns full-width punctuation and anything outside
its tables into '?'. Here:

* "text" mode sends Chinese as GB18030 pairs between FS & and FS . (the
  printer's Chinese font), after the replacements documented in `charset`;
* "raster" mode draws the text with a CJK font and sends it as GS v 0 images,
  for printers without a Chinese font;
* QR codes always use the native GS ( k commands (about 60 bytes + payload)
  unless the printer profile says it has none; Code 128 uses GS k;
* the ticket ends with a feed and GS V cut.

The command bytes match python-escpos's own (`qr(native=True)`, `cut()`,
`image(impl="bitImageRaster")`); tests check that.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from PIL import Image

from hardware.printer import raster
from hardware.printer.charset import encode_cells
from hardware.printer.layout import Barcode, Block, Feed, Logo, Qr, Rule, Text, TicketLayout

ChineseMode = Literal["text", "raster"]
MODES: tuple[ChineseMode, ...] = ("text", "raster")

ESC, GS, FS, DLE, EOT, LF = b"\x1b", b"\x1d", b"\x1c", b"\x10", b"\x04", b"\n"
INIT = ESC + b"@"
KANJI_ON, KANJI_OFF = FS + b"&", FS + b"."
CUT_FULL, CUT_PART = GS + b"V\x00", GS + b"V\x01"
FEED_BEFORE_CUT = ESC + b"d\x06"  # the cutter sits ~6 lines above the print head
RASTER_ROWS_MAX = 960  # rows per GS v 0 command; python-escpos uses the same limit
_ALIGN = {"left": 0, "center": 1, "right": 2}


@dataclass(frozen=True)
class Capabilities:
    """What the printer can do, usually read from a python-escpos profile by the driver."""

    full_cut: bool = True
    partial_cut: bool = True
    native_qr: bool = True
    native_barcode: bool = True
    max_dots: int | None = None  # printable width if the profile knows it


def _align(name: str) -> bytes:
    return ESC + b"a" + bytes((_ALIGN[name],))


def _size(scale: int) -> bytes:
    n = max(1, min(scale, 8)) - 1
    return GS + b"!" + bytes(((n << 4) | n,))


def _len2(n: int) -> bytes:
    return bytes((n & 0xFF, (n >> 8) & 0xFF))


def qr_native(payload: str, module_dots: int, ec: str = "M") -> bytes:
    """GS ( k: select model 2, module size, error correction, store data, print."""
    data = payload.encode("utf-8")

    def fn(code: int, body: bytes, m: bytes = b"") -> bytes:
        return GS + b"(k" + _len2(len(body) + len(m) + 2) + b"1" + bytes((code,)) + m + body

    ec_byte = 48 + "LMQH".index(ec)
    return (
        fn(65, b"2\x00")  # model 2
        + fn(67, bytes((max(1, min(module_dots, 16)),)))
        + fn(69, bytes((ec_byte,)))
        + fn(80, data, b"0")  # store
        + fn(81, b"", b"0")  # print
    )


def barcode_code128(data: str) -> bytes:
    """GS k 73: Code 128 set B, 80 dots tall, 2-dot modules, human-readable text below."""
    body = b"{B" + data.replace("{", "{{").encode("ascii")
    return (
        GS + b"H\x02" + GS + b"f\x00" + GS + b"h\x50" + GS + b"w\x02"
        + GS + b"k\x49" + bytes((len(body),)) + body
    )


def raster_image(img: Image.Image) -> bytes:
    """GS v 0 commands for a mode "1" image with 1 = ink, split into fragments."""
    if img.mode != "1":
        img = img.convert("1")
    if img.width % 8:
        padded = Image.new("1", (img.width + 8 - img.width % 8, img.height), 0)
        padded.paste(img, (0, 0))
        img = padded
    out = bytearray()
    for top in range(0, img.height, RASTER_ROWS_MAX):
        part = img.crop((0, top, img.width, min(top + RASTER_ROWS_MAX, img.height)))
        out += GS + b"v0\x00" + _len2(img.width // 8) + _len2(part.height) + part.tobytes()
    return bytes(out)


def cut(caps: Capabilities) -> bytes:
    """Feed past the cutter and cut (full if possible, partial otherwise, or just feed)."""
    if caps.full_cut:
        return FEED_BEFORE_CUT + CUT_FULL
    if caps.partial_cut:
        return FEED_BEFORE_CUT + CUT_PART
    return FEED_BEFORE_CUT


def _text_block(blk: Text, columns: int) -> Iterator[bytes]:
    yield _align(blk.align) + (ESC + b"E\x01" if blk.bold else b"")
    if blk.scale > 1:
        # FS ! doubles Kanji too: some printers apply GS ! to single-byte characters only.
        yield _size(blk.scale) + FS + b"!\x0c"
    max_cells = max(columns // blk.scale, 2)
    for line in blk.lines:
        for chunk in encode_cells(line, max_cells):
            if any(b >= 0x80 for b in chunk):
                yield KANJI_ON + chunk + KANJI_OFF + LF
            else:
                yield chunk + LF
    if blk.scale > 1:
        yield _size(1) + FS + b"!\x00"
    if blk.bold:
        yield ESC + b"E\x00"


def _group(blocks: tuple[Block, ...]) -> Iterator[list[Block]]:
    # Consecutive text-like blocks become one raster image; others stand alone.
    run: list[Block] = []
    for blk in blocks:
        if isinstance(blk, Text | Rule | Feed):
            run.append(blk)
            continue
        if run:
            yield run
            run = []
        yield [blk]
    if run:
        yield run


def encode_ticket(
    layout: TicketLayout,
    *,
    mode: ChineseMode = "text",
    caps: Capabilities = Capabilities(),
    logo: Image.Image | None = None,
    font_path: str = raster.DEFAULT_FONT,
) -> bytes:
    """The whole ticket as ESC/POS bytes, ending with a cut. `logo` is a mode "1" image or None."""
    if mode not in MODES:
        raise ValueError(f"chinese mode must be one of {MODES}, not {mode!r}")
    dots = min(layout.dots, caps.max_dots) if caps.max_dots else layout.dots
    dots -= dots % 8
    out = bytearray(INIT)
    for group in _group(layout.blocks):
        first = group[0]
        if isinstance(first, Text | Rule | Feed):
            if mode == "raster":
                out += _align("left") + raster_image(raster.render_text(group, dots, font_path))
                continue
            for blk in group:
                if isinstance(blk, Text):
                    out += b"".join(_text_block(blk, layout.columns))
                elif isinstance(blk, Rule):
                    out += _align("left") + b"-" * layout.columns + LF
                elif isinstance(blk, Feed):
                    out += LF * blk.lines
        elif isinstance(first, Qr):
            out += _align("center")
            if caps.native_qr:
                out += qr_native(first.payload, first.module_dots) + LF
            else:
                code = raster.qr_image(first.payload, first.module_dots)
                out += raster_image(raster.centered(code, dots))
        elif isinstance(first, Barcode) and caps.native_barcode:
            out += _align("center") + barcode_code128(first.data) + LF
        elif isinstance(first, Logo) and logo is not None:
            # Padded rather than ESC a centred: not every printer aligns raster images.
            out += raster_image(raster.centered(logo, dots))
        out += _align("left")
    out += cut(caps)
    return bytes(out)
