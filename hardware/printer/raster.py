"""Draws ticket text, logos and whole-ticket previews with Pillow and a CJK font (hardware layer).

Images of printed dots are mode "1" with bit 1 = ink, which is exactly the bit
order of ESC/POS raster data (`GS v 0`), so `Image.tobytes()` needs no
conversion. Previews are mode "L", black on white, paper-wide.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
import segno
from PIL import Image, ImageDraw, ImageFont, ImageOps

from hardware.printer.charset import raster_text
from hardware.printer.layout import Barcode, Block, Feed, Logo, Qr, Rule, Text, TicketLayout

DEFAULT_FONT = os.environ.get(
    "CLINICQ_PRINTER_FONT", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
)
BASE_PX = 24  # Font A is 24 dots tall; the raster text matches its size
LINE_PX = 30  # 24-dot glyphs plus the printer's default 6-dot line gap
LOGO_MAX_PX = 160
DOTS_PER_MM = 8  # 203 dpi print heads


@lru_cache(maxsize=32)
def font(size: int, path: str = DEFAULT_FONT) -> ImageFont.FreeTypeFont:
    """The CJK font at `size` pixels, loaded once per size."""
    return ImageFont.truetype(path, size, index=0)


def _fit(text: str, face: ImageFont.FreeTypeFont, max_px: int) -> list[str]:
    # The layout wraps by cells; a proportional font can still be wider (WWWW), so
    # split again by measured pixels rather than let a line run off the paper.
    if face.getlength(text) <= max_px:
        return [text]
    lines: list[str] = []
    line = ""
    for ch in text:
        if line and face.getlength(line + ch) > max_px:
            lines.append(line)
            line = ch.lstrip()
        else:
            line += ch
    if line:
        lines.append(line)
    return lines


def render_text(blocks: Sequence[Block], dots: int, font_path: str = DEFAULT_FONT) -> Image.Image:
    """Text, rules and feeds drawn as one mode "1" image `dots` wide (1 = ink)."""
    rows: list[tuple[str, Text | None]] = []  # (line, block) or ("", None) for blank/rule
    for blk in blocks:
        if isinstance(blk, Text):
            size = BASE_PX * blk.scale
            for line in blk.lines:
                for part in _fit(raster_text(line), font(size, font_path), dots):
                    rows.append((part, blk))
        elif isinstance(blk, Rule):
            rows.append(("-rule-", None))
        elif isinstance(blk, Feed):
            rows.extend(("", None) for _ in range(blk.lines))
    height = sum(LINE_PX * (tb.scale if tb else 1) for _, tb in rows) or 1
    img = Image.new("1", (dots, height), 0)
    draw = ImageDraw.Draw(img)
    y = 0
    for line, tb in rows:
        if tb is None:
            if line == "-rule-":
                for dx in range(0, dots, 12):  # dashed, like a line of '-' in Font A
                    draw.rectangle((dx + 2, y + 14, dx + 9, y + 15), fill=1)
            y += LINE_PX
            continue
        face = font(BASE_PX * tb.scale, font_path)
        width = face.getlength(line)
        if tb.align == "center":
            x = (dots - width) / 2
        elif tb.align == "right":
            x = dots - width
        else:
            x = 0.0
        top = y + 3 * tb.scale
        draw.text((x, top), line, font=face, fill=1)
        if tb.bold:  # double strike one dot to the right, as the printer's emphasis does
            draw.text((x + 1, top), line, font=face, fill=1)
        y += LINE_PX * tb.scale
    return img


def load_logo(path: str, max_width: int) -> Image.Image:
    """A logo file as a dithered mode "1" image (1 = ink), at most paper-wide. Raises OSError."""
    with Image.open(path) as src:
        gray = ImageOps.exif_transpose(src).convert("RGBA")
    flat = Image.new("RGBA", gray.size, "white")
    flat.alpha_composite(gray)
    img = flat.convert("L")
    img.thumbnail((max_width, LOGO_MAX_PX))
    return ImageOps.invert(img).convert("1")  # Floyd-Steinberg dither of the ink amount


def qr_image(payload: str, module_dots: int) -> Image.Image:
    """A QR code (model 2, level M) as mode "1", 1 = ink, without quiet zone (paper is white)."""
    matrix = np.array(segno.make_qr(payload, error="m", boost_error=False).matrix, dtype=bool)
    img = Image.fromarray(matrix)
    return img.resize((img.width * module_dots, img.height * module_dots), Image.Resampling.NEAREST)


def _barcode_image(data: str, dots: int, font_path: str) -> Image.Image:
    # Deferred: only previews draw barcodes; the printers draw their own (GS k).
    import zxingcpp

    code = zxingcpp.create_barcode(data, zxingcpp.BarcodeFormat.Code128)
    bars = np.array(code.to_image(scale=2, add_hrt=False, add_quiet_zones=False)) < 128
    strip = Image.fromarray(bars[:1].repeat(80, axis=0))
    caption = render_text([Text((data,), "center")], strip.width, font_path)
    out = Image.new("1", (min(dots, strip.width), strip.height + caption.height), 0)
    out.paste(strip, (0, 0))
    out.paste(caption, (0, strip.height))
    return out


def centered(img: Image.Image, dots: int) -> Image.Image:
    if img.width >= dots:
        return img.crop((0, 0, dots, img.height))
    out = Image.new("1", (dots, img.height), 0)
    out.paste(img, ((dots - img.width) // 2, 0))
    return out


def stack(images: Iterable[Image.Image]) -> Image.Image:
    """Mode "1" images one under the other."""
    parts = list(images)
    width = max((p.width for p in parts), default=8)
    out = Image.new("1", (width, sum(p.height for p in parts) or 1), 0)
    y = 0
    for part in parts:
        out.paste(part, (0, y))
        y += part.height
    return out


def render_preview(
    layout: TicketLayout, *, logo: Image.Image | None = None, font_path: str = DEFAULT_FONT
) -> Image.Image:
    """The ticket as it would come out of the printer: mode "L", black on white, paper-wide."""
    dots = layout.dots
    parts: list[Image.Image] = []
    pending: list[Block] = []

    def flush() -> None:
        if pending:
            parts.append(render_text(pending, dots, font_path))
            pending.clear()

    for blk in layout.blocks:
        if isinstance(blk, Text | Rule | Feed):
            pending.append(blk)
            continue
        flush()
        if isinstance(blk, Qr):
            parts.append(Image.new("1", (dots, 8), 0))
            parts.append(centered(qr_image(blk.payload, blk.module_dots), dots))
            parts.append(Image.new("1", (dots, 24), 0))  # the LF the encoder sends after it
        elif isinstance(blk, Barcode):
            parts.append(centered(_barcode_image(blk.data, dots, font_path), dots))
        elif isinstance(blk, Logo) and logo is not None:
            parts.append(centered(logo, dots))
    flush()
    parts.append(Image.new("1", (dots, LINE_PX * 4), 0))  # the feed before the cut
    printed = ImageOps.invert(stack(parts).convert("L"))
    margin = max((layout.paper_mm * DOTS_PER_MM - dots) // 2, 8)
    paper = Image.new("L", (dots + 2 * margin, printed.height + margin), 255)
    paper.paste(printed, (margin, margin // 2))
    draw = ImageDraw.Draw(paper)
    for x in range(0, paper.width, 16):  # where the cutter cuts
        draw.line((x, paper.height - 2, x + 8, paper.height - 2), fill=128)
    return paper
