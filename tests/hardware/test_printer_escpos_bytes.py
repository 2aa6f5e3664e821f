"""Tests of the ESC/POS bytes a FakePrinter records, in text and raster Chinese modes."""

from __future__ import annotations

import pytest
from escpos.printer import Dummy
from PIL import Image

from hardware.printer import FakePrinter, PrinterPaperOut, TicketLayout
from hardware.printer.charset import gb_bytes
from hardware.printer.escpos_bytes import (
    Capabilities,
    encode_ticket,
    qr_native,
    raster_image,
)
from hardware.printer.layout import Barcode, BigText, Line, QrCode, Rule
from hardware.printer.readback import parse

URL = "http://127.0.0.1:5000/t/AbC123xyz"
STATION = "幸福社区卫生服务站"
FOOTER = "过号请到服务台。请保留此票。"


def ticket_layout(
    paper: int = 80, *, service: str = "接种", service_en: str = "Vaccination",
    number: str = "V012", note: str = "排队位置：第 3 位",
) -> TicketLayout:
    """A ticket-shaped printout: every kind of item the kiosk uses (its words are its own)."""
    items = [
        Line(STATION, "center", bold=True), Rule(),
        Line(service, "center", scale=2, bold=True), Line(service_en, "center"),
        BigText(number), Rule(), Line(note), Line("Position in queue: 3"), Rule(),
        QrCode(URL), Barcode(number), Rule(), Line(FOOTER, "center"),
    ]
    return TicketLayout.build(items, paper_mm=paper, label=number)


def printed(layout: TicketLayout, mode: str = "text") -> bytes:
    printer = FakePrinter(chinese_mode=mode)  # type: ignore[arg-type]
    printer.print_ticket(layout)
    assert printer.printed == [layout]
    return printer.output


def test_chinese_is_gb18030_between_fs_and_and_fs_dot() -> None:
    data = printed(ticket_layout())
    for text in (STATION, "接种", FOOTER):
        assert b"\x1c&" + text.encode("gb18030") + b"\x1c." in data
    stream = parse(data)
    assert STATION in stream.text_lines and "Vaccination" in stream.text_lines


def test_qr_payload_is_the_status_url_in_a_native_command() -> None:
    data = printed(ticket_layout())
    stream = parse(data)
    assert stream.qr_payloads == [URL]
    start = data.index(b"\x1d(k")
    assert b"\x1d(k\x04\x001A2\x00" in data  # model 2
    assert b"\x1d(k\x03\x001E1" in data  # error correction M
    assert len(qr_native(URL, 8)) < 100  # vs kilobytes for a bitmap
    assert data.index(b"\x1d(k", start + 1) > start


def test_big_number_and_cut() -> None:
    data = printed(ticket_layout())
    stream = parse(data)
    assert b"\x1d!" + bytes((0x44,)) + b"\x1c!\x0cV012\n" in data  # 5x on 80 mm
    assert data.endswith(b"\x1bd\x06\x1dV\x00")
    assert stream.cuts == 1 and stream.barcodes == ["V012"]


def test_raster_mode_has_no_chinese_font_bytes() -> None:
    data = printed(ticket_layout(58), "raster")
    stream = parse(data)
    assert not stream.kanji
    assert stream.images and all(width == 384 // 8 for width, _ in stream.images)
    assert stream.qr_payloads == [URL] and data.endswith(b"\x1dV\x00")


def test_bytes_match_python_escpos_for_the_shared_commands() -> None:
    ref = Dummy()
    ref.qr(URL, ec=1, size=8, native=True)  # QR_ECLEVEL_M == 1
    assert qr_native(URL, 8) == ref.output
    ref = Dummy()
    ref.cut()
    assert printed(ticket_layout()).endswith(ref.output)
    img = Image.new("1", (16, 3), 0)
    img.putpixel((0, 0), 1)
    img.putpixel((15, 2), 1)
    ref = Dummy()
    ref.image(ImageOps_invert(img), impl="bitImageRaster")
    assert raster_image(img) == ref.output


def ImageOps_invert(img: Image.Image) -> Image.Image:
    # python-escpos takes ordinary black-on-white pictures; ours are 1 = ink.
    from PIL import ImageOps

    return ImageOps.invert(img.convert("L")).convert("RGB")


def test_profile_without_full_cut_and_native_qr() -> None:
    caps = Capabilities(full_cut=False, partial_cut=True, native_qr=False)
    data = encode_ticket(ticket_layout(), caps=caps)
    stream = parse(data)
    assert data.endswith(b"\x1dV\x01") and not stream.qr_payloads and stream.images


BAD_INPUTS = [
    pytest.param({"service": "接种，请排队。谢谢！"}, "接种，请排队。谢谢！", id="fullwidth-punct"),
    pytest.param({"service": "〇号窗口"}, "〇号窗口", id="ling"),
    pytest.param({"service": "㐀𠀀接种"}, "□□接种", id="rare-cjk"),
    pytest.param({"service_en": "José Müller Øre"}, "Jose Muller Ore", id="accented-latin"),
    pytest.param({"service": "疫" * 200}, "疫" * 8, id="200-chars"),
    pytest.param({"service": "A\x1bd\x00B\x1d"}, "AdB", id="control-chars"),
    pytest.param({"service": "\ue000私用"}, "?私用", id="private-use"),
    pytest.param({"service": "", "service_en": "", "note": "", "number": "?"}, "?",
                 id="empty-lines"),
    pytest.param({"number": "V\u00e9\u0301012"}, "Ve012", id="combining-in-number"),
]


@pytest.mark.parametrize("paper", [58, 80])
@pytest.mark.parametrize("mode", ["text", "raster"])
@pytest.mark.parametrize(("changes", "expected"), BAD_INPUTS)
def test_bad_text_never_raises_nor_makes_invalid_bytes(
    changes: dict[str, str], expected: str, mode: str, paper: int
) -> None:
    layout = ticket_layout(paper, **changes)
    stream = parse(printed(layout, mode))  # raises on any byte a printer would misread
    assert stream.cuts == 1 and stream.qr_payloads == [URL]
    if mode == "text":
        assert expected in "".join(stream.text_lines), stream.text_lines
        columns = 32 if paper == 58 else 48
        for seg in stream.kanji:
            assert len(seg) <= columns  # bytes == printed cells in GB18030 mode


@pytest.mark.parametrize("ch", ["，", "。", "！", "〇", "㐀", "𠀀", "é", "\x00", "\U0010ffff", "€"])
def test_each_character_becomes_ascii_or_one_gb_pair(ch: str) -> None:
    enc = gb_bytes(ch)
    assert len(enc) <= 2 and (enc.isascii() or len(enc) == 2)
    enc.decode("gb18030")


def test_fake_printer_can_fail_and_reports_status() -> None:
    fake = FakePrinter(fail_with=PrinterPaperOut("paper end"))
    with pytest.raises(PrinterPaperOut):
        fake.print_ticket(ticket_layout())
    assert fake.printed == [] and fake.status().state == "ready"
