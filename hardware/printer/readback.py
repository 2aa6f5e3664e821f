"""Reads back what a printer would print from this package's ESC/POS bytes (hardware layer, pure).

Strict on purpose: any byte a printer could misread (a control byte inside
text, a broken GB18030 pair, a truncated command) raises ValueError. Tests
and users of FakePrinter use it to check what a ticket says.
"""

from __future__ import annotations

from dataclasses import dataclass, field

FIXED = {  # command prefix -> total length, for fixed-length commands we emit
    b"\x1b@": 2, b"\x1ba": 3, b"\x1bE": 3, b"\x1bd": 3,
    b"\x1d!": 3, b"\x1dV": 3, b"\x1dH": 3, b"\x1df": 3, b"\x1dh": 3, b"\x1dw": 3,
    b"\x1c!": 3,
}


@dataclass
class Stream:
    """What a printer would do with the bytes: texts, QR payloads, images, barcodes, cuts."""


    text_lines: list[str] = field(default_factory=list)
    kanji: list[bytes] = field(default_factory=list)
    qr_payloads: list[str] = field(default_factory=list)
    qr_sizes: list[int] = field(default_factory=list)
    barcodes: list[str] = field(default_factory=list)
    images: list[tuple[int, int]] = field(default_factory=list)  # (width bytes, rows)
    cuts: int = 0
    sizes: list[int] = field(default_factory=list)


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def parse(data: bytes) -> Stream:
    """Parse `data`, raising ValueError at the first byte a printer would misread."""
    out = Stream()
    line = ""
    i = 0
    while i < len(data):
        two = data[i : i + 2]
        b = data[i]
        if two in FIXED:
            n = FIXED[two]
            _check(i + n <= len(data), f"truncated command at {i}")
            if two == b"\x1dV":
                out.cuts += 1
            if two == b"\x1d!":
                out.sizes.append(data[i + 2])
            i += n
        elif two == b"\x1c&":
            end = data.find(b"\x1c.", i + 2)
            _check(end > 0, "FS & without FS .")
            seg = data[i + 2 : end]
            j = 0
            while j < len(seg):
                if seg[j] < 0x80:
                    _check(0x20 <= seg[j] < 0x7F, f"control byte {seg[j]:#x} in Chinese text")
                    j += 1
                else:
                    _check(j + 1 < len(seg), "half a GB18030 pair")
                    lead, trail = seg[j], seg[j + 1]
                    valid = 0x81 <= lead <= 0xFE and 0x40 <= trail <= 0xFE and trail != 0x7F
                    _check(valid, f"invalid GB18030 pair {lead:#x} {trail:#x}")
                    j += 2
            try:
                line += seg.decode("gb18030")
            except UnicodeDecodeError as err:
                raise ValueError(f"invalid GB18030 text at {i}") from err
            out.kanji.append(seg)
            i = end + 2
        elif two == b"\x1d(" and data[i + 2 : i + 3] == b"k":
            _check(i + 5 <= len(data), "truncated GS ( k")
            size = data[i + 3] | data[i + 4] << 8
            body = data[i + 5 : i + 5 + size]
            _check(len(body) == size and body[0:1] == b"1", "malformed command")
            if body[1] == 80:
                out.qr_payloads.append(body[3:].decode("utf-8"))
            if body[1] == 67:
                out.qr_sizes.append(body[2])
            i += 5 + size
        elif two == b"\x1dk":
            _check(i + 4 <= len(data), "truncated GS k")
            _check(data[i + 2] == 73, "malformed command")
            n = data[i + 3]
            body = data[i + 4 : i + 4 + n]
            _check(body.startswith(b"{B"), "malformed command")
            out.barcodes.append(body[2:].decode("ascii"))
            i += 4 + n
        elif two == b"\x1dv":
            _check(i + 8 <= len(data), "truncated GS v 0")
            _check(data[i + 2 : i + 4] == b"0\x00", "malformed command")
            xb = data[i + 4] | data[i + 5] << 8
            rows = data[i + 6] | data[i + 7] << 8
            _check(i + 8 + xb * rows <= len(data), "truncated raster")
            out.images.append((xb, rows))
            i += 8 + xb * rows
        elif b == 0x0A:
            out.text_lines.append(line)
            line = ""
            i += 1
        else:
            _check(0x20 <= b < 0x7F, f"unexpected byte {b:#x} at {i}")
            line += chr(b)
            i += 1
    _check(not line, f"text without a line feed at the end: {line!r}")
    return out
