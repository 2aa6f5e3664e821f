"""Tests of hardware.printer.layout: content, wrapping and widths of the ticket."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hardware.printer.layout import (
    PAPER,
    Barcode,
    Logo,
    Qr,
    Text,
    TicketLayout,
    clean_text,
    text_width,
    wrap,
)

URL = "http://127.0.0.1:5000/t/AbC123xyz"
TICKET = {
    "id": "t_1",
    "number": "V012",
    "service": "V",
    "service_name": "接种",
    "service_name_en": "Vaccination",
    "status": "waiting",
    "position": 3,
    "eta_minutes": 12,
    "counter": None,
    "booking_id": "b123",
    "slot": "09:00-09:30",
    "issued_at": "2026-11-27T09:01:02+08:00",
    "priority": False,
    "name_masked": "张*三",
}


def layout(paper: int = 80, **changes: object) -> TicketLayout:
    return TicketLayout.from_ticket(
        {**TICKET, **changes}, station_name="幸福社区卫生服务站", status_url=URL, paper_mm=paper
    )


def test_ticket_says_what_the_resident_needs() -> None:
    text = layout().text()
    for expected in (
        "幸福社区卫生服务站", "接种", "Vaccination", "V012", "张*三", "第 3 位",
        "约 12 分钟", "2026-11-27 09:01", "09:00-09:30", "过号请到服务台",
    ):
        assert expected in text
    assert [b for b in layout().blocks if isinstance(b, Qr)][0].payload == URL


def test_number_is_the_biggest_text() -> None:
    blocks = [b for b in layout().blocks if isinstance(b, Text)]
    biggest = max(blocks, key=lambda b: b.scale)
    assert biggest.lines == ("V012",) and biggest.scale >= 4


def test_chinese_only_leaves_english_out() -> None:
    text = TicketLayout.from_ticket(
        TICKET, station_name="站", status_url=URL, english=False
    ).text()
    assert "Vaccination" not in text and "Position" not in text and "接种" in text


def test_optional_parts() -> None:
    plain = layout(slot=None, name_masked=None, position=None, eta_minutes=None, issued_at=None)
    assert "预约" not in plain.text() and "排队位置" not in plain.text()
    assert not any(isinstance(b, Barcode | Logo) for b in plain.blocks)
    full = TicketLayout.from_ticket(
        TICKET, station_name="站", status_url=URL, show_barcode=True, logo_path="/x/logo.png"
    )
    assert Barcode("V012") in full.blocks and Logo("/x/logo.png") in full.blocks


@pytest.mark.parametrize("paper", [58, 80])
def test_every_line_fits_the_paper(paper: int) -> None:
    long_name = "儿童免疫规划疫苗接种与健康体检咨询服务（含乙肝、麻腮风、百白破）" * 4
    lay = layout(paper, service_name=long_name, service_name_en="Very long English name " * 8)
    cols = PAPER[paper][0]
    assert lay.columns == cols
    for blk in lay.blocks:
        if isinstance(blk, Text):
            assert all(text_width(line) * blk.scale <= cols for line in blk.lines), blk
    wrapped = [b for b in lay.blocks if isinstance(b, Text) and b.lines[0].startswith("儿童")][0]
    assert "".join(wrapped.lines) == long_name  # wrapped, nothing lost


def test_layout_is_frozen_and_hashable() -> None:
    lay = layout()
    with pytest.raises(AttributeError):
        lay.number = "X"  # type: ignore[misc]
    assert hash(lay) == hash(layout())


def test_bad_paper_size() -> None:
    with pytest.raises(ValueError):
        layout(paper=76)


def test_control_characters_never_reach_the_layout() -> None:
    assert clean_text("A\x1b@B\x1dV\x00\nC\u200b") == "A@BV C"


@given(st.text(max_size=120), st.integers(min_value=2, max_value=48))
def test_wrap_never_overflows_and_keeps_the_text(text: str, width: int) -> None:
    text = clean_text(text)
    lines = wrap(text, width)
    assert all(text_width(line) <= width for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
