"""Which characters a ticket printer can show, and their GB18030 bytes (hardware layer, pure).

Policy, the same in both Chinese modes so a ticket reads the same either way:

* Printable ASCII is sent as is.
* Characters in the two-byte part of GB18030 (the GBK repertoire: GB2312 plus
  the 14,000 CJK characters, 〇, full-width punctuation ，。！) print in the
  printer's Chinese font. Their private-use / user-defined code points do not
  (the font has nothing there).
* Four-byte GB18030 characters (CJK Extension A and B such as 㐀 𠀀, most of
  Latin Extended) are valid GB18030 but thermal printer fonts stop at GBK, so
  they would print as garbage: they become a visible □ (wide) or ? (narrow).
* Accented Latin letters are reduced to their base letter in text mode
  (José Müller -> Jose Muller): GBK's pinyin letters (é, ü) exist but print
  full-width, and a code page switch per word is more fragile than it is
  worth on a queue ticket. The raster mode draws them properly, since the
  font has Latin-1 and Latin Extended-A.
* Control, format and unassigned characters are dropped or replaced, so no
  user text can ever reach the printer as a command.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

WIDE_REPLACEMENT = "□"
NARROW_REPLACEMENT = "?"
_WIDE_REPLACEMENT_GB = WIDE_REPLACEMENT.encode("gb18030")

# Letters NFKD does not decompose into ASCII.
_TRANSLIT = {
    "ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE",
    "đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "þ": "th", "Þ": "Th", "ð": "d", "Ð": "D",
    "ı": "i", "ŋ": "ng",
}


def _user_defined(pair: bytes) -> bool:
    lead, trail = pair[0], pair[1]
    return (
        (0xAA <= lead <= 0xAF and trail >= 0xA1)
        or (0xF8 <= lead <= 0xFE and trail >= 0xA1)
        or (0xA1 <= lead <= 0xA7 and trail <= 0xA0)
    )


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def _latin_ascii(ch: str) -> str | None:
    """ASCII spelling of a Latin letter with diacritics, or None if it is not one."""
    if ch in _TRANSLIT:
        return _TRANSLIT[ch]
    if not unicodedata.name(ch, "").startswith("LATIN"):
        return None
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if c.isascii())
    return base or None


def _unprintable(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn")


@lru_cache(maxsize=16384)
def gb_bytes(ch: str) -> bytes:
    """The bytes that print `ch` in the printer's Chinese mode: ASCII or one GB18030 pair."""
    code = ord(ch)
    if 0x20 <= code < 0x7F:
        return bytes((code,))
    if unicodedata.combining(ch):
        return b""  # NFC already merged what it could; a stray mark has nothing to sit on
    if _unprintable(ch):
        return NARROW_REPLACEMENT.encode()
    ascii_form = _latin_ascii(ch)
    if ascii_form is not None:
        return ascii_form.encode()
    try:
        enc = ch.encode("gb18030")
    except UnicodeEncodeError:
        enc = b""
    if len(enc) == 2 and not _user_defined(enc):
        return enc
    return _WIDE_REPLACEMENT_GB if _wide(ch) else NARROW_REPLACEMENT.encode()


@lru_cache(maxsize=16384)
def raster_char(ch: str) -> str:
    """The character the raster renderer draws for `ch` (the font covers GBK and Latin)."""
    code = ord(ch)
    if 0x20 <= code < 0x7F:
        return ch
    if unicodedata.combining(ch):
        return ""
    if _unprintable(ch):
        return NARROW_REPLACEMENT
    if 0xA0 <= code < 0x180:  # Latin-1 and Latin Extended-A: in the font
        return ch
    ascii_form = _latin_ascii(ch)
    if ascii_form is not None:
        return ascii_form
    try:
        enc = ch.encode("gb18030")
    except UnicodeEncodeError:
        enc = b""
    if len(enc) == 2 and not _user_defined(enc):
        return ch
    return WIDE_REPLACEMENT if _wide(ch) else NARROW_REPLACEMENT


def raster_text(text: str) -> str:
    """`text` with every character replaced by what the raster renderer can draw."""
    return "".join(raster_char(ch) for ch in text)


def encode_cells(text: str, max_cells: int) -> list[bytes]:
    """GB18030 line(s) for `text`, split so none prints wider than `max_cells` cells.

    The layout already wrapped the text, but a replacement can change a width
    (ö -> o, 𠀀 -> □), so the real printed width is checked here, on bytes.
    """
    chunks: list[bytes] = []
    line = bytearray()
    cells = 0
    for ch in text:
        enc = gb_bytes(ch)
        width = 2 if len(enc) == 2 and enc[0] >= 0x80 else len(enc)
        if cells + width > max(max_cells, 2) and line:
            chunks.append(bytes(line))
            line.clear()
            cells = 0
        line += enc
        cells += width
    if line:
        chunks.append(bytes(line))
    return chunks
