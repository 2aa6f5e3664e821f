"""Tests of hardware.printer.layout: items laid out for the paper (wrapping, scales, widths)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hardware.printer.layout import (
    BIG_MAX_SCALE,
    PAPER,
    Barcode,
    BigText,
    Feed,
    Line,
    Logo,
    Qr,
    QrCode,
    Rule,
    Text,
    TicketLayout,
    clean_text,
    qr_modules,
    text_width,
    wrap,
)

URL = "http://127.0.0.1:5000/t/AbC123xyz"


def test_items_become_blocks_in_order() -> None:
    lay = TicketLayout.build(
        [Logo("/x/logo.png"), Line("站", "center", bold=True), Rule(), BigText("V012"),
         Feed(2), QrCode(URL), Barcode("V012"), Line("end")],
        label="V012",
    )
    assert [type(b) for b in lay.blocks] == [Logo, Text, Rule, Text, Feed, Qr, Barcode, Text]
    assert lay.blocks[1] == Text(("站",), "center", 1, True)
    assert (lay.paper_mm, lay.columns, lay.dots, lay.label) == (80, 48, 576, "V012")
    assert lay.text().splitlines() == ["站", "V012", "end"] and lay.qr_payloads() == [URL]


@pytest.mark.parametrize("paper", [58, 80])
def test_big_text_is_as_big_as_the_paper_allows(paper: int) -> None:
    lay = TicketLayout.build([BigText("V012"), BigText("V" * 30)], paper_mm=paper)
    short, long = lay.blocks
    assert short == Text(("V012",), "center", BIG_MAX_SCALE[paper], True)
    assert isinstance(long, Text) and long.scale == 1  # 30 cells fit once, never magnified


def test_scale_is_capped_by_the_paper() -> None:
    [blk] = TicketLayout.build([Line("A", scale=99)], paper_mm=58).blocks
    assert isinstance(blk, Text) and blk.scale == 8


def test_empty_text_and_unscannable_barcodes_print_nothing() -> None:
    lay = TicketLayout.build([
        Line(""), Line(" \x1b\n "), BigText(""), QrCode(""),
        Barcode(""), Barcode("V 12"), Barcode("张三"), Barcode("A" * 21),
    ])
    assert lay.blocks == ()
    assert TicketLayout.build([Barcode("A" * 20)]).blocks == (Barcode("A" * 20),)


@pytest.mark.parametrize("paper", [58, 80])
def test_qr_modules_fit_the_paper(paper: int) -> None:
    long_url = URL + "Z" * 300
    short, long = TicketLayout.build([QrCode(URL), QrCode(long_url)], paper_mm=paper).blocks
    assert isinstance(short, Qr) and short.module_dots == {58: 6, 80: 8}[paper]
    assert isinstance(long, Qr) and long.module_dots < short.module_dots
    assert (qr_modules(long_url) + 2) * long.module_dots <= PAPER[paper][1]


@pytest.mark.parametrize("paper", [58, 80])
def test_every_line_fits_the_paper(paper: int) -> None:
    long_name = "儿童免疫规划疫苗接种与健康体检咨询服务（含乙肝、麻腮风、百白破）" * 4
    lay = TicketLayout.build(
        [Line(long_name, "center", scale=2, bold=True), Line("Very long English name " * 8)],
        paper_mm=paper,
    )
    cols = PAPER[paper][0]
    assert lay.columns == cols
    for blk in lay.blocks:
        assert isinstance(blk, Text)
        assert all(text_width(line) * blk.scale <= cols for line in blk.lines), blk
    assert "".join(lay.blocks[0].lines) == long_name  # type: ignore[union-attr]


def test_columns_and_dots_can_be_overridden() -> None:
    lay = TicketLayout.build([Line("x" * 50)], paper_mm=80, columns=42, dots=512)
    assert (lay.columns, lay.dots) == (42, 512)
    assert lay.blocks == (Text(("x" * 42, "x" * 8)),)


def test_layout_is_frozen_and_hashable() -> None:
    lay = TicketLayout.build([Line("V012")], label="V012")
    with pytest.raises(AttributeError):
        lay.label = "X"  # type: ignore[misc]
    assert hash(lay) == hash(TicketLayout.build([Line("V012")], label="V012"))


def test_bad_paper_size() -> None:
    with pytest.raises(ValueError):
        TicketLayout.build([Line("x")], paper_mm=76)


def test_control_characters_never_reach_the_layout() -> None:
    assert clean_text("A\x1b@B\x1dV\x00\nC\u200b") == "A@BV C"
    lay = TicketLayout.build([Line("A\x1b@B"), BigText("V\x1d1")], label="V\x1b1")
    assert lay.text().splitlines() == ["A@B", "V1"] and lay.label == "V1"


@given(st.text(max_size=120), st.integers(min_value=2, max_value=48))
def test_wrap_never_overflows_and_keeps_the_text(text: str, width: int) -> None:
    text = clean_text(text)
    lines = wrap(text, width)
    assert all(text_width(line) <= width for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
